"""The ontology's documentation page: every class and property with its labels and definitions in French
and English, domains, ranges, alignments, how many resources use it, and the concept schemes.

Our own template rather than pyLODE: pyLODE renders a standalone English page from the ontology file alone;
this page lives in the site's French layout, links every value to its page here, and counts uses in the
published data. Two queries: the ontology graph, one aggregate of uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from server.core import rdf as ox
from server.core.backend import Backend
from server.core.config import Settings
from server.core.describe import DCTERMS, FOAF, OWL, RDF, RDF_TYPE, RDFS, SKOS, sparql_prefixes
from server.core.iris import IriMap
from server.core.presentation import index, local_name, pick, sort_key

VANN = "http://purl.org/vocab/vann/"
SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("classes", "Classes", (OWL + "Class", RDFS + "Class")),
    ("proprietes-objet", "Propriétés d’objet (liens entre ressources)", (OWL + "ObjectProperty",)),
    ("proprietes-valeur", "Propriétés de valeur (textes, nombres, dates)", (OWL + "DatatypeProperty",)),
    ("autres-proprietes", "Autres propriétés", (OWL + "AnnotationProperty", RDF + "Property")),
    ("types-de-donnees", "Types de données (identifiants des registres)", (RDFS + "Datatype",)),
)
ALIGNMENTS: tuple[tuple[str, str], ...] = (
    (RDFS + "subClassOf", "sous-classe de"),
    (RDFS + "subPropertyOf", "sous-propriété de"),
    (OWL + "equivalentClass", "équivalent à"),
    (OWL + "equivalentProperty", "équivalent à"),
    (SKOS + "exactMatch", "correspond exactement à"),
    (SKOS + "closeMatch", "correspond à peu près à"),
    (OWL + "inverseOf", "inverse de"),
)


@dataclass(frozen=True)
class TermRef:
    """A term shown as a link: in-page anchor for our terms, its own IRI otherwise."""

    iri: str
    label: str
    href: str | None


@dataclass
class Term:
    """One class or property of the ontology."""

    iri: str
    anchor: str
    curie: str
    labels: dict[str, str] = field(default_factory=dict)
    definitions: dict[str, str] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    alignments: list[tuple[str, TermRef]] = field(default_factory=list)
    domains: list[TermRef] = field(default_factory=list)
    ranges: list[TermRef] = field(default_factory=list)
    subterms: list[TermRef] = field(default_factory=list)
    uses: int = 0


@dataclass
class Concept:
    """A concept of a scheme."""

    iri: str
    href: str | None
    labels: dict[str, str]
    notation: str | None
    definition: str | None


@dataclass
class Scheme:
    """A SKOS concept scheme and its concepts."""

    iri: str
    href: str | None
    anchor: str
    labels: dict[str, str]
    definitions: dict[str, str]
    concepts: list[Concept] = field(default_factory=list)


@dataclass
class OntologyDoc:
    """Everything ontology.html shows."""

    iri: str
    namespace: str
    prefix: str
    meta: dict[str, dict[str, str]]  # dcterms:title, description… by language
    version: str | None
    version_iri: str | None
    license: str | None
    sections: list[tuple[str, str, list[Term]]]
    schemes: list[Scheme]
    agents: dict[str, list[TermRef]] = field(default_factory=dict)  # dcterms:creator, dcterms:publisher


Index = dict[
    str, dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal]]
]  # subject IRI → predicate → objects


def _texts(idx: Index, subject: str, predicate: str) -> dict[str, str]:
    """Literal values by language ("" for none), the first of each language."""
    result: dict[str, str] = {}
    for o in idx.get(subject, {}).get(predicate, []):
        if isinstance(o, ox.Literal):
            result.setdefault(o.language or "", o.value)
    return result


def _iris(idx: Index, subject: str, predicate: str) -> list[str]:
    return [o.value for o in idx.get(subject, {}).get(predicate, []) if isinstance(o, ox.NamedNode)]


def document(
    triples: Iterable[ox.Triple],
    uses: Mapping[str, int],
    ontology_iri: str,
    names: Mapping[str, str],
    iris: IriMap,
) -> OntologyDoc:
    """Pure: the ontology graph and the use counts → the documentation page's content."""
    idx: Index = {subject.value: props for subject, props in index(triples).items()}
    namespace = ontology_iri + "#"

    def curie(iri: str) -> str:
        for name, ns in names.items():
            if iri.startswith(ns) and len(iri) > len(ns):
                return f"{name}:{iri[len(ns) :]}"
        return iri

    def ref(iri: str) -> TermRef:
        if iri.startswith(namespace):
            return TermRef(iri, curie(iri), "#" + iri[len(namespace) :])
        return TermRef(iri, curie(iri), iris.href(iri))

    terms: dict[str, Term] = {}
    sections = []
    for anchor, title, classes in SECTIONS:
        members = []
        for subject, props in idx.items():
            kinds = {o.value for o in props.get(RDF_TYPE, [])}
            if not subject.startswith(namespace) or subject in terms or not kinds & set(classes):
                continue
            term = Term(subject, subject[len(namespace) :], curie(subject))
            term.labels = _texts(idx, subject, RDFS + "label")
            term.definitions = _texts(idx, subject, SKOS + "definition")
            term.comments = _texts(idx, subject, RDFS + "comment")
            term.alignments = [(label, ref(o)) for p, label in ALIGNMENTS for o in _iris(idx, subject, p)]
            term.domains = [ref(o) for o in _iris(idx, subject, RDFS + "domain")]
            term.ranges = [ref(o) for o in _iris(idx, subject, RDFS + "range")]
            term.uses = uses.get(subject, 0)
            terms[subject] = term
            members.append(term)
        members.sort(key=lambda t: sort_key(t.anchor))
        sections.append((anchor, title, members))
    for term in terms.values():
        for _label, parent in term.alignments:
            if parent.iri in terms and _label.startswith("sous-"):
                terms[parent.iri].subterms.append(ref(term.iri))
    ontology = idx.get(ontology_iri, {})
    return OntologyDoc(
        iri=ontology_iri,
        namespace=(_texts(idx, ontology_iri, VANN + "preferredNamespaceUri").get("") or namespace),
        prefix=(_texts(idx, ontology_iri, VANN + "preferredNamespacePrefix").get("") or "cdv"),
        meta={
            name: _texts(idx, ontology_iri, DCTERMS + name)
            for name in ("title", "description", "created", "modified")
        },
        version=next(iter(_texts(idx, ontology_iri, OWL + "versionInfo").values()), None),
        version_iri=next(iter(_iris(idx, ontology_iri, OWL + "versionIRI")), None),
        license=next(iter(_iris(idx, ontology_iri, DCTERMS + "license")), None) if ontology else None,
        sections=sections,
        schemes=_schemes(idx, iris),
        agents={
            role: [_agent(idx, o, iris) for o in _iris(idx, ontology_iri, DCTERMS + role)]
            for role in ("creator", "publisher")
        },
    )


def _agent(idx: Index, iri: str, iris: IriMap) -> TermRef:
    """An author or publisher, by its label in the ontology graph."""
    names = {**_texts(idx, iri, FOAF + "name"), **_texts(idx, iri, RDFS + "label")}
    chosen = pick(names)
    return TermRef(iri, chosen[1] if chosen else iri, iris.href(iri))


def _schemes(idx: Index, iris: IriMap) -> list[Scheme]:
    """The concept schemes of the ontology graph, their concepts in notation order."""
    schemes = []
    for subject, props in idx.items():
        if SKOS + "ConceptScheme" not in {o.value for o in props.get(RDF_TYPE, [])}:
            continue
        scheme = Scheme(
            subject,
            iris.href(subject),
            "schema-" + local_name(subject),
            _texts(idx, subject, SKOS + "prefLabel"),
            _texts(idx, subject, SKOS + "definition"),
        )
        for concept, cprops in idx.items():
            if subject in {o.value for o in cprops.get(SKOS + "inScheme", [])}:
                definition = pick(_texts(idx, concept, SKOS + "definition"))
                scheme.concepts.append(
                    Concept(
                        concept,
                        iris.href(concept),
                        _texts(idx, concept, SKOS + "prefLabel"),
                        next(iter(_texts(idx, concept, SKOS + "notation").values()), None),
                        definition[1] if definition else None,
                    )
                )
        scheme.concepts.sort(
            key=lambda c: (_notation_key(c.notation), sort_key(pick(c.labels)[1] if c.labels else c.iri))
        )
        schemes.append(scheme)
    return sorted(schemes, key=lambda s: sort_key(s.anchor))


def _notation_key(notation: str | None) -> tuple[int, int, str]:
    if notation is None:
        return (1, 0, "")
    return (0, int(notation), "") if notation.isdigit() else (0, 0, notation)


def ontology_graph(store: Backend, settings: Settings) -> list[ox.Triple]:
    """The triples of the ontology's named graph (the ontology and its concept schemes)."""
    query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    return list(store.query(query, default_graphs=[settings.graph_base + "ontology"]))


TERM_USES = "term_uses"  # the manifest's key for `uses` of the ontology's namespace, counted by `cdv build`


def recorded_uses(manifest: Mapping[str, object]) -> dict[str, int] | None:
    """The use counts `cdv build` wrote in the release manifest; None for a release built before."""
    counts = manifest.get(TERM_USES)
    if not isinstance(counts, dict):
        return None
    return {str(term): int(n) for term, n in counts.items()}


def uses(store: Backend, settings: Settings, namespace: str) -> dict[str, int]:
    """One aggregate query: how many resources of the data use each term of the namespace."""
    query = (
        sparql_prefixes(namespace)
        + """SELECT ?ns ?ontology ?t (COUNT(DISTINCT ?s) AS ?n) WHERE {
  GRAPH ?g { { ?s a ?t } UNION { ?s ?t ?o } }
  FILTER(?g != ?ontology && STRSTARTS(STR(?t), ?ns))
} GROUP BY ?ns ?ontology ?t"""
    )
    rows = store.query(
        query,
        substitutions={
            "ns": ox.Literal(namespace),
            "ontology": ox.NamedNode(settings.graph_base + "ontology"),
        },
    )
    return {row["t"].value: int(row["n"].value) for row in rows}


def ontology_doc(
    store: Backend,
    settings: Settings,
    names: Mapping[str, str],
    iris: IriMap,
    recorded: Mapping[str, int] | None = None,
) -> OntologyDoc:
    """The ontology graph (one query) and the use counts: `recorded` by the build, else one more query (it
    reads every quad: 30 s at N = 1,000)."""
    counts = recorded if recorded is not None else uses(store, settings, settings.ontology_iri + "#")
    return document(ontology_graph(store, settings), counts, settings.ontology_iri, names, iris)
