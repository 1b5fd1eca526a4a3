"""Run user SPARQL queries under a time limit that truly stops the work: in child processes that can be killed.

pyoxigraph offers no way to cancel a running query from Python. So a server keeps one pool of warm query
processes (`Settings.query_workers`, server/engine/query_pool.py), each a fresh Python that imports only
pyoxigraph and the query loop (server/engine/query_process.py), has the published store open read-only and
runs one query at a time. A server worker sends each query over its own connection to the pool's socket,
where the first free child takes it and sends its results back in chunks. The worker inspects each query
first (`sparql_guard`: SERVICE refused, FROM noted), so the children never load rdflib's parser. It waits
for the first chunk, the whole result or an error before it answers, so the status code is always the right
one, then streams the remaining chunks to the client. At the deadline the worker kills the child (SIGKILL:
its CPU is freed at once, whatever the query was doing) and the pool starts a fresh one.

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
import select
import signal
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import NoReturn, Protocol

import pyoxigraph as ox

from server.core import sparql_formats as formats
from server.core import sparql_guard as guard
from server.core.errors import QueryFailed, Unavailable, from_kind
from server.engine.query_pool import SYSTEM_ALLOCATOR, QueryPool
from server.engine.query_process import (
    CHUNK,
    COMPLETE,
    END,
    HEAD,
    UNACCEPTABLE,
    Job,
    Unacceptable,
    error_text,
    start,
)
from server.engine.query_wire import ACCEPTED, CHUNK_BYTES

log = logging.getLogger("cdv.executor")


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


# --- the worker side: a client of the server's pool -------------------------------------------------------


class _Expired(Exception):
    """The deadline passed while waiting for a child."""


class _Taken:
    """One query's connection to a child of the pool: the child's process id once it has taken the query."""

    def __init__(self, pool: QueryPool, sock: socket.socket) -> None:
        self.pool = pool
        self.conn = Connection(sock.detach())
        self.pid: int | None = None
        # One poll object per connection, registered once: Connection.poll builds a selector at each call.
        self._poller = select.poll()
        self._poller.register(self.conn.fileno(), select.POLLIN)

    def receive(self, deadline: float) -> bytes:
        """The child's next message; _Expired at the deadline, EOFError if it died."""
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not self._poller.poll(max(math.ceil(remaining * 1000), 0)):
            raise _Expired
        return self.conn.recv_bytes()

    def release(self) -> None:
        """Done with the child: closing the connection lets it take the next query."""
        self.conn.close()

    def kill(self, reason: str) -> None:
        """Stop the child's work now (SIGKILL frees its CPU at once); its pool starts a fresh one.

        Only while this connection is open and its answer not fully read: until then the child is this
        query's (it takes the next connection only after sending the end of this answer).
        """
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        self.conn.close()
        if self.pid is not None:
            log.warning("query worker %s stopped (%s)", self.pid, reason)
            self.pool.replaced(self.pid)


class PoolClient:
    """Run jobs on the children of a query pool (server/engine/query_pool.py): this process's or inherited."""

    def __init__(self, pool: QueryPool, timeout: float) -> None:
        self.pool = pool
        self.timeout = timeout

    def run(self, job: Job, deadline: float) -> Result:
        """Run `job` on the first free child; QueryTimeout if it has not answered by `deadline`."""
        job = inspected(job)  # before taking a child: a refused query costs none
        try:
            return self._run(job, deadline)
        except guard.QuerySyntaxError as err:
            raise explained(job, err) from None

    def _busy(self) -> QueryTimeout:
        """The error of a query that found no free child in time."""
        return QueryTimeout(
            f"the server is busy: no query worker became free within the time limit of {self.timeout:g} s. "
            "Try again later."
        )

    def _connect(self, deadline: float) -> _Taken:
        """A connection in the pool's queue; busy if the queue is full until the deadline."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(max(deadline - time.monotonic(), 0.001))
        try:
            sock.connect(self.pool.address)
        except TimeoutError:
            sock.close()
            raise self._busy() from None
        except OSError:  # the pool is gone: its server is stopping
            sock.close()
            raise Unavailable("the query workers are stopping with the server. Try again.") from None
        sock.settimeout(None)
        return _Taken(self.pool, sock)

    def _run(self, job: Job, deadline: float) -> Result:
        taken = self._connect(deadline)
        try:
            taken.conn.send(replace(job, deadline=deadline))  # waits in the socket until a child reads it
            accepted = taken.receive(deadline)
        except _Expired:
            taken.release()  # a child taking it later sees the deadline passed and drops it
            raise self._busy() from None
        except (EOFError, OSError):
            taken.release()
            raise QueryFailed("the query worker stopped unexpectedly while taking this query") from None
        if accepted[:1] != ACCEPTED:
            taken.release()
            raise QueryFailed("unexpected message from a query worker")
        taken.pid = int(accepted[1:])
        try:
            message = taken.receive(deadline)
        except _Expired:
            taken.kill(f"time limit of {self.timeout:g} s reached")
            raise QueryTimeout(
                f"the query did not finish within the time limit of {self.timeout:g} s and was stopped. "
                "Simplify it, add LIMIT, or run it on a copy of the data (see the dumps)."
            ) from None
        except (EOFError, OSError):
            taken.kill("crashed")
            raise QueryFailed("the query worker stopped unexpectedly while running this query") from None
        return _answer(taken, message, self.timeout, deadline)

    def close(self) -> None:
        """Nothing to stop: the pool's keeper stops its children."""


def _answer(taken: _Taken, message: bytes, timeout: float, deadline: float) -> Result:
    """Turn a child's first message into a Result (whole or streamed) or the error it reports."""
    tag, payload = message[:1], message[1:]
    if tag in COMPLETE:
        taken.release()
        return Result(COMPLETE[tag], body=payload)
    if tag in HEAD:
        return Result(HEAD[tag], chunks=_Stream(taken, payload, timeout, deadline))
    taken.release()
    if tag == UNACCEPTABLE:
        raise Unacceptable(payload.decode())
    error = json.loads(payload)
    raise from_kind(error["kind"], error["message"])


class ProcessPool(PoolClient):
    """A query pool of this process's own with its client: tests, `--dev`, a worker its master keeps none for."""

    def __init__(
        self,
        store_path: Path,
        size: int,
        timeout: float,
        chunk_bytes: int = CHUNK_BYTES,
        allocator: str = SYSTEM_ALLOCATOR,
    ) -> None:
        super().__init__(QueryPool(store_path, size, chunk_bytes, allocator), timeout)

    def pids(self) -> list[int]:
        """The process ids of the live children."""
        return self.pool.pids()

    def warm_up(self, timeout: float = 60.0) -> None:
        """Wait until every child has opened the store, so the first queries do not wait for it."""
        self.pool.warm_up(timeout)

    def close(self) -> None:
        """Stop the children (the server worker is exiting)."""
        self.pool.close()


class _Stream:
    """The chunks after the first, read under the deadline; the child is released at the end.

    If the deadline passes, the child fails, or the client goes away mid-stream, the child is killed
    (nothing else can stop its work) and StreamAborted cuts the connection.
    """

    def __init__(self, taken: _Taken, first: bytes, timeout: float, deadline: float) -> None:
        self._taken: _Taken | None = taken
        self._first, self._timeout, self._deadline = first, timeout, deadline
        self._done = False
        self._reason = "stream not finished"

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._taken is None:
            raise StopIteration
        if self._first:
            first, self._first = self._first, b""
            return first
        try:
            message = self._taken.receive(self._deadline)
        except _Expired:
            self._abort(f"time limit of {self._timeout:g} s reached while streaming")
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
        self._reason = reason
        self.close()
        raise StreamAborted(f"results stopped: {reason}")

    def close(self) -> None:
        """Release the child if the stream ended, else kill it; idempotent."""
        taken, self._taken = self._taken, None
        if taken is None:
            return
        if self._done:
            taken.release()
        else:
            taken.kill(self._reason)


class InProcess:
    """Run queries in the server process: no time limit (development, benchmarks of the overhead)."""

    def __init__(self, store: ox.Store) -> None:
        self._store = store

    def run(self, job: Job, deadline: float) -> Result:
        """Run the job now, in this thread; the deadline is not enforced."""
        return run_in_process(self._store, job)

    def close(self) -> None:
        """Nothing to stop."""
