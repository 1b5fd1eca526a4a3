"""What a query process does: inspect, run and serialise one query, and the loop of a query child.

A query child (started by its pool, server/engine/query_pool.py, as a fresh `python` running `main`) opens
the published store read-only, then takes one query's connection at a time from the pool's listening socket:
it says its process id (the server worker kills it by that id at the time limit), reads the job (its query
inspected by the worker, see server/engine/executor.py), runs the query with the dataset the request asks
for, and writes the results with pyoxigraph's own serialisers into tagged messages: the whole result when it
fits in CHUNK_BYTES, else a first chunk, more chunks and an end mark; or an error. Before each job it arms a
kernel alarm for the job's deadline plus a grace period, so even a child whose server worker has vanished
stops on time.

A child imports pyoxigraph and the few pure modules it needs, nothing else (no rdflib, no werkzeug, no
Flask): each one costs its memory once per child.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import select
import signal
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from server.core import sparql_formats as formats
from server.core.errors import DomainError, QueryFailed
from server.core.sparql_guard import QuerySyntaxError  # the module loads rdflib only in its functions
from server.engine.query_wire import ACCEPTED, CHUNK_BYTES, READY

ALARM_GRACE = 2.0  # seconds a child may outlive its deadline before the kernel stops it on its own
QUERY_STACK_BYTES = 1 << 30  # enough for 50,000 nesting levels (a 100,000-character query)

# The first byte of every message a child sends says what it is.
COMPLETE = {b"S": formats.SOLUTIONS, b"B": formats.BOOLEAN, b"G": formats.GRAPH}  # the whole result
HEAD = {b"s": formats.SOLUTIONS, b"b": formats.BOOLEAN, b"g": formats.GRAPH}  # its first chunk
CHUNK, END, ERROR, ABORT, UNACCEPTABLE = b"c", b"e", b"x", b"a", b"u"
TAGS = {
    form: (complete, head) for (complete, form), (head, _) in zip(COMPLETE.items(), HEAD.items(), strict=True)
}


@dataclass(frozen=True)
class Job:
    """One query to run: its text, the media type wanted for each query form, its dataset."""

    query: str
    result_type: str | None  # for SELECT and ASK; None when the client accepts none of their formats
    graph_type: str | None  # for CONSTRUCT and DESCRIBE
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    base_iri: str | None = None  # what relative IRIs in the query resolve against: the endpoint's URL
    deadline: float = 0.0  # time.monotonic() by which the answer is due (one clock for the whole machine)
    names_dataset: bool = False  # FROM / FROM NAMED in the query (the parent's sparql_guard says so)


class Channel:
    """A query's connection, framed as `multiprocessing.connection.Connection` frames it (the worker's side).

    By hand because importing multiprocessing costs each child 3 MiB of memory: a frame is a 4-byte
    big-endian signed length (-1: an 8-byte length follows) and the bytes; `recv` unpickles one.
    """

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def send_bytes(self, data: bytes | bytearray) -> None:
        header = (
            _LENGTH.pack(len(data)) if len(data) < 0x7FFFFFFF else _LENGTH.pack(-1) + _LONG.pack(len(data))
        )
        self._sock.sendall(header)
        self._sock.sendall(data)

    def recv(self) -> Any:
        """One pickled object (the job: sent by our own worker over a socket only it can reach)."""
        (length,) = _LENGTH.unpack(self._exactly(_LENGTH.size))
        if length == -1:
            (length,) = _LONG.unpack(self._exactly(_LONG.size))
        return pickle.loads(self._exactly(length))

    def _exactly(self, size: int) -> bytes:
        data = bytearray()
        while len(data) < size:
            part = self._sock.recv(size - len(data))
            if not part:
                raise EOFError
            data += part
        return bytes(data)

    def close(self) -> None:
        self._sock.close()


_LENGTH, _LONG = struct.Struct("!i"), struct.Struct("!Q")
_JOINED = 16 * 1024  # bytes up to which a frame's header and data leave in one write


class Unacceptable(Exception):
    """The client accepts no format of the query's form; the caller raises its own NotAcceptable."""

    def __init__(self, form: str) -> None:
        super().__init__(form)
        self.form = form


def dataset_options(job: Job, names_dataset: bool) -> dict[str, Any]:
    """pyoxigraph's dataset arguments: the protocol's graphs, else the query's FROM, else the union of all."""
    if job.default_graphs or job.named_graphs:
        # SPARQL 1.1 Protocol §2.1.4: these parameters replace the query's dataset; a list left empty
        # means an empty default graph or no named graph at all.
        return {
            "default_graph": [ox.NamedNode(g) for g in job.default_graphs],
            "named_graphs": [ox.NamedNode(g) for g in job.named_graphs],
        }
    if names_dataset:
        return {}
    return {"use_default_graph_as_union": True}


def form_of(result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples) -> str:
    """The query form a pyoxigraph result comes from."""
    if isinstance(result, ox.QuerySolutions):
        return formats.SOLUTIONS
    if isinstance(result, ox.QueryBoolean):
        return formats.BOOLEAN
    return formats.GRAPH


def start(store: ox.Store, job: Job) -> tuple[str, str, Any]:
    """Inspect and start the query: its form, the media type to write, the pyoxigraph result.

    The job was inspected by the parent (`sparql_guard`: SERVICE refused, `names_dataset` set). DomainError
    kinds for malformed queries, Unacceptable when the client accepts no format of the form.
    """
    try:
        result = store.query(job.query, base_iri=job.base_iri, **dataset_options(job, job.names_dataset))
    except SyntaxError as err:
        raise QuerySyntaxError(f"query syntax error: {error_text(err)}") from None
    except (OSError, RuntimeError, ValueError) as err:
        raise QueryFailed(f"the query could not be evaluated: {error_text(err)}") from None
    form = form_of(result)
    media_type = job.graph_type if form == formats.GRAPH else job.result_type
    if media_type is None:
        raise Unacceptable(form)
    return form, media_type, result


def error_text(err: BaseException) -> str:
    """pyoxigraph's message, one line ("error at 2:1: expected OPTIONAL")."""
    return " ".join(str(err).split())[:2000]


class _ChunkWriter:
    """A binary file for pyoxigraph's serialisers that sends full chunks over the pipe, tagged."""

    def __init__(self, conn: Channel, form: str, chunk_bytes: int = CHUNK_BYTES) -> None:
        self._conn = conn
        self._chunk_bytes = chunk_bytes
        self._complete, self._head = TAGS[form]
        self._buffer = bytearray(self._head)  # byte 0 is the tag: no copy to prepend it
        self.started = False

    def write(self, data: bytes) -> int:
        self._buffer += data
        if len(self._buffer) > self._chunk_bytes:
            self._conn.send_bytes(self._buffer)
            self._buffer = bytearray(CHUNK)
            self.started = True
        return len(data)

    def flush(self) -> None:
        """Chunks leave when full or at `finish`: pyoxigraph's own flushes are not message boundaries."""

    def finish(self) -> None:
        """Send what is left: the whole result, or the last chunk and the end mark."""
        if not self.started:
            self._buffer[0:1] = self._complete
            self._conn.send_bytes(self._buffer)
            return
        if len(self._buffer) > 1:
            self._conn.send_bytes(self._buffer)
        self._conn.send_bytes(END)


def _send_error(conn: Channel, tag: bytes, err: DomainError) -> None:
    conn.send_bytes(tag + json.dumps({"kind": err.kind, "message": err.message}).encode())


def serve_job(conn: Channel, store: ox.Store, job: Job, chunk_bytes: int = CHUNK_BYTES) -> None:
    """Run one job in a child and send its messages; every failure becomes a message, never a crash."""
    writer: _ChunkWriter | None = None
    try:
        form, media_type, result = start(store, job)
        writer = _ChunkWriter(conn, form, chunk_bytes)
        result.serialize(writer, format=formats.serialiser(form, media_type))
        writer.finish()
    except Unacceptable as err:
        conn.send_bytes(UNACCEPTABLE + err.form.encode())
    except DomainError as err:
        _send_error(conn, ERROR if writer is None or not writer.started else ABORT, err)
    except (OSError, RuntimeError, ValueError, SyntaxError) as err:
        tag = ERROR if writer is None or not writer.started else ABORT
        _send_error(conn, tag, QueryFailed(f"the query could not be evaluated: {error_text(err)}"))


def child_main(listener: socket.socket, life: socket.socket, store_path: str, chunk_bytes: int) -> None:
    """A query child: open the store read-only, say READY, then take queries until the pool lets it go."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the pool decides
    signal.signal(signal.SIGALRM, signal.SIG_DFL)  # the kernel ends the process: no Python code needed
    store = ox.Store.read_only(store_path)
    try:
        life.sendall(READY)
    except OSError:
        return  # the pool closed while this child was starting
    # pyoxigraph's parser and evaluator recurse once per nesting level: on the main thread's 8 MiB stack a
    # query nested a few thousand levels deep would crash the process. A thread with a large stack (address
    # space, not memory, until used) runs any query that fits in Settings.max_query_length.
    try:
        threading.stack_size(QUERY_STACK_BYTES)
        loop = threading.Thread(
            target=_child_loop, args=(listener, life, store, chunk_bytes), name="cdv-query"
        )
        loop.start()
    except (RuntimeError, ValueError):  # the platform refuses such a stack: run on this one
        _child_loop(listener, life, store, chunk_bytes)
        return
    loop.join()


def _child_loop(listener: socket.socket, life: socket.socket, store: ox.Store, chunk_bytes: int) -> None:
    """Accept one query's connection at a time until the life line closes (the pool closed or died)."""
    listener.setblocking(False)  # every child polls the same socket: another may take the connection first
    poller = select.poll()
    poller.register(listener, select.POLLIN)
    poller.register(life, select.POLLIN)
    while True:
        events = poller.poll()
        if any(fd == life.fileno() for fd, _event in events):
            return
        try:
            sock, _address = listener.accept()
        except (BlockingIOError, InterruptedError):
            continue
        sock.setblocking(True)
        with contextlib.closing(Channel(sock)) as conn:
            _serve_connection(conn, store, chunk_bytes)


def _serve_connection(conn: Channel, store: ox.Store, chunk_bytes: int) -> None:
    """Say who takes the query, run it under a kernel alarm, send its messages; never raise."""
    try:
        conn.send_bytes(ACCEPTED + str(os.getpid()).encode())
        job: Job = conn.recv()
    except (EOFError, OSError):
        return  # the server worker stopped waiting before this child was free
    left = job.deadline - time.monotonic()
    if left <= 0:
        return  # nobody waits for the answer any more
    signal.setitimer(signal.ITIMER_REAL, left + ALARM_GRACE)
    try:
        serve_job(conn, store, job, chunk_bytes)
    except (EOFError, OSError):  # the worker went away mid-answer (it kills this child when it can)
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def main() -> None:
    """A query child's entry: `python -c "…main()" LISTENER_FD LIFE_FD STORE_PATH CHUNK_BYTES` (query_pool.py)."""
    listener_fd, life_fd, store_path, chunk_bytes = (
        int(sys.argv[1]),
        int(sys.argv[2]),
        sys.argv[3],
        int(sys.argv[4]),
    )
    listener = socket.socket(fileno=listener_fd)
    life = socket.socket(fileno=life_fd)
    child_main(listener, life, store_path, chunk_bytes)
