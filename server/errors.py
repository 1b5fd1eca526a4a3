"""Errors of the domain, and the one place where they become HTTP responses."""

from __future__ import annotations

import logging

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from .release import NoRelease

log = logging.getLogger("cdv")


class ClientError(Exception):
    """A request the server understood but will not serve: a status and a plain message."""

    status = 400

    def __init__(
        self, message: str, status: int | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.headers = headers or {}


class NotAcceptable(ClientError):
    """Nothing the client accepts can be produced."""

    status = 406


class UnsupportedMediaType(ClientError):
    """The request body's media type is not one the route reads."""

    status = 415


class PayloadTooLarge(ClientError):
    """The request is over a size limit."""

    status = 413


def _plain(message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    response = Response(message.rstrip("\n") + "\n", status=status, mimetype="text/plain")
    response.headers.update(headers or {})
    return response


def register_error_handlers(app: Flask) -> None:
    """Turn domain errors and HTTP errors into plain-text answers; never a stack trace."""

    @app.errorhandler(ClientError)
    def _client_error(err: ClientError) -> Response:
        return _plain(err.message, err.status, err.headers)

    @app.errorhandler(NoRelease)
    def _no_release(err: NoRelease) -> Response:
        return _plain(f"503 Service Unavailable: {err}", 503, {"Retry-After": "60"})

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> Response:
        response = _plain(f"{err.code} {err.name}: {err.description}", err.code or 500)
        if err.code == 405 and err.response is None:
            allowed = getattr(err, "valid_methods", None)
            if allowed:
                response.headers["Allow"] = ", ".join(allowed)
        return response

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Response:
        log.exception("unexpected error")
        return _plain("500 Internal Server Error: the error was logged.", 500)
