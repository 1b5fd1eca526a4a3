"""The app factory: `create_app(config)` builds the Flask app from settings: error handlers, caches, blueprints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask import Flask

from server.core.config import Settings, load_settings
from server.web.errors import register_error_handlers
from server.web.fair_share import init_fair_share
from server.web.http_cache import init_http_cache
from server.web.result_cache import init_result_cache
from server.web.sparql_fast import FastProtocol

if TYPE_CHECKING:
    from server.web.share_table import FairShare


def create_app(
    config: Settings | Mapping[str, Any] | None = None, fair_share: FairShare | None = None
) -> Flask:
    """Build the Flask app: settings, store access, blueprints, error handlers; `fair_share`: the workers' shared table."""
    settings = config if isinstance(config, Settings) else load_settings(config)
    app = Flask(__name__)
    app.config["CDV"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    register_error_handlers(app)
    # Innermost WSGI layer: plain SPARQL queries skip Flask's dispatch; the cache and the log see no difference.
    app.wsgi_app = FastProtocol(app, app.wsgi_app)  # type: ignore[method-assign]
    init_result_cache(app)  # first: the access log (system.init_app) wraps it and logs hits too
    _register_blueprints(app)
    init_http_cache(app)
    init_fair_share(app, fair_share)  # last: its ProxyFix (trusted proxies) wraps the access log
    return app


def _register_blueprints(app: Flask) -> None:
    """Each blueprint owns one part of the service."""
    from server.web import assets, catalog, pages, queries_api, query_pages, search, sparql, system

    system.init_app(app)  # /health, CORS, access log
    for module in (queries_api, query_pages, pages, catalog, sparql, search, assets):
        app.register_blueprint(module.bp)
