"""Run the named queries of the library (server/core/library.py) on an engine.

A query whose header declares a search engine is answered from the build's search index when there is one;
without (a scratch store, a remote engine without the release folder) its portable SPARQL runs. The build's
quality checks are the queries tagged `quality`, run with their defaults.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence

from server.core import rdf as ox
from server.core.backend import Backend, Term
from server.core.library import (
    SEARCH_ROWS,
    WHERE_OPEN,
    Choice,
    Engine,
    NamedQuery,
    Parameter,
    bind,
    check_allowed,
    first_values,
    labelled,
    matching_values,
    value_terms,
)
from server.core.query_results import JsonValue, records
from server.core.search_syntax import parse_search
from server.core.sparql_rewrite import values
from server.engine.search_index import IndexMissing, SearchIndex, index_path


def run(
    store: Backend,
    query: NamedQuery,
    raw: Mapping[str, str] | None = None,
    allowed: Mapping[str, Sequence[Choice] | None] | None = None,
) -> ox.QuerySolutions:
    """Bind the request's values (typed, checked against the allowed values) and run the query.

    A query with an engine line is answered from the build's search index when there is one; without
    (a scratch store, an engine without the release folder) its SPARQL, the portable equivalent, runs.
    """
    bindings = bind(query, raw or {})
    check_allowed(store, query, bindings, allowed)
    if query.engine is not None:
        try:
            index = SearchIndex(index_path(store))
        except IndexMissing:
            index = None
        if index is not None:
            return run_searched(store, query, query.engine, bindings, index)
    result = store.query(query.body, substitutions=bindings)
    assert isinstance(result, ox.QuerySolutions)  # load_library admits SELECT queries only
    return result


def lookup(store: Backend, query: NamedQuery, param: Parameter, text: str, limit: int) -> list[Choice]:
    """At most `limit` values of an enumerable parameter matching `text`, labelled (the first ones without).

    Instances are looked up by their texts in the build's search index, the last word as a prefix (so
    "pôle em" finds "Pôle Emploi" as one types); an IRI, the objects of a property, or a build without
    index, by a SPARQL text match that stops at `limit` values.
    """
    text = text.strip()
    if not text:
        return labelled(store, first_values(store, query, param, limit))
    index = _index(store) if param.values and param.values.kind == "instances" else None
    if index is None or text.startswith(("http://", "https://")):
        return labelled(store, matching_values(store, query, param, text, limit))
    search = parse_search(text if text.endswith(("*", '"', " ")) else text + "*", "q")
    iris: dict[str, None] = {}
    for term in value_terms(query, param):
        iris.update(dict.fromkeys(index.ranked(search, term.value, limit)))
    return labelled(store, [ox.NamedNode(iri) for iri in list(iris)[:limit]])


def _index(store: Backend) -> SearchIndex | None:
    try:
        return SearchIndex(index_path(store))
    except IndexMissing:
        return None


def run_searched(
    store: Backend, query: NamedQuery, engine: Engine, bindings: Mapping[str, Term], index: SearchIndex
) -> ox.QuerySolutions:
    """Answer from the index: its best resources of the class bound to the engine's variable, in its order.

    The query, without its portable text match, runs on those resources only (a VALUES built from terms);
    its rows are then put in the index's order.
    """
    iris = index.ranked(parse_search(bindings[engine.param].value, engine.param), engine.cls, SEARCH_ROWS)
    inline = values([engine.bind], ([ox.NamedNode(i)] for i in iris))
    sparql = WHERE_OPEN.sub(lambda m: f"{m.group(0)}\n  {inline}", engine.body, count=1)
    result = store.query(sparql, substitutions=bindings)
    assert isinstance(result, ox.QuerySolutions)
    answer = json.loads(result.serialize(format=ox.QueryResultsFormat.JSON))
    rank = {iri: position for position, iri in enumerate(iris)}
    answer["results"]["bindings"].sort(
        key=lambda row: rank.get(row.get(engine.bind, {}).get("value"), len(rank))
    )
    parsed = ox.parse_query_results(json.dumps(answer).encode(), format=ox.QueryResultsFormat.JSON)
    assert isinstance(parsed, ox.QuerySolutions)
    return parsed


def quality_failures(
    store: Backend, library: Iterable[NamedQuery]
) -> list[tuple[NamedQuery, list[dict[str, JsonValue]]]]:
    """Run every query tagged `quality` (with its defaults); those that return rows, with their rows."""
    failures = []
    for query in library:
        if "quality" in query.tags:
            rows = records(run(store, query))
            if rows:
                failures.append((query, rows))
    return failures
