"""The published store seen through a query executor: the named queries get the time limit of /sparql.

The named queries are ours, but their cost grows with the graph (several seconds each at 1,000 documents)
and their parameters come from the request: run in the server process, nothing could stop one. Through the
executor they run in a killable query process, and past the time limit the client gets the same 503 as on
/sparql. Results travel as SPARQL JSON and are parsed back, so callers keep the `Backend` interface.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import pyoxigraph as ox

from server.core.backend import Backend, QueryResult, Term
from server.core.sparql_rewrite import bind
from server.engine.executor import Executor
from server.engine.query_process import Job

SPARQL_JSON = "application/sparql-results+json"


class TimeLimitedStore:
    """A `Backend` for SELECT and ASK queries that runs each one in `executor` within `timeout` seconds.

    Everything else (build id, release path, triple count) is the wrapped store's.
    """

    def __init__(self, store: Backend, executor: Executor, timeout: float) -> None:
        self._store = store
        self._executor = executor
        self._timeout = timeout

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def query(
        self,
        sparql: str,
        *,
        substitutions: Mapping[str, Term] | None = None,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
    ) -> QueryResult:
        """Run the query with its bindings joined as VALUES (a child process takes text only)."""
        self._store.query_count += 1
        job = Job(
            bind(sparql, substitutions),
            SPARQL_JSON,
            None,
            tuple(default_graphs or ()),
            tuple(named_graphs or ()),
        )
        result = self._executor.run(job, time.monotonic() + self._timeout)
        body = result.body if result.body is not None else b"".join(result.chunks or ())
        return ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
