"""The query processes of a server: warm children on one store, taking queries from one shared queue.

One pool serves every worker of a server. Under gunicorn, the master keeps it (server/web/serve.py): the
workers it forks inherit the pool's address (`inherited`), connect to it for each query, and whichever child
is free takes the connection (server/engine/executor.py, `PoolClient`). So a long query in one child holds up
no worker in particular, and two workers need no more children than one (issue 19: each of the 4 children
of a 2-worker server cost 31 to 36 MiB).

Why by hand: the children must be killable processes (pyoxigraph cannot cancel a query), each holding the
store open, taking work from every server worker, with the kill done by the worker that gave up waiting.
`multiprocessing` pools and `concurrent.futures` hand work out from the one process that made the pool, and
cannot kill one task's process. Here the queue is the kernel's: a listening Unix socket (abstract address:
no file to clean up) that every child polls and accepts from, one connection per query. The listen backlog
keeps the order of arrival across workers.

Each child also holds one end of a socket pair whose other end only the pool holds (its "life" line): the
child says READY on it once its store is open; its death closes it, so the pool's watcher thread starts a
fresh child at once; and when the pool closes its end, the child stops after its job, so closing the pool or
the death of its process leaves no child behind. This module imports no pyoxigraph: the master of a server
keeps a pool without loading the engine.

The children allocate with mimalloc when it is installed (`allocator`, Settings.query_allocator): pyoxigraph
spends about a quarter of a query's CPU in the C library's malloc and free, and with mimalloc preloaded
(LD_PRELOAD, set for the child's interpreter only) the engine answers the benchmark's mix in 10 % less CPU at
1 document and 17 % less at 100 (benchmarks/README.md). The server's own processes keep the C library's.
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import os
import select
import socket
import struct
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from server.engine.query_wire import CHUNK_BYTES, READY

log = logging.getLogger("cdv.executor")

CHILD_MODULE = "server.engine.query_process"  # in a child's command line: how tools tell a query process
CHILD_MAIN = f"from {CHILD_MODULE} import main; main()"
BACKLOG = 1024  # queries waiting for a child; past it a query finds the server busy
RESTART_DELAY = 1.0  # seconds before replacing a child that died before opening the store (no busy loop)
STOP_GRACE = 2.0  # seconds closing children get to finish their job before they are killed
REPLACEMENT_WAIT = 5.0  # seconds a worker that killed a child waits for its replacement (see `replaced`)
_PID = struct.Struct("=i")
SYSTEM_ALLOCATOR = "system"  # Settings.query_allocator for the C library's own malloc

# The pools this process keeps, by store path. A process forked from it (a gunicorn worker) inherits the
# table, and with it each pool's address (see `_forget_in_child`).
_POOLS: dict[Path, QueryPool] = {}


@dataclass
class _Child:
    """A child process and the pool's end of its life line."""

    process: subprocess.Popen[bytes]
    life: socket.socket
    ready: bool = False


class QueryPool:
    """`size` query children on `store_path`, taking queries from the pool's listening socket (`address`)."""

    def __init__(
        self, store_path: Path, size: int, chunk_bytes: int = CHUNK_BYTES, allocator: str = SYSTEM_ALLOCATOR
    ) -> None:
        self.store_path = Path(store_path).resolve()
        self.size = size
        self.chunk_bytes = chunk_bytes
        self.preload = allocator_library(allocator)
        self.address = f"\0cdv-query-{os.getpid()}-{os.urandom(8).hex()}"
        self._owner = os.getpid()
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.address)
        self._listener.listen(BACKLOG)
        self._children: dict[int, _Child] = {}  # by the fd of their life line
        self._changed = threading.Condition()
        self._closed = False
        # The ready children's process ids, in memory shared with the processes forked from this one (MAP_SHARED):
        # written by the watcher thread only, read by the workers (`replaced`).
        self._ready = mmap.mmap(-1, _PID.size * size)
        self._wake_read, self._wake_write = os.pipe()
        for _ in range(size):
            self._spawn()
        self._watcher = threading.Thread(target=self._watch, name="cdv-query-pool", daemon=True)
        self._watcher.start()
        # A pool dropped without close() (a test's app, an interpreter exiting) still stops its children.
        self._finalizer = weakref.finalize(self, _stop, self._owner, self._listener, self._wake_write)

    def pids(self) -> list[int]:
        """The process ids of the live children."""
        with self._changed:
            return sorted(child.process.pid for child in self._children.values())

    def ready_pids(self) -> list[int]:
        """The process ids of the children that have opened the store and not died since (any process)."""
        return [pid for (pid,) in _PID.iter_unpack(self._ready) if pid]

    def replaced(self, pid: int, timeout: float = REPLACEMENT_WAIT) -> bool:
        """Wait until the child `pid` (just killed) is replaced by a ready one; whether it was within `timeout`.

        A worker that killed a child at the time limit waits for this before it answers, so that the client
        whose query was stopped cannot take the pool's last free child with its next query while the
        replacement starts: other clients' queries would then wait for the replacement, for up to a second
        on a busy machine.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = self.ready_pids()
            if pid not in ready and len(ready) >= self.size:
                return True
            time.sleep(0.01)
        return False

    def _mark(self, old: int, new: int) -> None:
        """Replace `old` by `new` in the ready table (0: a free slot)."""
        for slot, (pid,) in enumerate(_PID.iter_unpack(self._ready)):
            if pid == old:
                _PID.pack_into(self._ready, slot * _PID.size, new)
                return

    def warm_up(self, timeout: float = 60.0) -> bool:
        """Wait until every child has opened the store; whether they all did within `timeout` seconds."""
        with self._changed:
            return self._changed.wait_for(
                lambda: sum(child.ready for child in self._children.values()) >= self.size, timeout
            )

    def close(self) -> None:
        """Stop the children: idle ones at once, busy ones after their job (killed past STOP_GRACE)."""
        if self._owner != os.getpid():
            return
        with self._changed:
            self._closed = True
            children = list(self._children.values())
        self._finalizer()
        self._watcher.join(timeout=5)
        deadline = time.monotonic() + STOP_GRACE
        for child in children:
            try:
                child.process.wait(timeout=max(deadline - time.monotonic(), 0.01))
            except subprocess.TimeoutExpired:
                child.process.kill()
                _reap(child.process)
        if _POOLS.get(self.store_path) is self:
            del _POOLS[self.store_path]

    # --- the watcher thread: readiness, deaths, replacements -------------------------------------------------

    def _spawn(self) -> None:
        """Start a child; it opens the store, says READY on its life line, then accepts queries."""
        mine, its = socket.socketpair()
        env = child_environment(os.environ, sys.path, self.preload)
        fds = (self._listener.fileno(), its.fileno())
        try:
            process = subprocess.Popen(  # our own interpreter and module, no shell
                [
                    sys.executable,
                    "-c",
                    CHILD_MAIN,
                    *map(str, fds),
                    str(self.store_path),
                    str(self.chunk_bytes),
                ],
                pass_fds=fds,
                stdin=subprocess.DEVNULL,
                env=env,
            )
        except OSError:
            mine.close()
            raise
        finally:
            its.close()  # else the pool would never see the child's end close
        with self._changed:
            self._children[mine.fileno()] = _Child(process, mine)
            self._changed.notify_all()

    def _watch(self) -> None:
        """Read the children's life lines until the pool closes: mark them ready, replace the dead."""
        poller = select.poll()
        poller.register(self._wake_read, select.POLLIN)
        watched: set[int] = set()
        stopping = False
        while not stopping:
            with self._changed:
                for fd in self._children.keys() - watched:
                    poller.register(fd, select.POLLIN)
                watched = set(self._children)
            for fd, _event in poller.poll():
                if fd == self._wake_read:  # only the pool's closing writes there
                    stopping = True
                    break
                poller.unregister(fd)
                watched.discard(fd)
                self._heard(fd)
        with self._changed:
            self._closed = True
            children, self._children = list(self._children.values()), {}
        for child in children:
            child.life.close()  # each child sees its line close and stops after its job
        os.close(self._wake_read)

    def _heard(self, fd: int) -> None:
        """A child's line is readable: READY, or its end closed (the child died)."""
        with self._changed:
            child = self._children.get(fd)
        if child is None:
            return
        try:
            message = child.life.recv(1)
        except OSError:
            message = b""
        if message == READY:
            with self._changed:
                child.ready = True
                self._mark(0, child.process.pid)
                self._changed.notify_all()
            return
        with self._changed:
            self._children.pop(fd, None)
            closed = self._closed
            if child.ready:
                self._mark(child.process.pid, 0)
        child.life.close()
        _reap(child.process)
        log.info("query worker %s replaced (exit status %s)", child.process.pid, child.process.returncode)
        if closed:
            return
        if not child.ready:
            time.sleep(RESTART_DELAY)
        try:
            self._spawn()
        except OSError:
            log.exception("could not start a query worker")


def _reap(process: subprocess.Popen[bytes]) -> None:
    """Wait for a dead child (a gunicorn master may have reaped it already: Popen then says 0)."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def _stop(owner: int, listener: socket.socket, wake: int) -> None:
    """Close the listening socket and wake the watcher, which closes the life lines (in the owner only)."""
    if owner != os.getpid():
        return
    listener.close()
    with contextlib.suppress(OSError):
        os.write(wake, b"x")
        os.close(wake)


# --- a server's pools, kept by the master and found by its workers ----------------------------------------


def child_environment(environ: Mapping[str, str], path: Sequence[str], preload: str | None) -> dict[str, str]:
    """A child's environment: this one, the import path of this process, and the allocator to preload if any."""
    env = {**environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)}
    if preload:
        env["LD_PRELOAD"] = " ".join(filter(None, (preload, environ.get("LD_PRELOAD", ""))))
    return env


@cache
def allocator_library(name: str) -> str | None:
    """The shared library of the allocator `name` (e.g. "libmimalloc.so.2"), None for the C library's malloc.

    Found by ctypes.util.find_library (the dynamic linker's cache), run in a short-lived interpreter: importing
    ctypes would cost the master of a server, which keeps the pool, 2.4 MiB for its whole life. An allocator
    that is not installed leaves the C library's malloc, with a warning: it is a matter of speed only.
    """
    if name == SYSTEM_ALLOCATOR:
        return None
    try:
        found = subprocess.run(
            [
                sys.executable,
                "-c",
                "import ctypes.util, sys; print(ctypes.util.find_library(sys.argv[1]) or '')",
                name,
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        found = ""
    if not found:
        log.warning(
            "allocator %r not found: the query processes use the C library's malloc (mimalloc: Debian's "
            "package libmimalloc2.0; CDV_QUERY_ALLOCATOR=system chooses the C library's without this warning)",
            name,
        )
        return None
    return found


def keep(store_path: Path, size: int, allocator: str = SYSTEM_ALLOCATOR) -> QueryPool:
    """Start the pool on `store_path` that processes forked from now on find with `inherited`."""
    pool = QueryPool(store_path, size, allocator=allocator)
    _POOLS[pool.store_path] = pool
    return pool


def kept(store_path: Path) -> QueryPool | None:
    """The pool on `store_path` this process keeps, if any."""
    return _lookup(store_path, own=True)


def inherited(store_path: Path) -> QueryPool | None:
    """The pool on `store_path` the process this one was forked from keeps, if any."""
    return _lookup(store_path, own=False)


def _lookup(store_path: Path, own: bool) -> QueryPool | None:
    """The pool on `store_path` in this process's table, if this process keeps it (`own`) or else inherited it."""
    pool = _POOLS.get(Path(store_path).resolve())
    return pool if pool is not None and (pool._owner == os.getpid()) == own else None


def _forget_in_child() -> None:
    """In a forked process: close the inherited copies of the pools' descriptors, keep their addresses.

    A worker holding a copy of a life line would keep every child of its master's pool alive after the pool
    closed; it connects to the pool by address and needs none of them.
    """
    for pool in _POOLS.values():
        pool._listener.close()
        for child in pool._children.values():
            child.life.close()
        for fd in (pool._wake_read, pool._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)


os.register_at_fork(after_in_child=_forget_in_child)
