"""Inspect a SPARQL query before it runs: refuse federation (SERVICE), see whether it names its own dataset
(FROM / FROM NAMED), recognise SPARQL Update text.

pyoxigraph would fetch any URL a `SERVICE` clause names, from the server (server-side request forgery), and
it offers no way to turn that off from Python, so a query using SERVICE must be refused before it reaches
the store. A regular expression cannot tell the keyword from the same word in a comment, a string or an
IRI, so the decision is taken on rdflib's SPARQL parse tree (a real parser of the SPARQL 1.1 grammar).

rdflib's parser costs milliseconds, so it only runs when it can matter: the keywords SERVICE and FROM are
made of letters, and after the Unicode escapes the grammar allows (`\\u0053ERVICE`) are decoded, a query
whose text does not contain "service" or "from" in any case cannot hold either clause. Every other query
is parsed (results cached by text); a query that rdflib cannot parse while containing one of these words is
refused with rdflib's message rather than run unchecked.

SPARQL Update needs no check to be safe: pyoxigraph's `query()` only accepts the query grammar and rejects
update text with a syntax error; `is_update` only turns that error into a clearer message.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from server.core.errors import ClientError, Refused

_MAY_MATTER = re.compile("service|from", re.IGNORECASE)
_PARSER_LOCK = threading.Lock()  # pyparsing grammars are shared objects: one parse at a time per process


class QueryRefused(Refused):
    """A well-formed query or request this read-only, non-federating endpoint will not run."""


class QuerySyntaxError(ClientError):
    """The query is not valid SPARQL 1.1."""


SERVICE_REFUSED = (
    "SERVICE (federated query) is not allowed on this endpoint: the server does not fetch other "
    "endpoints. Query them directly, or download their data."
)
UPDATE_REFUSED = (
    "This endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, DROP…) is not accepted. "
    "The data is published by a build; see the project's README."
)


@dataclass(frozen=True)
class Inspection:
    """What the server must know about a query before running it."""

    names_dataset: bool  # FROM / FROM NAMED: the query's own dataset replaces the union default graph


PLAIN_QUERY = Inspection(names_dataset=False)


def decoded(query: str) -> str:
    """The query text with its \\uXXXX / \\UXXXXXXXX escapes decoded, as the SPARQL grammar reads it."""
    from rdflib.plugins.sparql.parser import expandUnicodeEscapes

    try:
        return expandUnicodeEscapes(query)
    except ValueError as err:  # an escape naming no Unicode code point
        raise QuerySyntaxError(f"query syntax error: {err}") from None


def may_need_parsing(query: str) -> bool:
    """False when neither SERVICE nor FROM can appear in the query: it contains neither word, even decoded."""
    if _MAY_MATTER.search(query):
        return True
    return "\\" in query and bool(_MAY_MATTER.search(decoded(query)))


def inspect(query: str) -> Inspection:
    """Inspect `query`; QueryRefused for SERVICE, QuerySyntaxError when it may hold SERVICE but cannot be parsed."""
    if not may_need_parsing(query):
        return PLAIN_QUERY
    return _inspect_parsed(query)


@lru_cache(maxsize=512)
def _inspect_parsed(query: str) -> Inspection:
    """Parse with rdflib and look for SERVICE anywhere in the tree (sub-queries, EXISTS, OPTIONAL…)."""
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        with _PARSER_LOCK:
            tree = parseQuery(decoded(query))
    except ParseBaseException as err:
        if is_update(query):
            raise QueryRefused(UPDATE_REFUSED) from None
        raise QuerySyntaxError(
            f"query syntax error at line {err.lineno}, column {err.col}: {err.msg}"
        ) from None
    except RecursionError:
        raise QuerySyntaxError("query syntax error: the query is nested too deeply") from None
    names = _component_names(tree)
    if "ServiceGraphPattern" in names:
        raise QueryRefused(SERVICE_REFUSED)
    return Inspection(names_dataset="DatasetClause" in names)


def query_dataset(query: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The IRIs of the query's FROM and FROM NAMED clauses, prefixes and BASE resolved; None if unreadable.

    For remote engines that ignore FROM when set to query the union of their graphs (Oxigraph server with
    `--union-default-graph`): the same dataset sent as protocol parameters gives the answer the query asks.
    """
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        with _PARSER_LOCK:
            tree = parseQuery(decoded(query))
        clauses = translateQuery(tree).algebra.get("datasetClause") or []
        default = tuple(str(c["default"]) for c in clauses if "default" in c)
        named = tuple(str(c["named"]) for c in clauses if "named" in c)
    except (ParseBaseException, ClientError, RecursionError, ValueError, TypeError, KeyError, AttributeError):
        return None
    return default, named


def _component_names(node: Any) -> set[str]:
    """The names of every grammar component in an rdflib parse tree."""
    from pyparsing import ParseResults
    from rdflib.plugins.sparql.parserutils import CompValue

    names: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            names.add(item.name)
            stack.extend(item.values())
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple | ParseResults):
            stack.extend(item)
    return names


def is_update(query: str) -> bool:
    """Whether the text is SPARQL Update rather than a query (rdflib's update grammar accepts it)."""
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql.parser import parseUpdate

    try:
        with _PARSER_LOCK:
            parseUpdate(decoded(query))
    except (ParseBaseException, ClientError, RecursionError):
        return False
    return True


def warm_up() -> None:
    """Import and exercise the parser once, so the first real query does not pay for it."""
    inspect("SELECT * FROM <urn:x:warm-up> { ?s ?p ?o }")
