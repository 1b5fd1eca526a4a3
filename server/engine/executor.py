"""Run user SPARQL queries under a time limit that truly stops the work: in child processes that can be killed.

pyoxigraph offers no way to cancel a running query from Python. So each server worker keeps a small pool of
warm query processes (`Settings.query_workers`, see server/engine/query_process.py), forked from a fork server;
each has the published store open read-only and runs one query at a time, sending its results back in
chunks over a pipe. The parent waits for the first chunk, the whole result or an error before it answers,
so the status code is always the right one, then streams the remaining chunks to the client. At the
deadline the parent kills the child (SIGKILL: its CPU is freed at once, whatever the query was doing) and
forks a fresh one.

`Settings.query_workers = 0` runs queries in the server process instead (no time limit: for development
and to measure the cost of the child processes).
"""

from __future__ import annotations

import errno
import json
import logging
import multiprocessing
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import NoReturn, Protocol

import pyoxigraph as ox

from server.core import sparql_formats as formats
from server.core.errors import QueryFailed, Unavailable, from_kind
from server.engine.query_process import (
    CHUNK,
    CHUNK_BYTES,
    COMPLETE,
    END,
    HEAD,
    READY,
    UNACCEPTABLE,
    Job,
    Unacceptable,
    child_main,
    error_text,
    start,
)

log = logging.getLogger("cdv.executor")

PRELOAD = ["server.engine.query_process", "rdflib.plugins.sparql.parser"]  # imported once, by the fork server


@dataclass
class Result:
    """A query's answer: its form, and its bytes either whole (`body`) or as a stream (`chunks`)."""

    form: str
    body: bytes | None = None
    chunks: Iterator[bytes] | None = None


class QueryTimeout(Unavailable):
    """The query did not finish within the time limit (503: what Fuseki and Virtuoso answer too)."""


class StreamAborted(ConnectionResetError):
    """Results stopped after the response had begun (time limit, failure): the connection is cut.

    A ConnectionResetError so that gunicorn closes the connection without the final empty chunk and without
    logging a stack trace: the client sees an incomplete chunked body, never a silently truncated result.
    The access log records the reason.
    """

    def __init__(self, message: str) -> None:
        super().__init__(errno.ECONNRESET, message)


class Executor(Protocol):
    """Runs jobs; `run` raises DomainError kinds (QueryTimeout among them) or Unacceptable."""

    def run(self, job: Job, deadline: float) -> Result: ...

    def close(self) -> None: ...


def run_in_process(store: ox.Store, job: Job) -> Result:
    """Run a job in this process, without time limit; the whole result in memory."""
    form, media_type, result = start(store, job)
    try:
        body = result.serialize(format=formats.serialiser(form, media_type))
    except (OSError, RuntimeError, ValueError) as err:
        raise QueryFailed(f"the query could not be evaluated: {error_text(err)}") from None
    return Result(form, body=body)


# --- the parent side: a pool of children -----------------------------------------------------------------


class _Expired(Exception):
    """The deadline passed while waiting for a child."""


@dataclass
class _Child:
    """A query child and the parent's end of its pipe."""

    process: BaseProcess
    conn: Connection
    ready: bool = False  # its READY message was read: the store is open, the parser warm


class ProcessPool:
    """`size` warm query children for this server worker; jobs wait for a free one until their deadline."""

    def __init__(self, store_path: Path, size: int, timeout: float, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.store_path = store_path
        self.chunk_bytes = chunk_bytes
        self.size = size
        self.timeout = timeout
        # Children are forked from a small single-threaded "fork server" process that has already imported
        # pyoxigraph and the query parser: a new child (at start, after a timeout) is ready in milliseconds,
        # and the threaded server process itself is never forked.
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(PRELOAD)
        self._idle: queue.SimpleQueue[_Child] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._children: set[int] = set()
        self._closed = False
        for _ in range(size):
            self._idle.put(self._spawn())

    def pids(self) -> list[int]:
        """The process ids of the live children."""
        with self._lock:
            return sorted(self._children)

    def _spawn(self) -> _Child:
        """Fork a new child from the fork server; it opens the store and says READY on its own."""
        parent_end, child_end = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=child_main,
            args=(child_end, str(self.store_path), self.chunk_bytes),
            name="cdv-query",
            daemon=True,
        )
        process.start()
        child_end.close()  # else the parent would never see EOF when the child dies
        with self._lock:
            self._children.add(process.pid or 0)
        return _Child(process, parent_end)

    def _acquire(self, deadline: float) -> _Child:
        """A free, live child; QueryTimeout when none is free by `deadline`."""
        while True:
            try:
                child = self._idle.get(timeout=max(deadline - time.monotonic(), 0.001))
            except queue.Empty:
                raise QueryTimeout(self._busy()) from None
            if child.process.is_alive():
                return child
            self._discard(child, "found dead")

    def _busy(self) -> str:
        """The message of a query that found no free child in time."""
        return (
            f"the server is busy: no query worker became free within the time limit of {self.timeout:g} s. "
            "Try again later."
        )

    def _release(self, child: _Child) -> None:
        """Give a child that finished its job back to the pool."""
        self._idle.put(child)

    def _discard(self, child: _Child, reason: str) -> None:
        """Kill a child (SIGKILL frees its CPU at once), reap it, and start a fresh one."""
        pid = child.process.pid
        child.process.kill()
        child.process.join(timeout=5)
        child.conn.close()
        with self._lock:
            self._children.discard(pid or 0)
            closed = self._closed
        log.warning("query worker %s stopped (%s)", pid, reason)
        if not closed:
            try:
                self._idle.put(self._spawn())
            except OSError:
                log.exception("could not start a query worker")

    def _receive(self, child: _Child, deadline: float) -> bytes:
        """The child's next message; _Expired at the deadline, EOFError if it died."""
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not child.conn.poll(remaining):
            raise _Expired
        return child.conn.recv_bytes()

    def _await_ready(self, child: _Child, deadline: float) -> None:
        """Read a new child's READY message (it comes once the store is open)."""
        if not child.ready:
            if self._receive(child, deadline) != READY:
                raise EOFError("unexpected message from a starting query worker")
            child.ready = True

    def warm_up(self, timeout: float = 60.0) -> None:
        """Wait until every child has opened the store, so the first queries do not wait for it."""
        deadline = time.monotonic() + timeout
        children = [self._acquire(deadline) for _ in range(self.size)]
        for child in children:
            try:
                self._await_ready(child, deadline)
            except (_Expired, EOFError, OSError):
                self._discard(child, "did not start")
                continue
            self._release(child)

    def run(self, job: Job, deadline: float) -> Result:
        """Run `job` in a free child; QueryTimeout if it has not answered by `deadline`."""
        child = self._acquire(deadline)
        try:
            self._await_ready(child, deadline)
        except _Expired:
            self._release(child)  # still starting: it will serve the next query
            raise QueryTimeout(self._busy()) from None
        except (EOFError, OSError):
            self._discard(child, "did not start")
            raise QueryFailed("no query worker could be started; the error was logged") from None
        try:
            child.conn.send(replace(job, budget=max(deadline - time.monotonic(), 0.0)))
            message = self._receive(child, deadline)
        except _Expired:
            self._discard(child, f"time limit of {self.timeout:g} s reached")
            raise QueryTimeout(
                f"the query did not finish within the time limit of {self.timeout:g} s and was stopped. "
                "Simplify it, add LIMIT, or run it on a copy of the data (see the dumps)."
            ) from None
        except (EOFError, OSError):
            self._discard(child, "crashed")
            raise QueryFailed("the query worker stopped unexpectedly while running this query") from None
        return self._answer(child, message, deadline)

    def _answer(self, child: _Child, message: bytes, deadline: float) -> Result:
        """Turn a child's first message into a Result (whole or streamed) or the error it reports."""
        tag, payload = message[:1], message[1:]
        if tag in COMPLETE:
            self._release(child)
            return Result(COMPLETE[tag], body=payload)
        if tag in HEAD:
            return Result(HEAD[tag], chunks=_Stream(self, child, payload, deadline))
        self._release(child)
        if tag == UNACCEPTABLE:
            raise Unacceptable(payload.decode())
        error = json.loads(payload)
        raise from_kind(error["kind"], error["message"])

    def close(self) -> None:
        """Stop every child (the server worker is exiting)."""
        with self._lock:
            self._closed = True
        while True:
            try:
                child = self._idle.get_nowait()
            except queue.Empty:
                return
            child.conn.close()  # the child sees EOF and exits
            child.process.join(timeout=2)
            if child.process.is_alive():
                child.process.kill()


class _Stream:
    """The chunks after the first, read under the deadline; the child goes back to the pool at the end.

    If the deadline passes, the child fails, or the client goes away mid-stream, the child is killed
    (nothing else can stop its work) and StreamAborted cuts the connection.
    """

    def __init__(self, pool: ProcessPool, child: _Child, first: bytes, deadline: float) -> None:
        self._pool, self._child, self._first, self._deadline = pool, child, first, deadline
        self._done = False

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._child is None:
            raise StopIteration
        if self._first:
            first, self._first = self._first, b""
            return first
        try:
            message = self._pool._receive(self._child, self._deadline)
        except _Expired:
            self._abort(f"time limit of {self._pool.timeout:g} s reached while streaming")
        except (EOFError, OSError):
            self._abort("the query worker stopped while streaming")
        if message[:1] == CHUNK:
            return message[1:]
        if message[:1] == END:
            self._done = True
            self.close()
            raise StopIteration
        self._abort(json.loads(message[1:])["message"])

    def _abort(self, reason: str) -> NoReturn:
        """Stop the child and cut the connection."""
        self.close()
        raise StreamAborted(f"results stopped: {reason}")

    def close(self) -> None:
        """Give the child back if the stream ended, else kill it; idempotent."""
        child, self._child = self._child, None
        if child is None:
            return
        if self._done:
            self._pool._release(child)
        else:
            self._pool._discard(child, "stream not finished")


class InProcess:
    """Run queries in the server process: no time limit (development, benchmarks of the overhead)."""

    def __init__(self, store: ox.Store) -> None:
        self._store = store

    def run(self, job: Job, deadline: float) -> Result:
        """Run the job now, in this thread; the deadline is not enforced."""
        return run_in_process(self._store, job)

    def close(self) -> None:
        """Nothing to stop."""
