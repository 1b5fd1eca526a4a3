"""The SPARQL protocol's query operation below Flask: the same code as /sparql, without Flask's dispatch.

Why by hand: in a server worker, Flask's request dispatch and its after-request hooks (CORS, validators,
compression, conditional requests, the build header) cost as much CPU as everything else on a small query's
path (issue 19; figures in benchmarks/README.md). A query request that needs nothing those hooks decide per
request is answered here, by `sparql.answer` (the view's own code), with the headers the hooks would add
computed by the same functions (`http_cache.validators`, `system.common_headers`). Every other request goes
on to Flask unchanged: compression asked (`Accept-Encoding`), conditional or range headers, HEAD, OPTIONS
(CORS preflight), a browser asking for the editor, no query (service description). A test compares the
answers of both paths header by header (tests/test_sparql_fast.py).

The middleware sits inside the result cache and the access log (server/web/app.py), which see it as Flask.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.wrappers import Request, Response

from server.core.errors import DomainError, NotAcceptable
from server.engine import Engine
from server.web import sparql
from server.web.errors import error_response, unexpected_response
from server.web.fair_share import EXTENSION as FAIR_SHARE
from server.web.http_cache import STABLE_ENVIRON_KEY, current_build_id, validators
from server.web.system import common_headers

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Request headers that make Flask's hooks answer differently: compression, conditional requests, ranges.
_FLASK_HEADERS = (
    "HTTP_ACCEPT_ENCODING",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_RANGE",
)
_IDENTITY = ("", "identity")


def takes(environ: dict[str, Any]) -> bool:
    """Whether this request is a query that the fast path answers exactly as Flask would (pure)."""
    if environ.get("PATH_INFO") != "/sparql":
        return False
    method = environ.get("REQUEST_METHOD")
    if method not in ("GET", "POST"):
        return False
    for key in _FLASK_HEADERS:
        value = environ.get(key)
        if value is not None and (key != "HTTP_ACCEPT_ENCODING" or value.strip().lower() not in _IDENTITY):
            return False
    if method == "POST":
        return True
    query_string = environ.get("QUERY_STRING", "")
    return "query=" in query_string and not _wants_editor(environ.get("HTTP_ACCEPT"))


def _wants_editor(accept: str | None) -> bool:
    """The view's test; an Accept header nothing matches is left to the view (its 406 names HTML too)."""
    try:
        return sparql.wants_editor(accept)
    except NotAcceptable:
        return True


class FastProtocol:
    """WSGI middleware answering plain SPARQL query requests itself, and passing everything else to `inner`."""

    def __init__(self, app: Flask, inner: WsgiApp) -> None:
        self.app = app
        self.inner = inner

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not takes(environ):
            return self.inner(environ, start_response)
        req = Request(environ)
        if req.method == "GET" and "query" not in req.args:  # e.g. ?myquery=…: the service description
            return self.inner(environ, start_response)
        return self._respond(req)(environ, start_response)

    def _respond(self, req: Request) -> Response:
        """The answer to a query request, or its error, in the order and with the headers of Flask's path."""
        cfg = self.app.config["CDV"]
        store: Engine | None = None
        try:
            protocol = sparql.read_request(req, cfg.max_body_bytes)
            store = sparql.published_engine(self.app)
            share = self.app.extensions[FAIR_SHARE]
            response = sparql.answer(req, protocol, cfg, store, sparql.endpoint_url(req, cfg), share)
        except DomainError as err:
            response = error_response(err)
        except Exception:  # what Flask's last error handler does: log it, never show a trace
            response = unexpected_response()
        build_id = store.build_id if store is not None else current_build_id(self.app)
        if build_id is not None and validators(response, req, build_id, cfg.project_root):
            req.environ[STABLE_ENVIRON_KEY] = build_id
        common_headers(response, build_id)
        return response
