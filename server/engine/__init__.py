"""The engine: the one place that opens a store and runs queries under the time limit, with the search index.

May use: core. `open_engine(settings)` opens whatever the settings describe (the published release of
`build_dir`, an explicit `store_path`, a remote `endpoint`, or RDF files in memory for the build's checks)
and returns an `Engine`: our own queries (`query`), the named queries under the time limit (`limited`),
and the SPARQL protocol's queries, answered as bytes in the negotiated format (`run`).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # names for the type checker only: a query child imports this package, and pays for each
    # module in memory; the executor's modules load pyoxigraph, only when a store is opened
    from collections.abc import Iterable, Mapping, Sequence
    from pathlib import Path

    from server.core.backend import Backend, QueryResult, Term
    from server.core.config import Settings
    from server.engine.executor import Executor, Result
    from server.engine.query_process import Job

__all__ = ["Engine", "open_engine"]


class Engine:
    """A store (embedded or remote) and how its queries run: in query processes under the time limit or not.

    Everything else (build id, release, triple count, the remote engine's local files) is the store's. The
    executor is started on first use, after the server's workers have forked.
    """

    def __init__(self, store: Backend, settings: Settings) -> None:
        self.store = store
        self._settings = settings
        self._executor: Executor | None = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        if name == "store":  # not set yet: no recursion through __getattr__
            raise AttributeError(name)
        return getattr(self.store, name)

    @property
    def embedded(self) -> bool:
        """Whether the store is a pyoxigraph store of this machine."""
        from server.engine.store import EmbeddedStore

        return isinstance(self.store, EmbeddedStore)

    def query(
        self,
        sparql: str,
        *,
        substitutions: Mapping[str, Term] | None = None,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
    ) -> QueryResult:
        """Run one of our own queries in this process (pages, checks): no time limit, parsed results."""
        return self.store.query(
            sparql, substitutions=substitutions, default_graphs=default_graphs, named_graphs=named_graphs
        )

    def triple_count(self) -> int:
        """Number of quads in the store."""
        return self.store.triple_count()

    @property
    def executor(self) -> Executor:
        """The executor of this process, started once (threads of a server worker share it)."""
        if self._executor is None:
            with self._lock:
                if self._executor is None:
                    self._executor = _new_executor(self.store, self._settings)
        return self._executor

    def run(self, job: Job, deadline: float) -> Result:
        """Run a protocol query: its answer in the job's media type, stopped at `deadline`."""
        return self.executor.run(job, deadline)

    def limited(self) -> Backend:
        """The store with its queries under the time limit (the named queries, whose values come from requests).

        A remote engine's queries have their own time limit; without query processes there is none.
        """
        if self.embedded and self._settings.query_workers > 0:
            from server.engine.limited_store import TimeLimitedStore

            return TimeLimitedStore(self.store, self.executor, self._settings.query_timeout)
        return self.store

    def warm_up(self) -> None:
        """Start the query processes now and wait until each has opened the store (before taking requests)."""
        from server.engine.executor import ProcessPool

        if isinstance(self.executor, ProcessPool):
            self.executor.warm_up()

    def close(self) -> None:
        """Stop the query processes, if any were started."""
        if self._executor is not None:
            self._executor.close()


def open_engine(settings: Settings, *, files: Iterable[Path] | None = None) -> Engine:
    """Open what the settings describe; `files`: RDF files in a scratch in-memory store instead (checks)."""
    from server.engine.store import EmbeddedStore

    if files is not None:
        store: Backend = EmbeddedStore.of_files(files)
    elif settings.endpoint:
        from server.engine.remote import open_remote

        store = open_remote(settings)
    elif settings.store_path is not None:
        store = EmbeddedStore.open_path(settings.store_path)
    else:
        from server.engine.release import current_release

        store = EmbeddedStore.open_release(current_release(settings.build_dir))
    return Engine(store, settings)


def _new_executor(store: Backend, settings: Settings) -> Executor:
    """A remote engine's own executor, else query processes (or in-process with query_workers = 0).

    The query processes are the server's pool when the process this one was forked from keeps one on this
    store, else a pool of this process's own.
    """
    from server.engine.executor import InProcess, PoolClient, ProcessPool
    from server.engine.query_pool import inherited
    from server.engine.store import EmbeddedStore

    if not isinstance(store, EmbeddedStore):  # remote: only its engine imports requests (6 MiB a worker)
        from server.engine.remote import RemoteStore
        from server.engine.remote_executor import RemoteExecutor

        assert isinstance(store, RemoteStore)
        return RemoteExecutor(store)
    if settings.query_workers > 0 and store.path is not None:
        kept = inherited(store.path)  # the server's pool, kept by the gunicorn master (server/web/serve.py)
        if kept is not None:
            return PoolClient(kept, settings.query_timeout)
        return ProcessPool(
            store.path, settings.query_workers, settings.query_timeout, allocator=settings.query_allocator
        )
    return InProcess(store.raw)
