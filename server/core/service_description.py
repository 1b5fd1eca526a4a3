"""The SPARQL 1.1 Service Description of `/sparql`: what the endpoint offers and the dataset it serves.

https://www.w3.org/TR/sparql11-service-description/ — answered to a client asking `/sparql` for RDF
without a query. It points to the VoID description (`/.well-known/void`) for the dataset's statistics.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from server.core import rdf as ox
from server.core import sparql_formats as formats
from server.core.backend import Backend
from server.core.vocab import prefixes

SD = "http://www.w3.org/ns/sparql-service-description#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
DCTERMS = "http://purl.org/dc/terms/"
VOID = "http://rdfs.org/ns/void#"
XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
SIMPLE_ENTAILMENT = "http://www.w3.org/ns/entailment/Simple"
PREFIXES = prefixes("sd", "rdfs", "dcterms", "void", "formats")

GRAPH_SIZES = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
UNION_SIZE = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }"
UNION_TRIPLES = "union_triples"  # the manifest's key for UNION_SIZE's answer, counted by `cdv build`


@dataclass(frozen=True)
class DatasetFigures:
    """The named graphs with their triple counts, and the triple count of their union (the default graph)."""

    graphs: Mapping[str, int]
    union_triples: int


def dataset_figures(store: Backend) -> DatasetFigures:
    """Count the triples of every named graph and of the union default graph (18 s at N = 1,000)."""
    graphs = {row["g"].value: int(row["n"].value) for row in store.query(GRAPH_SIZES, named_graphs=None)}
    union = next(iter(store.query(UNION_SIZE)))
    return DatasetFigures(graphs, int(union["n"].value))


def recorded_figures(manifest: Mapping[str, Any]) -> DatasetFigures | None:
    """The figures `cdv build` wrote in the release manifest: the triples of each graph it loaded (data
    graphs, then the metadata graph) and UNION_TRIPLES; None for a release built before it recorded them."""
    union = manifest.get(UNION_TRIPLES)
    if not isinstance(union, int):
        return None
    graphs = {**manifest.get("graphs", {}), **manifest.get("metadata_graph", {})}
    return DatasetFigures(dict(sorted(graphs.items())), union)  # sorted as GRAPH_SIZES orders them


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _count(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=XSD_INTEGER)


@dataclass(frozen=True)
class Names:
    """The IRIs and URLs the description uses."""

    service: str  # the service's public IRI, as the DCAT catalogue names it ({base}sparql#service)
    endpoint: str  # the URL clients send queries to (this server, or Settings.public_url)
    dataset: str  # the public IRI of the whole graph, the dataset VoID describes ({base}graph)
    void: str  # the URL of the VoID description


def names(base_iri: str, site_root: str) -> Names:
    """The names for a server whose public base `base_iri` is served at `site_root` (absolute, ending "/")."""
    return Names(
        base_iri + "sparql#service", site_root + "sparql", base_iri + "graph", site_root + ".well-known/void"
    )


def describe(names: Names, figures: DatasetFigures, timeout: float) -> list[ox.Triple]:
    """The service description triples."""
    service, dataset, default = _n(names.service), _n(names.dataset), ox.BlankNode()
    endpoint, void_url = names.endpoint, names.void
    triples = [
        ox.Triple(service, RDF_TYPE, _n(SD + "Service")),
        ox.Triple(service, _n(SD + "endpoint"), _n(endpoint)),
        ox.Triple(service, _n(SD + "supportedLanguage"), _n(SD + "SPARQL11Query")),
        ox.Triple(service, _n(SD + "feature"), _n(SD + "UnionDefaultGraph")),
        ox.Triple(service, _n(SD + "defaultEntailmentRegime"), _n(SIMPLE_ENTAILMENT)),
        ox.Triple(service, _n(SD + "defaultDataset"), dataset),
        ox.Triple(
            service,
            _n(DCTERMS + "title"),
            ox.Literal("Point d'accès SPARQL des contrats de ville", language="fr"),
        ),
        ox.Triple(
            service,
            _n(DCTERMS + "title"),
            ox.Literal("SPARQL endpoint of the contrats de ville graph", language="en"),
        ),
        ox.Triple(service, _n(RDFS + "comment"), ox.Literal(_policy(timeout), language="en")),
        ox.Triple(service, _n(RDFS + "seeAlso"), _n(void_url)),
        ox.Triple(dataset, RDF_TYPE, _n(SD + "Dataset")),
        ox.Triple(dataset, _n(RDFS + "seeAlso"), _n(void_url)),
        ox.Triple(dataset, _n(SD + "defaultGraph"), default),
        ox.Triple(default, RDF_TYPE, _n(SD + "Graph")),
        ox.Triple(default, _n(VOID + "triples"), _count(figures.union_triples)),
    ]
    triples += [ox.Triple(service, _n(SD + "resultFormat"), _n(iri)) for iri in formats.format_iris()]
    for name, size in figures.graphs.items():
        named, graph = ox.BlankNode(), ox.BlankNode()
        triples += [
            ox.Triple(dataset, _n(SD + "namedGraph"), named),
            ox.Triple(named, RDF_TYPE, _n(SD + "NamedGraph")),
            ox.Triple(named, _n(SD + "name"), _n(name)),
            ox.Triple(named, _n(SD + "graph"), graph),
            ox.Triple(graph, RDF_TYPE, _n(SD + "Graph")),
            ox.Triple(graph, _n(VOID + "triples"), _count(size)),
        ]
    return triples


def _policy(timeout: float) -> str:
    """The endpoint's rules, in one sentence for people reading the description."""
    return (
        "Read-only: SPARQL Update and federated queries (SERVICE) are refused; a query is stopped after "
        f"{timeout:g} s. Without default-graph-uri / named-graph-uri or FROM, the default graph is the union "
        "of all named graphs."
    )


def serialise(triples: list[ox.Triple], rdf_format: ox.RdfFormat) -> bytes:
    """The description in an RDF format, with readable prefixes where the format has them."""
    return ox.serialize(triples, format=rdf_format, prefixes=PREFIXES)
