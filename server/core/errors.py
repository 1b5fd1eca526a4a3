"""Errors of the domain: what went wrong, in words a client can act on; no status code, no HTTP.

The web part gives each kind its HTTP status in one table (server/web/errors.py); the CLI prints the message.
A query process sends an error to its server worker by kind name (`DomainError.kind`), and the worker raises
the same kind again (`from_kind`).
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """An error reported to the client as a plain message; `retry_after`: seconds worth waiting, if any."""

    kinds: ClassVar[dict[str, type[DomainError]]] = {}

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        DomainError.kinds[cls.__name__] = cls

    @property
    def kind(self) -> str:
        """The name this error travels under between processes."""
        return type(self).__name__


def from_kind(kind: str, message: str) -> DomainError:
    """The error of kind `kind` (a class name of this hierarchy), or a plain QueryFailed for an unknown one."""
    return DomainError.kinds.get(kind, QueryFailed)(message)


class ClientError(DomainError):
    """The request is wrong: malformed, contradictory or out of bounds."""


class Refused(ClientError):
    """A well-formed request this read-only, non-federating service will not serve."""


class NotFound(DomainError):
    """Nothing has that name."""


class NotAcceptable(DomainError):
    """Nothing the client accepts can be produced."""


class UnsupportedMediaType(DomainError):
    """The request body's media type is not one the route reads."""


class PayloadTooLarge(DomainError):
    """The request is over a size limit."""


class TooManyRequests(DomainError):
    """This client has used its share: too many queries at once, or its query time of the last minute."""


class Unavailable(DomainError):
    """The service cannot answer now: a time limit, a busy or unreachable engine, nothing published."""


class QueryFailed(DomainError):
    """The query could not be evaluated: an error of the engine, not of the request."""


class BuildError(Exception):
    """The data is invalid: nothing was published. `report` is the validation report, when there is one."""

    def __init__(self, message: str, report: object | None = None) -> None:
        super().__init__(message)
        self.report = report
