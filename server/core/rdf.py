"""The RDF model every part speaks: pyoxigraph's terms, result types, parsers and serialisers, without its Store.

Terms and formats are data, not an engine: the core and the web take them from here, so the rule "only the
engine and the build open a store" can be checked (pyproject.toml, import-linter contracts).
"""

from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolution,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Store,
    Triple,
    Variable,
    parse,
    parse_query_results,
    serialize,
)


def evaluate_without_data(
    sparql: str, substitutions: dict[Variable, NamedNode | BlankNode | Literal | Triple] | None = None
) -> QuerySolutions | QueryBoolean | QueryTriples:
    """Evaluate a query over no data at all, to check it or to read the constants of a VALUES line.

    pyoxigraph parses SPARQL only as part of evaluating it; an empty in-memory store, holding nothing and
    opened on nothing, is its parser. Data stores are opened by the engine and the build only.
    """
    return Store().query(sparql, substitutions=substitutions or {})


__all__ = [
    "BlankNode",
    "DefaultGraph",
    "Literal",
    "NamedNode",
    "Quad",
    "QueryBoolean",
    "QueryResultsFormat",
    "QuerySolution",
    "QuerySolutions",
    "QueryTriples",
    "RdfFormat",
    "Triple",
    "Variable",
    "evaluate_without_data",
    "parse",
    "parse_query_results",
    "serialize",
]
