"""Run user SPARQL queries under a time limit that truly stops the work: in child processes that can be killed.

pyoxigraph offers no way to cancel a running query from Python. So each server worker keeps a small pool of
warm query processes (`Settings.query_workers`, see server/engine/query_process.py), each a fresh Python
(`subprocess`, no fork of the threaded server process) that imports only pyoxigraph and the query loop, has
the published store open read-only and runs one query at a time, sending its results back in chunks over a
socket pair. The server worker inspects each query first (`sparql_guard`: SERVICE refused, FROM noted), so
the children never load rdflib's parser. The parent waits for the first chunk, the whole result or an error before it answers,
so the status code is always the right one, then streams the remaining chunks to the client. At the
deadline the parent kills the child (SIGKILL: its CPU is freed at once, whatever the query was doing) and
forks a fresh one.

`Settings.query_workers = 0` runs queries in the server process instead (no time limit: for development
and to measure the cost of the child processes).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import math
import os
import queue
import select
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import NoReturn, Protocol

import pyoxigraph as ox

from server.core import sparql_formats as formats
from server.core import sparql_guard as guard
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
    error_text,
    start,
)

log = logging.getLogger("cdv.executor")

CHILD_MAIN = "from server.engine.query_process import main; main()"


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


def inspected(job: Job) -> Job:
    """The job once its query is inspected: QueryRefused for SERVICE, FROM / FROM NAMED noted."""
    return replace(job, names_dataset=guard.inspect(job.query).names_dataset)


def explained(job: Job, err: guard.QuerySyntaxError) -> guard.QuerySyntaxError | guard.QueryRefused:
    """A syntax error, or the refusal of SPARQL Update when that is what the text is (a clearer message)."""
    return guard.QueryRefused(guard.UPDATE_REFUSED) if guard.is_update(job.query) else err


def run_in_process(store: ox.Store, job: Job) -> Result:
    """Run a job in this process, without time limit; the whole result in memory."""
    try:
        form, media_type, result = start(store, inspected(job))
    except guard.QuerySyntaxError as err:
        raise explained(job, err) from None
    try:
        body = result.serialize(format=formats.serialiser(form, media_type))
    except (OSError, RuntimeError, ValueError) as err:
        raise QueryFailed(f"the query could not be evaluated: {error_text(err)}") from None
    return Result(form, body=body)


def spawn_child(
    store_path: Path, chunk_bytes: int = CHUNK_BYTES
) -> tuple[subprocess.Popen[bytes], Connection]:
    """Start a query child on `store_path`: the process and the parent's end of its socket pair.

    A fresh interpreter rather than a fork: forking a threaded server process is unsafe, and a fork server
    (multiprocessing's) costs two more resident processes per server worker. The child gets this process's
    import path, so it runs the same code whether the project is installed or run from a checkout.
    """
    parent_end, child_end = socket.socketpair()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    try:
        process = subprocess.Popen(  # our own interpreter and module, no shell
            [sys.executable, "-c", CHILD_MAIN, str(child_end.fileno()), str(store_path), str(chunk_bytes)],
            pass_fds=(child_end.fileno(),),
            stdin=subprocess.DEVNULL,
            env=env,
        )
    finally:
        child_end.close()  # else the parent would never see EOF when the child dies
    return process, Connection(parent_end.detach())


# --- the parent side: a pool of children -----------------------------------------------------------------


class _Expired(Exception):
    """The deadline passed while waiting for a child."""


@dataclass
class _Child:
    """A query child and the parent's end of its pipe."""

    process: subprocess.Popen[bytes]
    conn: Connection
    ready: bool = False  # its READY message was read: the store is open
    # One poll object per child, registered once: Connection.poll builds a selector at each call (the wait
    # for an answer is on every query's path).
    poller: select.poll = field(default_factory=select.poll)

    def __post_init__(self) -> None:
        self.poller.register(self.conn.fileno(), select.POLLIN)

    def wait(self, seconds: float) -> bool:
        """Whether the child said something (or closed its end) within `seconds`."""
        return bool(self.poller.poll(max(math.ceil(seconds * 1000), 0)))

    def alive(self) -> bool:
        """Whether an idle child still runs: a ready, idle child sends nothing, so anything readable is its EOF."""
        return not (self.ready and self.wait(0))


class ProcessPool:
    """`size` warm query children for this server worker; jobs wait for a free one until their deadline."""

    def __init__(self, store_path: Path, size: int, timeout: float, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.store_path = store_path
        self.chunk_bytes = chunk_bytes
        self.size = size
        self.timeout = timeout
        self._idle: queue.SimpleQueue[_Child] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._children: dict[int, _Child] = {}  # every live child, idle or busy
        # A pool dropped without close() (a test's app, an interpreter exiting) still stops its children.
        self._finalizer = weakref.finalize(self, _stop_all, self._children)
        self._closed = False
        for _ in range(size):
            self._idle.put(self._spawn())

    def pids(self) -> list[int]:
        """The process ids of the live children."""
        with self._lock:
            return sorted(self._children)

    def _spawn(self) -> _Child:
        """Start a new child; it opens the store and says READY on its own."""
        process, conn = spawn_child(self.store_path, self.chunk_bytes)
        child = _Child(process, conn)
        with self._lock:
            self._children[process.pid] = child
        return child

    def _acquire(self, deadline: float) -> _Child:
        """A free, live child; QueryTimeout when none is free by `deadline`."""
        while True:
            try:
                child = self._idle.get(timeout=max(deadline - time.monotonic(), 0.001))
            except queue.Empty:
                raise QueryTimeout(self._busy()) from None
            if child.alive():
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
        with contextlib.suppress(subprocess.TimeoutExpired):  # not reaped yet: SIGKILL still ends it
            child.process.wait(timeout=5)
        child.conn.close()
        with self._lock:
            self._children.pop(pid, None)
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
        if remaining <= 0 or not child.wait(remaining):
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
        job = inspected(job)  # before taking a child: a refused query costs none
        try:
            return self._run(job, deadline)
        except guard.QuerySyntaxError as err:
            raise explained(job, err) from None

    def _run(self, job: Job, deadline: float) -> Result:
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
        self._finalizer()


def _stop_all(children: dict[int, _Child]) -> None:
    """Close every child's socket (an idle child sees EOF and exits), then kill those still running after 2 s."""
    stopping = list(children.values())
    children.clear()
    for child in stopping:
        child.conn.close()
    deadline = time.monotonic() + 2
    for child in stopping:
        try:
            child.process.wait(timeout=max(deadline - time.monotonic(), 0.01))
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait()


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
