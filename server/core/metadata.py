"""Pure: the facts the portal metadata is built from, and the VoID description (the catalogue is `dcat.py`).

Nothing here reads a store or a file: `server/build/dumps.py` gathers the facts (statistics, per-document facts,
the dump files) at build time and passes them in; the server only serves what was produced from them.

IRIs (all under the public base, so each one resolves on the running server through the base mapping):
- the catalogue `{base}catalog`, its publisher `{base}catalog#publisher` and contact `{base}catalog#contact`;
- one dataset per named graph, identified by the graph's own IRI (`{base}graph/<territoire>/<document>`,
  `{base}graph/ontology`), so a SPARQL user reads a dataset with `GRAPH <dataset IRI>`; the whole knowledge
  graph is `{base}graph` and has them as parts; distributions are `{dataset}#dump-<ext>[-gz]`;
- the SPARQL service `{base}sparql#service`, its endpoint `{base}sparql`;
- the VoID document `{base}.well-known/void`; the ontology `{base}ontology` and the shapes `{base}shapes`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, VOID, XSD

from server.core.negotiation import Format
from server.core.vocab import CATALOGUE, prefixes

SPDX = Namespace("http://spdx.org/rdf/terms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"

# data.gouv.fr recognises Etalab 2.0 ("lov2") by this exact URL in its licence list.
LICENCE = URIRef("https://www.etalab.gouv.fr/licence-ouverte-open-licence")
PREFIXES = prefixes(*CATALOGUE)


@dataclass(frozen=True)
class Statistics:
    """VoID statistics of one dataset (a named graph, or the union of the data graphs)."""

    triples: int
    entities: int
    distinct_subjects: int
    distinct_objects: int
    classes: dict[str, int] = field(default_factory=dict)  # class IRI → instances
    properties: dict[str, int] = field(default_factory=dict)  # property IRI → triples


@dataclass(frozen=True)
class Dump:
    """One file of the release's dumps/ folder."""

    name: str
    format: Format
    compressed: bool
    byte_size: int
    sha256: str
    triples: int


@dataclass(frozen=True)
class DocumentFacts:
    """What the catalogue says about one document graph, read from the graph itself."""

    graph: str
    title: str
    document: str | None = None  # the avenant's IRI
    spatial: tuple[str, ...] = ()
    period: tuple[Literal, Literal] | None = None
    sources: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)  # "axes", "objectifs", "mesures" → n


@dataclass(frozen=True)
class OntologyFacts:
    """The ontology header, read from the ontology graph."""

    iri: str
    titles: dict[str, str] = field(default_factory=dict)
    version: str | None = None
    created: Literal | None = None


@dataclass(frozen=True)
class Publication:
    """Everything the metadata is built from."""

    base_iri: str
    built: datetime
    ontology: OntologyFacts
    documents: Sequence[DocumentFacts]
    statistics: dict[str, Statistics]  # dataset IRI → statistics
    dumps: dict[str, Sequence[Dump]]  # dataset IRI → its dump files
    contact_url: str

    @property
    def whole(self) -> str:
        """The IRI of the whole knowledge graph as a dataset."""
        return self.base_iri + "graph"

    @property
    def ontology_graph(self) -> str:
        """The IRI of the ontology's named graph (and dataset)."""
        return self.base_iri + "graph/ontology"

    def iri(self, path: str) -> URIRef:
        """A public IRI under the base."""
        return URIRef(self.base_iri + path)


def vocabularies(stats: Statistics) -> list[str]:
    """The namespaces of the classes and properties a dataset uses (VoID `void:vocabulary`)."""
    spaces = set()
    for iri in (*stats.classes, *stats.properties):
        cut = max(iri.rfind("#"), iri.rfind("/"))
        if cut > 0:
            spaces.add(iri[: cut + 1])
    return sorted(spaces)


def void_graph(pub: Publication) -> Graph:
    """The VoID description: the whole graph and one subset per named graph, with statistics."""
    g = graph()
    doc = pub.iri(".well-known/void")
    whole = URIRef(pub.whole)
    g.add((doc, RDF.type, VOID.DatasetDescription))
    g.add((doc, DCTERMS.title, Literal("Description VoID du graphe cdv", lang="fr")))
    g.add((doc, DCTERMS.title, Literal("VoID description of the cdv graph", lang="en")))
    g.add((doc, FOAF.primaryTopic, whole))
    for dataset, stats in pub.statistics.items():
        node = URIRef(dataset)
        g.add((node, RDF.type, VOID.Dataset))
        g.add((node, VOID.sparqlEndpoint, pub.iri("sparql")))
        g.add((node, VOID.uriSpace, Literal(pub.base_iri)))
        g.add((node, DCTERMS.license, LICENCE))
        for title in titles(pub, dataset):
            g.add((node, DCTERMS.title, title))
        for dump in pub.dumps.get(dataset, ()):
            g.add((node, VOID.dataDump, pub.iri("dumps/" + dump.name)))
        _add_statistics(g, node, stats)
        if dataset != pub.whole:
            g.add((whole, VOID.subset, node))
    return g


def _add_statistics(g: Graph, node: URIRef, stats: Statistics) -> None:
    """The counts and the class and property partitions of one dataset."""
    for prop, value in (
        (VOID.triples, stats.triples),
        (VOID.entities, stats.entities),
        (VOID.distinctSubjects, stats.distinct_subjects),
        (VOID.distinctObjects, stats.distinct_objects),
        (VOID.classes, len(stats.classes)),
        (VOID.properties, len(stats.properties)),
    ):
        g.add((node, prop, Literal(value, datatype=XSD.integer)))
    for vocabulary in vocabularies(stats):
        g.add((node, VOID.vocabulary, URIRef(vocabulary)))
    for cls, count in sorted(stats.classes.items()):
        part = BNode()
        g.add((node, VOID.classPartition, part))
        g.add((part, VOID["class"], URIRef(cls)))
        g.add((part, VOID.entities, Literal(count, datatype=XSD.integer)))
    for prop, count in sorted(stats.properties.items()):
        part = BNode()
        g.add((node, VOID.propertyPartition, part))
        g.add((part, VOID.property, URIRef(prop)))
        g.add((part, VOID.triples, Literal(count, datatype=XSD.integer)))


def graph() -> Graph:
    """An empty rdflib graph with the metadata prefixes bound."""
    g = Graph(bind_namespaces="none")
    for prefix, namespace in PREFIXES.items():
        g.bind(prefix, namespace)
    return g


def titles(pub: Publication, dataset: str) -> list[Literal]:
    """Dataset titles in French and English."""
    if dataset == pub.whole:
        return [
            Literal("Graphe de connaissances des contrats de ville (complet)", lang="fr"),
            Literal("Knowledge graph of France's contrats de ville (complete)", lang="en"),
        ]
    if dataset == pub.ontology_graph:
        return [
            Literal("Ontologie et vocabulaires des contrats de ville", lang="fr"),
            Literal("Ontology and vocabularies of the contrats de ville", lang="en"),
        ]
    for doc in pub.documents:
        if doc.graph == dataset:
            return [
                Literal(f"{doc.title} — graphe de connaissances", lang="fr"),
                Literal(f"{doc.title} — knowledge graph", lang="en"),
            ]
    return [Literal(dataset)]


def keyword_list(labels: Iterable[str]) -> tuple[str, ...]:
    """Deduplicated keywords, first spelling kept, in order."""
    seen: dict[str, str] = {}
    for label in labels:
        text = " ".join(label.split())
        if text and text.lower() not in seen:
            seen[text.lower()] = text
    return tuple(seen.values())
