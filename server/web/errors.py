"""The one place where errors become HTTP responses: a status for each domain error, plain text, no stack trace."""

from __future__ import annotations

import logging

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from server.core.errors import (
    ClientError,
    DomainError,
    NotAcceptable,
    NotFound,
    PayloadTooLarge,
    QueryFailed,
    Refused,
    TooManyRequests,
    Unavailable,
    UnsupportedMediaType,
)
from server.engine.release import NoRelease

log = logging.getLogger("cdv")

STATUS: dict[type[DomainError], int] = {
    ClientError: 400,
    Refused: 403,
    NotFound: 404,
    NotAcceptable: 406,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    TooManyRequests: 429,
    QueryFailed: 500,
    Unavailable: 503,
}
NO_RELEASE_RETRY = 60  # seconds: a first build takes about that long


def http_status(err: DomainError) -> int:
    """The status of a domain error: that of its nearest kind in STATUS."""
    return next(STATUS[kind] for kind in type(err).__mro__ if kind in STATUS)


def http_headers(err: DomainError) -> dict[str, str]:
    """The headers a domain error's response carries."""
    headers: dict[str, str] = {}
    if err.retry_after is not None:
        headers["Retry-After"] = str(err.retry_after)
    if isinstance(err, NotAcceptable):
        headers["Vary"] = "Accept"
    return headers


def error_response(err: DomainError) -> Response:
    """The plain-text answer to a domain error: its message, status and headers."""
    return _plain(err.message, http_status(err), http_headers(err))


def unexpected_response() -> Response:
    """The answer to a bug: a 500 that says the error was logged, never its trace."""
    log.exception("unexpected error")
    return _plain("500 Internal Server Error: the error was logged.", 500)


def _plain(message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    response = Response(message.rstrip("\n") + "\n", status=status, mimetype="text/plain")
    response.headers.update(headers or {})
    return response


def _wants_html() -> bool:
    """A browser asked (it names text/html before any other type): it gets the French page, not plain text."""
    accept = request.accept_mimetypes
    return accept.quality("text/html") > accept.quality("text/plain")


def register_error_handlers(app: Flask) -> None:
    """Turn domain errors and HTTP errors into plain-text answers; never a stack trace."""

    @app.errorhandler(DomainError)
    def _domain_error(err: DomainError) -> Response:
        return error_response(err)

    @app.errorhandler(NoRelease)
    def _no_release(err: NoRelease) -> Response:
        return _plain(f"503 Service Unavailable: {err}", 503, {"Retry-After": str(NO_RELEASE_RETRY)})

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> Response:
        if err.code == 404 and _wants_html():
            page = render_template("not-found.html", message=f"rien à l’adresse {request.path}")
            return Response(page, 404, mimetype="text/html")
        response = _plain(f"{err.code} {err.name}: {err.description}", err.code or 500)
        if err.code == 405 and err.response is None:
            allowed = getattr(err, "valid_methods", None)
            if allowed:
                response.headers["Allow"] = ", ".join(allowed)
        return response

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Response:
        return unexpected_response()
