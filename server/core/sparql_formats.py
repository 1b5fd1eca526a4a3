"""The result formats of the SPARQL endpoint: what each query form offers, and which pyoxigraph serialiser
writes each one. Pure data.

The first format of each list is the default (no Accept header, or `*/*`). Generic media types that real
clients send get the closest SPARQL format under the media type they asked for: `application/json` →
SPARQL JSON results (or JSON-LD for graphs), `application/xml` → SPARQL XML results (or RDF/XML),
`text/plain` → TSV results (readable in a terminal) or N-Triples (what old clients send for graphs).
SPARQLWrapper's `format=` names (`n3`, `rdf+xml`, `json-ld`) are understood: Turtle is valid N3.
"""

from __future__ import annotations

from dataclasses import replace

from server.core import rdf as ox
from server.core.negotiation import (
    CSV,
    JSON,
    JSONLD,
    NQUADS,
    NTRIPLES,
    PLAIN,
    RDFXML,
    SPARQL_JSON,
    SPARQL_XML,
    TRIG,
    TSV,
    TURTLE,
    Format,
)

SOLUTIONS = "solutions"  # SELECT
BOOLEAN = "boolean"  # ASK
GRAPH = "graph"  # CONSTRUCT, DESCRIBE
FORMS = (SOLUTIONS, BOOLEAN, GRAPH)

XML = Format("xml", "application/xml", "xml")
GRAPH_TURTLE = replace(
    TURTLE,
    aliases=(*TURTLE.aliases, "n3", "text/n3", "text/rdf+n3", "application/n3", "application/turtle"),
)
GRAPH_RDFXML = replace(RDFXML, aliases=(*RDFXML.aliases, "rdf+xml"))
GRAPH_JSONLD = replace(JSONLD, aliases=(*JSONLD.aliases, "application/x-json+ld"))

RESULT_FORMATS: tuple[Format, ...] = (SPARQL_JSON, SPARQL_XML, CSV, TSV, JSON, XML, PLAIN)
GRAPH_FORMATS: tuple[Format, ...] = (
    GRAPH_TURTLE,
    NTRIPLES,
    GRAPH_JSONLD,
    GRAPH_RDFXML,
    NQUADS,
    TRIG,
    JSON,
    XML,
    PLAIN,
)

# Every format a query can be answered in: a client preferring HTML to all of them is a browser.
BROWSER_RIVALS: tuple[Format, ...] = tuple(dict.fromkeys((*RESULT_FORMATS, *GRAPH_FORMATS)))

RESULT_SERIALISERS: dict[str, ox.QueryResultsFormat] = {
    SPARQL_JSON.media_type: ox.QueryResultsFormat.JSON,
    JSON.media_type: ox.QueryResultsFormat.JSON,
    SPARQL_XML.media_type: ox.QueryResultsFormat.XML,
    XML.media_type: ox.QueryResultsFormat.XML,
    CSV.media_type: ox.QueryResultsFormat.CSV,
    TSV.media_type: ox.QueryResultsFormat.TSV,
    PLAIN.media_type: ox.QueryResultsFormat.TSV,
}
GRAPH_SERIALISERS: dict[str, ox.RdfFormat] = {
    TURTLE.media_type: ox.RdfFormat.TURTLE,
    NTRIPLES.media_type: ox.RdfFormat.N_TRIPLES,
    PLAIN.media_type: ox.RdfFormat.N_TRIPLES,
    JSONLD.media_type: ox.RdfFormat.JSON_LD,
    JSON.media_type: ox.RdfFormat.JSON_LD,
    RDFXML.media_type: ox.RdfFormat.RDF_XML,
    XML.media_type: ox.RdfFormat.RDF_XML,
    NQUADS.media_type: ox.RdfFormat.N_QUADS,
    TRIG.media_type: ox.RdfFormat.TRIG,
}


def offered(form: str) -> tuple[Format, ...]:
    """The formats a query form can be answered in."""
    return GRAPH_FORMATS if form == GRAPH else RESULT_FORMATS


def serialiser(form: str, media_type: str) -> ox.QueryResultsFormat | ox.RdfFormat:
    """The pyoxigraph serialiser writing `media_type` for a query form."""
    return GRAPH_SERIALISERS[media_type] if form == GRAPH else RESULT_SERIALISERS[media_type]


def format_iris() -> list[str]:
    """The W3C format IRIs (http://www.w3.org/ns/formats/…) of every format served, for the service description."""
    iris = [f.iri for f in RESULT_SERIALISERS.values()] + [f.iri for f in GRAPH_SERIALISERS.values()]
    return list(dict.fromkeys(iris))
