"""The ontology: every term the data uses is declared or standard, every cdv: term is documented, the header is complete."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from rdflib import OWL, RDF, RDFS, SKOS, XSD, BNode, Graph, Literal, Namespace, URIRef

from .rdf_parse import load_turtle as load
from .rdf_parse import ontology_graph as ontology

ROOT = Path(__file__).resolve().parent.parent
CDV = Namespace("https://w3id.org/cdv/ontology#")
ONTOLOGY_IRI = URIRef("https://w3id.org/cdv/ontology")
ID = "https://w3id.org/cdv/id/"
DCTERMS = Namespace("http://purl.org/dc/terms/")
VANN = Namespace("http://purl.org/vocab/vann/")

# The standard terms the project uses, each checked in its specification. A misspelt term (org:postin,
# eli:date_doc) is not listed and fails the tests below: list new terms here only after checking them.
STANDARD_TERMS = {
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": {"type", "value", "langString"},
    "http://www.w3.org/2000/01/rdf-schema#": {
        "label",
        "isDefinedBy",
        "domain",
        "range",
        "subClassOf",
        "subPropertyOf",
        "Datatype",
        "seeAlso",
    },
    "http://www.w3.org/2001/XMLSchema#": {"date", "gYear", "integer", "string"},
    "http://www.w3.org/2002/07/owl#": {
        "Ontology",
        "Class",
        "ObjectProperty",
        "AnnotationProperty",
        "DatatypeProperty",
        "versionIRI",
        "versionInfo",
        "sameAs",
    },
    "http://www.w3.org/2004/02/skos/core#": {
        "Concept",
        "ConceptScheme",
        "prefLabel",
        "altLabel",
        "hiddenLabel",
        "definition",
        "notation",
        "inScheme",
        "hasTopConcept",
        "topConceptOf",
        "closeMatch",
        "exactMatch",
    },
    "http://purl.org/dc/terms/": {
        "PeriodOfTime",
        "title",
        "alternative",
        "description",
        "date",
        "created",
        "modified",
        "creator",
        "publisher",
        "license",
        "language",
        "format",
        "conformsTo",
        "temporal",
        "spatial",
        "subject",
        "references",
        "isPartOf",
    },
    "http://purl.org/vocab/vann/": {"preferredNamespacePrefix", "preferredNamespaceUri"},
    "http://www.w3.org/ns/dcat#": {"startDate", "endDate"},
    "http://www.w3.org/ns/prov#": {
        "Activity",
        "Attribution",
        "Entity",
        "Plan",
        "agent",
        "atLocation",
        "wasAssociatedWith",
        "wasAttributedTo",
        "wasDerivedFrom",
        "wasGeneratedBy",
    },
    "http://www.w3.org/ns/oa#": {"SpecificResource", "FragmentSelector", "hasSource", "hasSelector"},
    "http://www.w3.org/ns/org#": {
        "Organization",
        "FormalOrganization",
        "OrganizationalUnit",
        "Post",
        "postIn",
        "heldBy",
        "unitOf",
        "subOrganizationOf",
        "hasUnit",
        "hasSubOrganization",
        "classification",
        "identifier",
    },
    "http://xmlns.com/foaf/0.1/": {
        "Agent",
        "Document",
        "Organization",
        "Person",
        "name",
        "givenName",
        "familyName",
        "title",
        "primaryTopic",
    },
    "http://data.europa.eu/eli/ontology#": {
        "LegalResource",
        "WorkSubdivision",
        "type_document",
        "date_document",
        "passed_by",
        "number",
        "id_local",
        "cites",
        "amends",
    },
    "http://data.europa.eu/m8g/": {"PublicOrganisation"},
    "http://www.opengis.net/ont/geosparql#": {"Feature", "sfWithin"},
    "http://rdf.insee.fr/def/geo#": {
        "Commune",
        "Intercommunalite",
        "Departement",
        "Region",
        "codeINSEE",
        "subdivisionDe",
        "subdivisionDirecteDe",
    },
}

# Resources outside the project that the data points to without describing them.
EXTERNAL_RESOURCES = {
    "http://publications.europa.eu/resource/authority/language/FRA",
    "http://publications.europa.eu/resource/authority/resource-type/DEC",
    "http://www.iana.org/assignments/media-types/text/plain",
    "http://tools.ietf.org/rfc/rfc5147",
    "https://www.etalab.gouv.fr/licence-ouverte-open-licence",
    "https://w3id.org/cdv/ontology/0.3.0",  # the ontology's version IRI
}
# The links to the national registers (owl:sameAs, skos:exactMatch, rdfs:seeAlso) point outside the project:
# their targets are checked, with the page that shows each, in tests/test_external_links.py.
LINK_PROPERTIES = (OWL.sameAs, SKOS.exactMatch, RDFS.seeAlso)


@cache
def data() -> Graph:
    return load(sorted((ROOT / "data").glob("*/*/*.ttl")))


def cdv_terms() -> set[URIRef]:
    return {s for s in ontology().subjects() if isinstance(s, URIRef) and s.startswith(str(CDV))}


def split(iri: str) -> tuple[str, str]:
    cut = max(iri.rfind("#"), iri.rfind("/")) + 1
    return iri[:cut], iri[cut:]


def standard(iri: str) -> bool:
    namespace, name = split(iri)
    return name in STANDARD_TERMS.get(namespace, set())


def iris(graph: Graph) -> set[URIRef]:
    """The IRIs of a graph's triples, the datatypes of its literals included (cdv:Siren, xsd:date…)."""
    terms = {t for triple in graph for t in triple if isinstance(t, URIRef)}
    return terms | {o.datatype for o in graph.objects() if isinstance(o, Literal) and o.datatype}


@pytest.mark.parametrize("which", ["data", "ontology"])
def test_every_iri_is_declared_standard_or_a_known_external_resource(which: str) -> None:
    graph = data() if which == "data" else ontology()
    declared = set(data().subjects()) | set(ontology().subjects())
    link_targets = {o for p in LINK_PROPERTIES for o in graph.objects(None, p)}
    unknown = []
    for iri in sorted(iris(graph)):
        if iri.startswith(str(CDV)):
            ok = iri in cdv_terms()
        elif iri.startswith(ID):
            ok = iri in declared
        elif split(iri)[0] in STANDARD_TERMS:
            ok = standard(iri)
        else:
            ok = str(iri) in EXTERNAL_RESOURCES or iri in declared or iri in link_targets
        if not ok:
            unknown.append(str(iri))
    assert unknown == []


def test_the_standard_term_list_has_no_unused_entry() -> None:
    """The allow-list documents what is used; an entry nothing uses is a stale or misspelt one."""
    used = {str(iri) for iri in iris(data()) | iris(ontology())}
    listed = {namespace + name for namespace, names in STANDARD_TERMS.items() for name in names}
    assert sorted(listed - used) == []


def test_every_cdv_term_the_data_uses_is_used_and_declared_both_ways() -> None:
    # the data, and the drafts the extractor writes for other territories' protocols (the signing place and
    # date, which Le Quesnoy's text does not print)
    drafts = load(sorted((ROOT / "tests" / "fixtures" / "protocols").glob("*.expected.ttl")))
    used = {iri for iri in iris(data()) | iris(drafts) if iri.startswith(str(CDV))}
    annotations = {t for t in cdv_terms() if (t, RDF.type, OWL.AnnotationProperty) in ontology()}
    assert used == cdv_terms() - annotations, "declared but unused, or used but undeclared"
    assert {iri for iri in iris(data()) if iri.startswith(str(CDV))} <= cdv_terms()
    # an annotation property annotates the ontology's own terms, not the data
    assert all(any(ontology().subject_objects(t)) for t in annotations)


def literal_langs(graph: Graph, subject: URIRef, predicate: URIRef) -> set[str | None]:
    return {o.language for o in graph.objects(subject, predicate) if isinstance(o, Literal)}


@pytest.mark.parametrize("term", sorted(cdv_terms()), ids=lambda t: t.removeprefix(str(CDV)))
def test_cdv_term_is_documented_in_french_and_english(term: URIRef) -> None:
    graph = ontology()
    assert {"fr", "en"} <= literal_langs(graph, term, RDFS.label)
    assert {"fr", "en"} <= literal_langs(graph, term, SKOS.definition)
    assert graph.value(term, RDFS.isDefinedBy) == ONTOLOGY_IRI
    kinds = set(graph.objects(term, RDF.type))
    assert kinds & {
        OWL.Class,
        OWL.ObjectProperty,
        OWL.DatatypeProperty,
        OWL.AnnotationProperty,
        RDFS.Datatype,
    }, f"{term} has no OWL kind"


@pytest.mark.parametrize(
    "term",
    sorted(t for t in cdv_terms() if (t, RDF.type, OWL.Class) in ontology()),
    ids=lambda t: t.split("#")[1],
)
def test_cdv_class_is_aligned_to_a_standard_class(term: URIRef) -> None:
    """Every class specialises a standard class, directly or through another cdv: class."""
    graph = ontology()
    ancestors = set(graph.transitive_objects(term, RDFS.subClassOf)) - {term}
    assert any(standard(str(a)) for a in ancestors), f"{term} is not aligned"


@pytest.mark.parametrize(
    ("predicate", "expected"),
    [
        (
            DCTERMS.title,
            {
                Literal("Ontologie des contrats de ville", lang="fr"),
                Literal("Contrats de ville ontology", lang="en"),
            },
        ),
        (OWL.versionIRI, {URIRef("https://w3id.org/cdv/ontology/0.3.0")}),
        (OWL.versionInfo, {Literal("0.3.0")}),
        (DCTERMS.license, {URIRef("https://www.etalab.gouv.fr/licence-ouverte-open-licence")}),
        (DCTERMS.created, {Literal("2026-11-25", datatype=XSD.date)}),
        (DCTERMS.modified, {Literal("2026-12-02", datatype=XSD.date)}),
        (VANN.preferredNamespacePrefix, {Literal("cdv")}),
        (VANN.preferredNamespaceUri, {Literal(str(CDV))}),
    ],
    ids=lambda v: v.split("/")[-1].split("#")[-1] if isinstance(v, URIRef) else None,
)
def test_ontology_header(predicate: URIRef, expected: set) -> None:
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in ontology()
    assert set(ontology().objects(ONTOLOGY_IRI, predicate)) == expected


@pytest.mark.parametrize("predicate", [DCTERMS.description, DCTERMS.creator, DCTERMS.publisher])
def test_ontology_header_describes_and_credits(predicate: URIRef) -> None:
    values = set(ontology().objects(ONTOLOGY_IRI, predicate))
    assert values
    if predicate == DCTERMS.description:
        assert {v.language for v in values} == {"fr", "en"}


@pytest.mark.parametrize(
    ("scheme", "size"),
    [
        ("https://w3id.org/cdv/id/concept/pilier", 3),
        ("https://w3id.org/cdv/id/concept/type-de-texte", 16),
        ("https://w3id.org/cdv/id/concept/categorie-d-acteur", 1),
    ],
)
def test_concept_schemes_are_complete_and_bilingual(scheme: str, size: int) -> None:
    graph = ontology()
    scheme_iri = URIRef(scheme)
    concepts = set(graph.subjects(SKOS.inScheme, scheme_iri))
    assert len(concepts) == size
    assert set(graph.objects(scheme_iri, SKOS.hasTopConcept)) == concepts
    assert {"fr", "en"} <= literal_langs(graph, scheme_iri, SKOS.prefLabel)
    for concept in concepts:
        assert (concept, RDF.type, SKOS.Concept) in graph
        assert (concept, SKOS.topConceptOf, scheme_iri) in graph
        assert concept.startswith(scheme + "/")
        assert literal_langs(graph, concept, SKOS.prefLabel) == {"fr", "en"}, concept
        assert literal_langs(graph, concept, SKOS.definition) == {"fr", "en"}, concept


def test_the_three_national_pillars() -> None:
    labels = {
        str(graph_label)
        for graph_label in ontology().objects(None, SKOS.prefLabel)
        if graph_label.language == "fr"
    }
    assert {
        "Cohésion sociale",
        "Cadre de vie et renouvellement urbain",
        "Emploi et développement économique",
    } <= labels


OUR_TURTLE = sorted(
    [
        *(ROOT / "ontology").glob("*.ttl"),
        *(ROOT / "data").glob("*/*/*.ttl"),
        *(ROOT / "shapes").glob("cdv-*.ttl"),
        *(ROOT / "tests" / "fixtures" / "shapes").glob("*.ttl"),
    ]
)


@pytest.mark.parametrize("path", OUR_TURTLE, ids=lambda p: str(p.relative_to(ROOT)))
def test_turtle_file_opens_with_a_comment_and_sorts_its_prefixes(path: Path) -> None:
    lines = path.read_text("utf-8").splitlines()
    assert lines[0].startswith("# "), "a Turtle file opens with a comment saying what it holds"
    prefixes = [m.group(1) for m in (re.match(r"@prefix (\S*): ", line) for line in lines) if m]
    assert prefixes == sorted(prefixes)


@pytest.mark.parametrize("path", OUR_TURTLE, ids=lambda p: str(p.relative_to(ROOT)))
def test_turtle_file_has_one_subject_block_per_resource(path: Path) -> None:
    """A resource is described in one block of its file, not scattered (blank nodes aside)."""
    text = path.read_text("utf-8")
    starts = re.findall(r"^(<[^>]+>|[A-Za-z][\w-]*:\S*) (?:a |[a-z]+:)", text, flags=re.MULTILINE)
    repeated = sorted({s for s in starts if starts.count(s) > 1})
    assert repeated == []


def test_data_uses_no_blank_node_but_passage_selectors() -> None:
    oa_selector = URIRef("http://www.w3.org/ns/oa#hasSelector")
    for subject, predicate, obj in data():
        if isinstance(obj, BNode):
            assert predicate == oa_selector, (subject, predicate)
        if isinstance(subject, BNode):
            assert (None, oa_selector, subject) in data()


@pytest.mark.parametrize(
    "prop",
    sorted(t for t in cdv_terms() if (t, RDF.type, OWL.ObjectProperty) in ontology()),
    ids=lambda t: t.removeprefix(str(CDV)),
)
def test_object_property_reads_backwards_in_french_and_english(prop: URIRef) -> None:
    """The heading of a page's incoming links reads the property from its object ("mentionné par")."""
    assert {"fr", "en"} <= literal_langs(ontology(), prop, CDV.libelleInverse)
