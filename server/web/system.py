"""What every route shares: `/health`, CORS for read access, and the access log (one line per request)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, send_from_directory
from flask_cors import CORS
from werkzeug.wrappers import Response as BaseResponse

from server.engine.release import NoRelease

bp = Blueprint("system", __name__)
access_log = logging.getLogger("cdv.access")

CORS_MAX_AGE = 86_400  # seconds a browser may cache a preflight answer
LOG_ENVIRON_KEY = (
    "cdv.log"  # routes add fields to the access-log line through request.environ[LOG_ENVIRON_KEY]
)
BUILD_HEADER = "X-Cdv-Build"  # the build every answer was computed from (the store this process serves)
CORS_ORIGIN = "*"
CORS_EXPOSED = [
    "Retry-After",
    BUILD_HEADER,
]  # sorted, as flask-cors writes them; Retry-After: a 429 says when


def init_app(app: Flask) -> None:
    """CORS for read access on every route, the access log around the whole app, the /health route."""
    # Public, read-only open data: any origin may read, no credentials ever; POST is a read here (SPARQL
    # queries by form or body), so it is allowed and its preflight (Content-Type: application/sparql-query)
    # is answered by flask-cors.
    CORS(
        app,
        origins=CORS_ORIGIN,
        send_wildcard=True,
        methods=["GET", "HEAD", "POST", "OPTIONS"],
        allow_headers=["Accept", "Accept-Language", "Content-Type"],
        max_age=CORS_MAX_AGE,
        supports_credentials=False,
        expose_headers=CORS_EXPOSED,
    )
    app.after_request(_build_header)
    app.wsgi_app = AccessLog(app.wsgi_app)  # type: ignore[method-assign]
    app.register_blueprint(bp)


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The site's icon where browsers look for it without a <link rel=icon> (an SVG: every current browser
    reads it there, and it is our own drawing, small and sharp at any size)."""
    return send_from_directory(
        current_app.static_folder or "static", "favicon.svg", mimetype="image/svg+xml", max_age=86_400
    )


@bp.get("/health")
def health() -> tuple[Response, int]:
    """200 with the store's figures once a build is published and open; 503 otherwise."""
    from server import __version__
    from server.web.context import engine

    state = current_app.extensions.setdefault("cdv.health", {})
    try:
        store = engine()
        if state.get("build") != store.build_id:  # the store never changes under a process: count once
            state.update(build=store.build_id, triples=store.triple_count())
    except (NoRelease, OSError) as err:
        return jsonify(status="unavailable", message=str(err), version=__version__), 503
    return jsonify(status="ok", triples=state["triples"], build=state["build"], version=__version__), 200


def _build_header(response: Response) -> Response:
    """Name the build this process serves on every response, so a client can tell answers of two builds apart.

    A worker serves one build for its whole life (it opens the store once; a new build is served by new
    workers, server/web/serve.py), so its build id is the one every answer of this worker was computed from.
    No header while nothing is published.
    """
    from server.web.http_cache import current_build_id

    build_id = current_build_id()
    if build_id:
        response.headers[BUILD_HEADER] = build_id
    return response


def common_headers(response: BaseResponse, build_id: str | None) -> None:
    """Add what the app-wide hooks add to every answer of a simple request (not a preflight), for the SPARQL
    path below Flask (server/web/sparql_fast.py): CORS (flask-cors with the settings above: the wildcard
    origin, the exposed headers), the build header, and `Vary: Accept-Encoding` (Flask-Compress names it on
    every answer, compressed or not)."""
    vary = response.headers.get("Vary")
    if not vary:
        response.headers["Vary"] = "Accept-Encoding"
    elif "accept-encoding" not in vary.lower():
        response.headers["Vary"] = f"{vary}, Accept-Encoding"
    if build_id:
        response.headers[BUILD_HEADER] = build_id
    response.headers["Access-Control-Allow-Origin"] = CORS_ORIGIN
    response.headers["Access-Control-Expose-Headers"] = ", ".join(CORS_EXPOSED)


class AccessLog:
    """WSGI middleware: one log line per request, written when its body is finished (or cut).

    By hand because the line must come after a streamed body ends, with the route's own fields (the query,
    its outcome): gunicorn's access log sees neither the text of a POSTed query nor why a stream was cut.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        status: list[str] = ["-"]

        def _start(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status[0] = code.split(" ", 1)[0]
            return start_response(code, headers, exc_info)

        body = self.app(environ, _start)
        file_wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(file_wrapper, type) and isinstance(body, file_wrapper):
            # A file the server sends by itself (sendfile): wrapping it would turn that off; log it now.
            access_log.info(log_line(environ, status[0], None, started, None))
            return body
        return _LoggedBody(body, environ, status, started)


class _LoggedBody:
    """The response body, passed through; logs the request line when the server closes it."""

    def __init__(self, body: Iterable[bytes], environ: dict[str, Any], status: list[str], started: float):
        self._body, self._environ, self._status, self._started = body, environ, status, started
        self._sent = 0
        self._error: str | None = None

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._body:
                self._sent += len(chunk)
                yield chunk
        except Exception as err:
            self._error = str(err)
            raise

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            access_log.info(log_line(self._environ, self._status[0], self._sent, self._started, self._error))


def log_line(
    environ: dict[str, Any], status: str, sent: int | None, started: float, error: str | None
) -> str:
    """`client "METHOD path" status bytes duration` then the route's fields as key=JSON value."""
    path = environ.get("PATH_INFO", "")
    if environ.get("QUERY_STRING"):
        path += "?" + environ["QUERY_STRING"]
    fields: dict[str, Any] = dict(environ.get(LOG_ENVIRON_KEY) or {})
    if error:
        fields["aborted"] = error
    extra = "".join(f" {key}={json.dumps(value, ensure_ascii=False)}" for key, value in fields.items())
    return (
        f'{environ.get("REMOTE_ADDR", "-")} "{environ.get("REQUEST_METHOD", "-")} {_clip(path, 300)}" '
        f"{status} {'-' if sent is None else sent}B {(time.perf_counter() - started) * 1000:.1f}ms{extra}"
    )


def _clip(text: str, limit: int) -> str:
    """At most `limit` characters, without control characters (no forged log lines)."""
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
