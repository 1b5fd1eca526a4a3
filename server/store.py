"""The only place that opens a store: the small query interface every other module uses.

Today the backend is the embedded pyoxigraph store of the published build, opened read-only; a remote
SPARQL 1.1 endpoint can implement the same `Backend` protocol.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox

from .release import Release, hold

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
QueryResult = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples


class Backend(Protocol):
    """Query in, results out."""

    build_id: str
    query_count: int

    def query(
        self,
        sparql: str,
        *,
        substitutions: Mapping[str, Term] | None = None,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
    ) -> QueryResult: ...

    def triple_count(self) -> int: ...


class EmbeddedStore:
    """A pyoxigraph store on disk, opened read-only; the default graph is the union of all graphs."""

    def __init__(self, store: ox.Store, build_id: str, path: Path | None = None) -> None:
        self._store = store
        self.build_id = build_id
        self.path = path
        self.query_count = 0  # how many queries this process ran: pages test their query budget with it

    @classmethod
    def open_release(cls, release: Release) -> EmbeddedStore:
        """Open the store of a published release read-only; `prune` keeps the release while this process lives."""
        hold(release)
        return cls(ox.Store.read_only(str(release.store_path)), release.build_id, release.store_path)

    @property
    def raw(self) -> ox.Store:
        """The pyoxigraph store, for code that must stream or serialise natively."""
        return self._store

    def query(
        self,
        sparql: str,
        *,
        substitutions: Mapping[str, Term] | None = None,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
    ) -> QueryResult:
        """Run a SPARQL query; `substitutions` bind variables to terms (never string splicing)."""
        self.query_count += 1
        kwargs: dict[str, object] = {}
        if default_graphs:
            kwargs["default_graph"] = [ox.NamedNode(g) for g in default_graphs]
        else:
            kwargs["use_default_graph_as_union"] = True
        if named_graphs:
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
        if substitutions:
            kwargs["substitutions"] = {ox.Variable(k): v for k, v in substitutions.items()}
        return self._store.query(sparql, **kwargs)

    def triple_count(self) -> int:
        """Number of quads in the store (all graphs)."""
        return len(self._store)
