"""The interface every engine offers the rest of the service: a SPARQL query in, pyoxigraph results out.

Pages, the named queries and the search index are written against this protocol only; server/engine/
implements it (embedded pyoxigraph, a remote SPARQL 1.1 endpoint, with or without a time limit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

if TYPE_CHECKING:
    from server.core import rdf as ox

    Term: TypeAlias = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
    QueryResult: TypeAlias = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples
else:
    # Names for annotations only: nothing checks them at run time, and pyoxigraph (13 MiB) is loaded by what
    # queries, not by what imports the engine's package (gunicorn's master reads the release files only).
    Term = QueryResult = Any


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
