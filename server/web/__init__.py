"""The web service: the app factory (`web.app.create_app`), one blueprint per part of the site, templates,
static files, HTTP errors (`web.errors`, the one place a domain error gets a status), HTTP and result caches,
the access log, and the gunicorn runner (`web.serve`).

May use: core, engine, build (release files). Never opens a store: it asks `engine.open_engine`.
"""
