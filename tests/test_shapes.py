"""The SHACL shapes: the project's data conforms, a valid fixture conforms, each invalid fixture fails by its rule."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import RDF, RDFS, SH, SKOS, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection

from .rdf_parse import load_turtle as load
from .rdf_parse import ontology_graph as ontology

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "shapes"
OUR_SHAPES = (ROOT / "shapes" / "cdv-shapes.ttl", ROOT / "shapes" / "cdv-recommendations.ttl")
CDV = "https://w3id.org/cdv/ontology#"
INFERENCES = ("none", "rdfs")  # both are supported, and must agree
# The invalid fixtures run with the mode `cdv validate` uses by default; the other mode is the slow variant.
FIXTURE_INFERENCES = [pytest.param("rdfs"), pytest.param("none", marks=pytest.mark.slow)]


@cache
def our_shapes() -> Graph:
    return load(OUR_SHAPES)


def results(data: Graph, shapes: Graph, inference: str) -> set[tuple[str, str]]:
    """(source shape, severity) of every validation result, local names for our shapes."""
    _conforms, report, _text = validate(
        data, shacl_graph=shapes, ont_graph=ontology(), inference=inference, allow_warnings=True
    )
    found = set()
    for result in report.subjects(RDF.type, SH.ValidationResult):
        shape = report.value(result, SH.sourceShape)
        severity = report.value(result, SH.resultSeverity)
        name = str(shape).removeprefix(CDV) if isinstance(shape, URIRef) else "(blank node shape)"
        found.add((name, str(severity).rsplit("#", 1)[-1]))
    return found


# The recommendations that ask for links to the national registers: the project's data is left with the
# resources no register's own page could confirm (tests/test_external_links.py lists them, one by one).
LINK_SHAPES = {
    "LienAutoriteTexteNationalShape",
    "LienAutoriteTerritoireShape",
    "IdentifiantOrganisationPubliqueShape",
}


@pytest.mark.parametrize("inference", INFERENCES)
def test_project_data_conforms_to_every_shape(inference: str) -> None:
    data = load(sorted((ROOT / "data").glob("*/*/*.ttl")))
    shapes = load(sorted((ROOT / "shapes").glob("*.ttl")))
    assert {
        (name, severity) for name, severity in results(data, shapes, inference) if name not in LINK_SHAPES
    } == set()


@pytest.mark.parametrize("inference", INFERENCES)
def test_valid_fixture_conforms(inference: str) -> None:
    assert results(load([FIXTURES / "valid.ttl"]), our_shapes(), inference) == set()


V, W = "Violation", "Warning"

INVALID = [
    ("avenant-sans-contrat", {("AvenantModifieShape", V)}),
    ("avenant-sans-quartier", {("AvenantQuartierShape", V)}),
    ("avenant-deux-dates-de-signature", {("AvenantDateDeSignatureShape", V)}),
    # a second place, and that one without @fr: both in the one shape of the place
    ("avenant-lieu-de-signature-sans-langue", {("AvenantLieuDeSignatureShape", V)}),
    ("quartier-code-invalide", {("QuartierCodeShape", V)}),
    ("axe-pilier-inconnu", {("AxePilierShape", V)}),
    ("thematique-hors-axe", {("ThematiqueParentShape", V)}),
    ("objectif-hors-axe", {("ObjectifParentShape", V)}),
    ("objectif-raccourcis-incoherents", {("ObjectifRaccourcisShape", V)}),
    ("objectifs-ordre-en-double", {("OrdreUniqueDansAvenantShape", V)}),
    ("mesure-sans-texte", {("MesureTexteShape", V)}),
    ("mesure-numero-non-entier", {("MesureNumeroShape", V)}),
    ("mesure-notation-discordante", {("MesureNumeroConcordantShape", V)}),
    (
        "mesure-hors-objectif",
        {("MesureParentShape", V), ("MesureObjectifShape", V), ("MesureRaccourcisShape", V)},
    ),
    ("mesure-raccourcis-incoherents", {("MesureRaccourcisShape", V)}),
    ("mesure-sans-avenant", {("AvenantDeLElementShape", V), ("AvenantCoherentShape", V)}),
    ("mesure-avenant-incoherent", {("AvenantCoherentShape", V)}),
    ("mesures-numeros-en-double", {("MesureNumeroUniqueShape", V)}),
    ("mesures-numerotation-lacunaire", {("MesureNumerotationContinueShape", V)}),
    ("reference-sans-texte-cite", {("ReferenceTexteCiteShape", V)}),
    ("contribution-sans-partenaire", {("ContributionPartenaireShape", V)}),
    ("section-hors-contribution", {("PartieDeContributionShape", V)}),
    ("sections-ordre-en-double", {("OrdreUniqueDansContributionShape", V)}),
    ("element-de-liste-hors-liste", {("ElementDeListeParentShape", V)}),
    ("elements-de-liste-ordre-en-double", {("OrdreUniqueDansListeShape", V)}),
    ("signature-sans-poste", {("SignaturePosteShape", V)}),
    ("signatures-ordre-en-double", {("OrdreUniqueDansAvenantShape", V)}),
    ("signature-poste-hors-organisation", {("SignaturePosteDeLOrganisationShape", V)}),
    ("personne-sans-nom", {("PersonneNomShape", V)}),
    ("poste-sans-organisation", {("PosteOrganisationShape", V)}),
    ("texte-sans-type", {("TexteTypeShape", V)}),
    ("texte-date-non-jour", {("DateDocumentJourShape", V)}),
    ("texte-date-fin-avant-debut", {("DateFinApresDebutShape", V)}),
    ("evenement-sans-date", {("EvenementDateShape", V)}),
    ("periode-debut-mois", {("PeriodeDebutShape", V)}),
    ("libelle-sans-langue", {("LibelleShape", V)}),
    # the organisation cites a passage of a document it does not say it is derived from: two rules at once
    ("sans-provenance-document", {("ProvenanceSourceShape", V), ("PassageDuDocumentShape", V)}),
    ("sans-passage", {("ProvenancePassageShape", V)}),
    ("passage-lignes-inversees", {("PassageLigneDebutShape", V)}),
    ("passage-d-un-autre-document", {("PassageDuDocumentShape", V)}),
    ("recommandation-libelle-espaces", {("LibelleNormaliseShape", W)}),
    ("recommandation-code-commune", {("CodeCommuneFormatShape", W)}),
    ("recommandation-poste-non-occupe", {("PosteOccupeParLeSignataireShape", W)}),
    ("recommandation-texte-national-sans-lien", {("LienAutoriteTexteNationalShape", W)}),
    ("recommandation-territoire-sans-lien", {("LienAutoriteTerritoireShape", W)}),
    ("recommandation-organisme-public-sans-identifiant", {("IdentifiantOrganisationPubliqueShape", W)}),
    ("recommandation-siren-non-type", {("IdentifiantOrganisationPubliqueShape", W)}),
]


@pytest.mark.parametrize("printed", ["3.1", "n°3", "1"])
def test_a_measure_numbered_as_printed_without_an_integer_conforms(printed: str) -> None:
    """A measure's printed number stays as printed (skos:notation); cdv:numero is optional."""
    data = load([FIXTURES / "valid.ttl"])
    measure = URIRef("https://w3id.org/cdv/id/val-d-exemple/avenant-2020-2022/mesure/3")
    data.remove((measure, URIRef(CDV + "numero"), None))
    data.set((measure, SKOS.notation, Literal(printed)))
    assert results(data, our_shapes(), "rdfs") == set()


def test_every_invalid_fixture_is_in_the_table() -> None:
    on_disk = {p.name.removeprefix("invalid-").removesuffix(".ttl") for p in FIXTURES.glob("invalid-*.ttl")}
    assert on_disk == {name for name, _ in INVALID}


@pytest.mark.parametrize("inference", FIXTURE_INFERENCES)
@pytest.mark.parametrize(("fixture", "expected"), INVALID, ids=[name for name, _ in INVALID])
def test_invalid_fixture_fails_with_the_expected_shape(fixture: str, expected: set, inference: str) -> None:
    """Each invalid-*.ttl adds to valid.ttl the triples that break one rule, and nothing else."""
    data = load([FIXTURES / "valid.ttl", FIXTURES / f"invalid-{fixture}.ttl"])
    assert results(data, our_shapes(), inference) == expected


def shapes_of(graph: Graph) -> set:
    return set(graph.subjects(RDF.type, SH.NodeShape)) | set(graph.subjects(RDF.type, SH.PropertyShape))


def test_shapes_are_named_labelled_and_explain_themselves_in_two_languages() -> None:
    graph = our_shapes()
    described = shapes_of(graph) | set(graph.objects(None, SH.property))
    assert described
    for shape in described:
        assert isinstance(shape, URIRef), f"unnamed shape {shape}: results would not say which rule failed"
        assert shape.startswith(CDV) and shape.endswith("Shape"), shape
        labels = {label.language for label in graph.objects(shape, RDFS.label)}
        messages = {message.language for message in graph.objects(shape, SH.message)}
        assert {"fr", "en"} <= labels, f"{shape} needs rdfs:label @fr and @en"
        assert {"fr", "en"} <= messages, f"{shape} needs sh:message @fr and @en"
        assert graph.value(shape, SH.severity) in {SH.Violation, SH.Warning}, (
            f"{shape} needs an explicit severity"
        )


def operands(graph: Graph) -> set:
    """The shapes listed in sh:or: checked as part of the shape that lists them, never reported alone."""
    return {member for lst in graph.objects(None, SH["or"]) for member in Collection(graph, lst)}


def test_operands_of_sh_or_keep_the_default_severity() -> None:
    """An operand with sh:Warning passes in pyshacl's allow_warnings mode (`cdv validate`), and the sh:or with it."""
    graph = our_shapes()
    assert operands(graph)
    for shape in operands(graph):
        assert graph.value(shape, SH.severity) is None, f"{shape}: an operand keeps the default severity"
        assert not (set(graph.objects(shape, RDF.type)) & {SH.NodeShape, SH.PropertyShape}), shape


def test_operands_of_the_recommendations_are_named_and_labelled() -> None:
    """Named operands say, in the shapes graph, what each alternative of the sh:or accepts."""
    graph = load([OUR_SHAPES[1]])
    assert operands(graph)
    for shape in operands(graph):
        assert isinstance(shape, URIRef) and shape.startswith(CDV) and shape.endswith("Shape"), shape
        assert {label.language for label in graph.objects(shape, RDFS.label)} >= {"fr", "en"}, shape


def test_sparql_constraints_explain_themselves_in_two_languages() -> None:
    graph = our_shapes()
    for constraint in graph.objects(None, SH.sparql):
        assert {m.language for m in graph.objects(constraint, SH.message)} >= {"fr", "en"}


def test_violations_and_recommendations_are_in_separate_files() -> None:
    violations, recommendations = (load([path]) for path in OUR_SHAPES)
    assert {violations.value(s, SH.severity) for s in shapes_of(violations)} == {SH.Violation}
    assert {recommendations.value(s, SH.severity) for s in shapes_of(recommendations)} == {SH.Warning}


def test_shapes_name_no_resource_of_a_territory() -> None:
    """Shapes work on any territory's files: the only resources they name are the national concepts."""
    for term in our_shapes().all_nodes():
        if isinstance(term, URIRef) and term.startswith("https://w3id.org/cdv/id/"):
            assert term.startswith("https://w3id.org/cdv/id/concept/"), term
        if isinstance(term, Literal):
            assert "quesnoy" not in str(term).lower(), term


@pytest.mark.parametrize(
    ("shape", "scheme"),
    [
        ("AxePilierShape", "https://w3id.org/cdv/id/concept/pilier"),
        ("TexteTypeShape", "https://w3id.org/cdv/id/concept/type-de-texte"),
    ],
)
def test_sh_in_lists_follow_the_concept_schemes(shape: str, scheme: str) -> None:
    """pyshacl does not copy SKOS concepts from the ontology, so shapes list them: the lists must stay in sync."""
    graph = our_shapes()
    listed = set(Collection(graph, graph.value(URIRef(CDV + shape), SH["in"])))
    in_scheme = set(ontology().subjects(SKOS.inScheme, URIRef(scheme)))
    assert listed == in_scheme


def test_blank_nodes_of_the_shapes_are_only_lists_declarations_and_value_shapes() -> None:
    graph = our_shapes()
    for node in graph.all_nodes():
        if isinstance(node, BNode):
            assert (
                (node, RDF.first, None) in graph
                or (None, SH.declare, node) in graph
                or (None, SH.qualifiedValueShape, node) in graph
                or (None, SH.sparql, node) in graph
                or (None, RDF.rest, node) in graph
                or (None, SH["or"], node) in graph
                or any(graph.objects(node, SH["class"]))
                or any(graph.objects(node, SH.datatype))
            ), f"unexpected blank node {node}"
