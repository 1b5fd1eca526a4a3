"""Who a client is, and its fair share of the query processes across every server worker (429 past it).

A route that runs a user's query on the engine calls `admit()` first: the query takes a slot of its client
(refused with 429 and `Retry-After` past the client's limits, server/core/fairness.py) until its answer is
made, or, for a streamed answer, until its last chunk has been handed to the server (`_HeldUntilSent`).
Answers from the result cache never reach a view: they cost nothing and count for nothing.

The client is the peer address, or, with `Settings.trusted_proxies = N`, the address N proxies in front wrote
in `X-Forwarded-For` (werkzeug's `ProxyFix`, put around the whole app so that the access log shows it too);
without it the header is ignored, so a client cannot dodge its limits by writing one.

The table (server/web/share_table.py) is shared by the gunicorn workers: gunicorn's master makes it before
it forks them (server/web/serve.py) and each worker's app adopts it; an app made alone (tests, `--dev`)
makes its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from flask import Flask, Response, after_this_request, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response as BaseResponse

from server.core.config import Settings
from server.core.errors import TooManyRequests
from server.core.fairness import Ticket
from server.web.share_table import FairShare, limits
from server.web.system import LOG_ENVIRON_KEY

EXTENSION = "cdv.fair_share"


def init_fair_share(app: Flask, shared: FairShare | None = None) -> None:
    """Count on the `shared` table, else on one of the app's own; behind trusted proxies, read X-Forwarded-For."""
    settings: Settings = app.config["CDV"]
    app.extensions[EXTENSION] = shared if shared is not None else FairShare(limits(settings))
    if settings.trusted_proxies > 0:  # last: around the access log, which then logs the client's address
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)  # type: ignore[method-assign]


def admit() -> None:
    """Count this request's query against its client's share until its answer is sent; 429 past the share."""
    share: FairShare = current_app.extensions[EXTENSION]
    ticket = take(share, request)

    @after_this_request
    def _release_when_sent(response: Response) -> Response:
        hold_until_sent(response, share, ticket)
        return response


def take(share: FairShare, req: Request) -> Ticket:
    """A slot of the share of the request's client (also below Flask: server/web/sparql_fast.py); 429 past it."""
    try:
        return share.admit(req.remote_addr or "-")
    except TooManyRequests:
        req.environ.setdefault(LOG_ENVIRON_KEY, {})["refused"] = "fair share"
        raise


def hold_until_sent(response: BaseResponse, share: FairShare, ticket: Ticket) -> None:
    """Free the slot once the answer is made, or, streamed, once its last chunk is handed to the server."""
    if response.is_streamed:  # the query process works until the last chunk is sent
        response.response = _HeldUntilSent(response.response, lambda: share.release(ticket))
    else:  # the work is done: free the slot now rather than when the server closes the body
        share.release(ticket)


class _HeldUntilSent:
    """A streamed body that frees its slot when its chunks run out, or when it is closed before that.

    Not on close alone: a server closes the body only after it has ended the response (gunicorn writes the
    last empty chunk, then logs, then closes), so a client could read the end and have its next query, on
    another connection, refused for a slot not yet freed. When the chunks run out, the server has sent every
    one before it and has yet to write the end: the slot is free before the client can see the answer end.
    """

    def __init__(self, chunks: Iterable[bytes], release: Callable[[], None]) -> None:
        self._chunks = chunks
        self._iterator = iter(chunks)
        self._release: Callable[[], None] | None = release

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        # A stream cut short raises something else: its slot is freed when the server closes it
        try:
            return next(self._iterator)
        except StopIteration:
            self._free()
            raise

    def close(self) -> None:
        """Close the chunks (a stream not run out stops its query process), then free the slot if still held."""
        try:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()
        finally:
            self._free()

    def _free(self) -> None:
        """Free the slot once: a second release would charge the query's time twice."""
        release, self._release = self._release, None
        if release is not None:
            release()
