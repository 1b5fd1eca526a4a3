"""The fair share's client table in memory shared by every server worker (no Flask here: gunicorn's master,
which imports no web stack, makes it before it forks the workers; server/web/fair_share.py is the Flask side).

Written by hand: no well-kept library keeps counters across processes without a server of its own (the
`limits` package behind Flask-Limiter counts in memory per process, or in Redis, Memcached, MongoDB or etcd),
and a budget of query *time* with slots freed when an answer ends is not a request rate. The mapping is of an
unlinked temporary file so that `fcntl` can lock it: the kernel frees such a lock when its process dies, where
a `multiprocessing.Lock` held by a killed worker would stay held forever. The secret that hashes client
addresses is made with the table, so every process forked from its maker gives a client the same record.
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

from server.core.config import Settings
from server.core.errors import TooManyRequests
from server.core.fairness import Limits, Refusal, Table, Ticket, client_id, client_key, refusal_message

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
