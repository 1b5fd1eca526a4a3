"""Who a client is, and its fair share of the query processes across every server worker (429 past it).

A route that runs a user's query on the engine calls `admit()` first: the query takes a slot of its client
(refused with 429 and `Retry-After` past the client's limits, server/core/fairness.py) until its answer is
made, or, for a streamed answer, sent to its end (`call_on_close`). Answers from the result cache never
reach a view: they cost nothing and count for nothing.

The client is the peer address, or, with `Settings.trusted_proxies = N`, the address N proxies in front wrote
in `X-Forwarded-For` (werkzeug's `ProxyFix`, put around the whole app so that the access log shows it too);
without it the header is ignored, so a client cannot dodge its limits by writing one.

The table is shared by the gunicorn workers through a memory mapping made when the app is made, in the
master (`preload_app`), and inherited by every worker it forks, later ones (a new build) included. Written by
hand: no well-kept library keeps counters across processes without a server of its own (the `limits` package
behind Flask-Limiter counts in memory per process, or in Redis, Memcached, MongoDB or etcd), and a budget of
query *time* with slots freed when an answer ends is not a request rate. The mapping is of an unlinked
temporary file so that `fcntl` can lock it: the kernel frees such a lock when its process dies, where a
`multiprocessing.Lock` held by a killed worker would stay held forever.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache

from flask import Flask, Response, after_this_request, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response as BaseResponse

from server.core.config import Settings
from server.core.errors import TooManyRequests
from server.core.fairness import Limits, Refusal, Table, Ticket, client_id, client_key, refusal_message
from server.web.system import LOG_ENVIRON_KEY

EXTENSION = "cdv.fair_share"
KEYS_CACHED = 4096  # client addresses whose table key each process keeps


def limits(settings: Settings) -> Limits:
    """Each client's limits under these settings."""
    return Limits(settings.client_in_flight, settings.client_budget, settings.query_timeout)


class FairShare:
    """The client table in memory shared by this process and every process forked from it."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock  # CLOCK_MONOTONIC is one clock for every process of the machine
        self._secret = os.urandom(16)
        # a client sends many queries: parse its address and hash it once (a few µs of each request's CPU)
        self._key = lru_cache(maxsize=KEYS_CACHED)(self._client_key)
        self._fd = _unlinked_file(Table.size(limits))
        weakref.finalize(self, os.close, self._fd)
        self.table = Table(mmap.mmap(self._fd, Table.size(limits)), limits)
        self._threads = threading.Lock()
        self._pid = os.getpid()

    def key(self, address: str) -> int:
        """The table's key of the client at `address`."""
        return self._key(address)

    def _client_key(self, address: str) -> int:
        return client_key(client_id(address), self._secret)

    def usage(self, address: str) -> tuple[int, float]:
        """The queries in flight and seconds of query time in the window of the client at `address`."""
        with self._locked():
            return self.table.usage(self.key(address), self.clock())

    def admit(self, address: str) -> Ticket:
        """A slot for a query of the client at `address`; TooManyRequests past its limits."""
        key = self.key(address)
        with self._locked():
            outcome = self.table.admit(key, self.clock())
        if isinstance(outcome, Refusal):
            raise TooManyRequests(refusal_message(outcome, self.limits), retry_after=outcome.retry_after)
        return outcome

    def release(self, ticket: Ticket) -> None:
        """Free a ticket's slot and charge its time."""
        with self._locked():
            self.table.release(ticket, self.clock())

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the table: first among this process's threads (an fcntl lock is the process's), then across."""
        if self._pid != os.getpid():  # forked: a thread of the parent may have held the lock at the fork
            self._threads, self._pid = threading.Lock(), os.getpid()
        with self._threads:
            fcntl.lockf(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.lockf(self._fd, fcntl.LOCK_UN)


def _unlinked_file(size: int) -> int:
    """A descriptor of a zeroed temporary file of `size` bytes that no path names (gone with its last user)."""
    fd, path = tempfile.mkstemp(prefix="cdv-fair-share-")
    os.unlink(path)
    os.ftruncate(fd, size)
    return fd


def init_fair_share(app: Flask) -> None:
    """Make the shared table (before gunicorn forks) and, behind trusted proxies, read their X-Forwarded-For."""
    settings: Settings = app.config["CDV"]
    app.extensions[EXTENSION] = FairShare(limits(settings))
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
    """Free the slot once the answer is made, or, streamed, once its last chunk is sent."""
    if response.is_streamed:  # the query process works until the last chunk is sent
        response.call_on_close(lambda: share.release(ticket))
    else:  # the work is done: free the slot now rather than when the server closes the body
        share.release(ticket)
