"""The embedded store: a pyoxigraph store opened read-only, behind the `Backend` protocol (server/core/backend.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pyoxigraph as ox

from server.core.backend import QueryResult, Term
from server.core.rdfio import rdf_files
from server.engine.release import Release, hold


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

    @classmethod
    def open_path(cls, path: Path) -> EmbeddedStore:
        """Open an explicit store folder read-only (Settings.store_path)."""
        return cls(ox.Store.read_only(str(path)), "store", path)

    @classmethod
    def of_files(cls, paths: Iterable[Path]) -> EmbeddedStore:
        """A scratch in-memory store of RDF files (already syntax-checked), to run checks on unpublished data."""
        store = ox.Store()
        for path in rdf_files(paths):
            store.load(path=str(path), format=ox.RdfFormat.from_extension(path.suffix.lstrip(".")))
        return cls(store, "memory")

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
