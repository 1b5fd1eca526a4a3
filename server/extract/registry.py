"""Organisations, posts and texts already described in a graph, so a draft reuses their IRIs and names.

A territory's protocol names national bodies (the État, Pôle Emploi, the CAF of its département…) that other
documents of the graph already describe: the extractor links to those rather than minting a second IRI.
Names are compared folded (case, accents, apostrophes ignored) against rdfs:label, skos:prefLabel and the
skos:altLabel of several words; a name two resources share is ambiguous and not used. A reference text the
graph already describes (same IRI) keeps its label and title there, so the documents agree on shared resources.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import rdflib
from rdflib.namespace import DCTERMS, FOAF, ORG, RDF, RDFS, SKOS

from server.core.rdfio import load_rdflib, rdf_files
from server.extract.names import fold

CPOV_PUBLIC = rdflib.URIRef("http://data.europa.eu/m8g/PublicOrganisation")
ELI_LEGAL_RESOURCE = rdflib.URIRef("http://data.europa.eu/eli/ontology#LegalResource")
AGENT_CLASSES = (
    ORG.Organization,
    ORG.OrganizationalUnit,
    ORG.FormalOrganization,
    ORG.Post,
    CPOV_PUBLIC,
    FOAF.Organization,
)


@dataclass(frozen=True)
class Registry:
    """Folded names → IRIs, each IRI's label, and the titles of known texts."""

    names: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    titles: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def find(self, name: str) -> str | None:
        """The IRI of the organisation or post named `name`, if exactly one has that name."""
        return self.names.get(fold(name))


def _usable(label: rdflib.Literal, predicate: rdflib.URIRef) -> bool:
    """Labels always; alternative names only when specific (several words, one of them capitalised)."""
    if predicate != SKOS.altLabel:
        return True
    words = str(label).split()
    return len(words) >= 2 and any(w[:1].isupper() for w in words)


def registry_from_graph(graph: rdflib.Graph) -> Registry:
    """The registry of every organisation and post in `graph`."""
    candidates: dict[str, set[str]] = {}
    labels: dict[str, str] = {}
    subjects = {
        s for cls in AGENT_CLASSES for s in graph.subjects(RDF.type, cls) if isinstance(s, rdflib.URIRef)
    }
    for subject in subjects:
        for predicate in (SKOS.prefLabel, RDFS.label, SKOS.altLabel):
            for label in graph.objects(subject, predicate):
                if isinstance(label, rdflib.Literal) and _usable(label, predicate):
                    candidates.setdefault(fold(str(label)), set()).add(str(subject))
                    if predicate != SKOS.altLabel:
                        labels.setdefault(str(subject), str(label))
    titles: dict[str, str] = {}
    for text in graph.subjects(RDF.type, ELI_LEGAL_RESOURCE):
        for predicate, store in ((RDFS.label, labels), (DCTERMS.title, titles)):
            value = graph.value(text, predicate)
            if isinstance(value, rdflib.Literal):
                store.setdefault(str(text), str(value))
    names = {name: next(iter(iris)) for name, iris in candidates.items() if len(iris) == 1 and name}
    return Registry(MappingProxyType(names), MappingProxyType(labels), MappingProxyType(titles))


def load_registry(paths: Iterable[Path]) -> Registry:
    """The registry of the RDF files under `paths` (files or folders)."""
    files = [p for p in rdf_files(paths) if p.is_file()]
    return registry_from_graph(load_rdflib(files)) if files else Registry()
