"""The extractor on the first real protocol reproduces the structural part of data/le-quesnoy/avenant-2020-2022/.

The structural projection (`structural`, below) is the one definition of what the text alone determines; the
curated enrichments of data/ are outside it: the organisations, actors and schemes a measure names
(cdv:mentionne), INSEE codes and the QPV's commune, the texts' issuers (eli:passed_by: the Pacte de Dijon's
signatories are read from a sentence), periods of texts, alternative names, cross-references to other
mentions of a text, the contributions' texts, lists and schemes, and where an unnumbered block ends a
contribution's section (the curator ends ARS section 3.2 where the "Cadre réglementaire" list begins).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

import pytest
import rdflib
from rdflib.compare import graph_diff, isomorphic, to_isomorphic
from rdflib.namespace import DCTERMS, FOAF, ORG, PROV, RDF, RDFS, SKOS

from server.build.validate import validate_files
from server.core.config import PROJECT_ROOT
from server.extract import Extraction, extract
from server.extract.registry import Registry, load_registry
from server.extract.structure import walk

CDV = rdflib.Namespace("https://w3id.org/cdv/ontology#")
ELI = rdflib.Namespace("http://data.europa.eu/eli/ontology#")
OA = rdflib.Namespace("http://www.w3.org/ns/oa#")
DOCUMENT = PROJECT_ROOT / "data" / "le-quesnoy" / "avenant-2020-2022"
SOURCE = PROJECT_ROOT / "data" / "sources" / "protocole-le-quesnoy-2020-2022.txt"
DOC = "https://w3id.org/cdv/id/le-quesnoy/avenant-2020-2022"

# ---- the structural projection: what a general rule can read from the text --------------------------------
ELEMENTS = (CDV.Axe, CDV.Thematique, CDV.Objectif, CDV.Mesure, CDV.Reference, CDV.Signature)
CURATED = {CDV.mentionne}  # the organisations, actors, schemes and texts an element names
TEXT_FACTS = {RDF.type, RDFS.label, DCTERMS.title, ELI.type_document, ELI.date_document, CDV.dateFin}
AVENANT_FACTS = {
    RDF.type, RDFS.label, DCTERMS.title, DCTERMS.alternative, ELI.type_document, DCTERMS.language,
    CDV.modifie, CDV.quartier, CDV.preambule, CDV.objet, CDV.texteDeReference, DCTERMS.temporal,
    PROV.wasDerivedFrom, CDV.passage,
}  # fmt: skip
QPV_FACTS = {RDF.type, RDFS.label, SKOS.notation, PROV.wasDerivedFrom, CDV.passage}
CONTRACT_FACTS = {RDF.type, RDFS.label, DCTERMS.title, ELI.type_document, CDV.quartier}
CONTRIBUTION_FACTS = {
    RDF.type,
    RDFS.label,
    PROV.wasAttributedTo,
    CDV.ordre,
    CDV.parent,
    CDV.avenant,
    CDV.passage,
}
SECTION_FACTS = {RDF.type, RDFS.label, SKOS.notation, CDV.ordre, CDV.parent, CDV.contribution, CDV.avenant}


def structural(graph: rdflib.Graph) -> rdflib.Graph:
    """The projection of a document graph on the structural classes and properties."""
    out = rdflib.Graph()

    def copy(subjects: Iterable[rdflib.term.Node], keep: set[rdflib.URIRef] | None = None) -> None:
        for subject in set(subjects):
            for predicate, obj in graph.predicate_objects(subject):
                if (keep is None or predicate in keep) and predicate not in CURATED:
                    out.add((subject, predicate, obj))

    for cls in ELEMENTS:
        copy(graph.subjects(RDF.type, cls))
    copy(graph.objects(None, CDV.signataire), {RDF.type, RDFS.label, FOAF.name, FOAF.givenName, FOAF.familyName, FOAF.title, PROV.wasDerivedFrom, CDV.passage})  # fmt: skip
    copy(graph.objects(None, CDV.poste), {RDF.type, RDFS.label, ORG.postIn, ORG.heldBy, PROV.wasDerivedFrom, CDV.passage})  # fmt: skip
    copy(
        (t for r in graph.subjects(RDF.type, CDV.Reference) for t in graph.objects(r, ELI.cites)), TEXT_FACTS
    )
    avenants = set(graph.subjects(RDF.type, CDV.Avenant))
    copy(avenants, AVENANT_FACTS)
    copy((p for a in avenants for p in graph.objects(a, DCTERMS.temporal)), None)
    copy((q for a in avenants for q in graph.objects(a, CDV.quartier)), QPV_FACTS)
    copy(graph.subjects(RDF.type, CDV.ContratDeVille), CONTRACT_FACTS)
    copy(graph.subjects(RDF.type, CDV.Contribution), CONTRIBUTION_FACTS)
    copy(graph.subjects(RDF.type, CDV.Section), SECTION_FACTS)
    copy(graph.subjects(RDF.type, CDV.DocumentSource), None)
    copy(set(out.objects(None, CDV.passage)), {RDF.type, OA.hasSource, CDV.ligneDebut, CDV.ligneFin})
    return out


# -------------------------------------------------------------------------------------------------------------


@cache
def curated() -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in sorted(DOCUMENT.glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


@cache
def extracted(with_registry: bool) -> Extraction:
    registry = load_registry([PROJECT_ROOT / "data"]) if with_registry else Registry()
    return extract(SOURCE.read_text("utf-8"), "le-quesnoy", source_file=SOURCE.name, registry=registry)


def _report(expected: rdflib.Graph, actual: rdflib.Graph) -> str:
    _, only_data, only_extracted = graph_diff(to_isomorphic(expected), to_isomorphic(actual))
    lines = [f"data only: {t}" for t in sorted(only_data)][:25]
    return "\n".join(lines + [f"extracted only: {t}" for t in sorted(only_extracted)][:25])


def test_counts_of_the_structure() -> None:
    parts = walk(extracted(True).protocol.axes)
    counts = {
        kind: sum(1 for p in parts if p.kind.value == kind)
        for kind in ("axe", "thematique", "objectif", "mesure")
    }
    assert counts == {"axe": 3, "thematique": 4, "objectif": 15, "mesure": 32}
    protocol = extracted(True).protocol
    assert (len(protocol.references), len(protocol.signatures), len(protocol.contributions)) == (5, 16, 3)
    assert extracted(True).report.notes == []


def test_reproduces_the_structural_part_of_the_data() -> None:
    expected, actual = structural(curated()), structural(extracted(True).graph)
    assert len(expected) > 1500
    assert isomorphic(expected, actual), _report(expected, actual)


def test_from_the_text_alone_only_curated_names_differ() -> None:
    """Without the graph's organisations, two printed names give other slugs than the curated IRIs."""
    expected, actual = structural(curated()), structural(extracted(False).graph)
    _, only_data, _ = graph_diff(to_isomorphic(expected), to_isomorphic(actual))
    differing = {str(s).removeprefix(DOC) for s, _, _ in only_data if str(s).startswith(DOC + "/")}
    assert {d.split("#")[0] for d in differing} == {
        # "Caisse des Dépôts et Consignations des Hauts-de-France": the curated slug drops "des"
        "/signature/8",
        # "CONTRIBUTION DE L’AGENCE RÉGIONALE DE SANTÉ DES HAUTS-DE-FRANCE": ars-des-hauts-de-france from the
        # heading; the curated IRI is ars-hauts-de-france (its signature's spelling)
        "/contribution/ars-hauts-de-france",
        *(
            f"/contribution/ars-hauts-de-france/section/{n}"
            for n in ("1", "2", "2.1", "2.2", "3", "3.1", "3.2")
        ),
    }


MEASURE_13 = (  # "tout-" at a line end: a compound
    "Favoriser l’apprentissage du langage et développer l’apprentissage culturel chez les enfants et les tout-petits."
)
MEASURE_14 = (  # "crèche-" then "PMI-école.": a capital, a compound
    "Développer la passerelle entre la crèche et l’école maternelle Centre en renforçant le partenariat crèche-PMI-école."
)


@pytest.mark.parametrize(
    ("resource", "predicate", "value"),
    [
        ("mesure/13", CDV.texte, MEASURE_13),
        ("mesure/14", CDV.texte, MEASURE_14),
        ("mesure/17", CDV.passage, DOC + "/source#L159-L159"),  # after the page break at lines 146-150
        ("objectif/12", CDV.passage, DOC + "/source#L187-L188"),
    ],
)
def test_hyphens_and_page_breaks(resource: str, predicate: rdflib.URIRef, value: str) -> None:
    obj = extracted(True).graph.value(rdflib.URIRef(f"{DOC}/{resource}"), predicate)
    assert str(obj) == value


def test_draft_fails_only_on_the_commune_of_its_neighbourhood(tmp_path: Path) -> None:
    draft = tmp_path / "draft.ttl"
    extracted(True).graph.serialize(draft, format="turtle")
    report = validate_files([draft], PROJECT_ROOT / "shapes", PROJECT_ROOT / "ontology")
    assert {(f.focus, f.shape) for f in report.violations} == {
        ("<https://w3id.org/cdv/id/territoire/qpv/QP059043>", "cdv:QuartierCommuneShape")
    }


def test_windows_line_ends_and_a_byte_order_mark_change_nothing() -> None:
    from server.extract import decode

    raw = ("\ufeff" + SOURCE.read_text("utf-8").replace("\n", "\r\n")).encode("utf-8")
    again = extract(
        decode(raw), "le-quesnoy", source_file=SOURCE.name, registry=load_registry([PROJECT_ROOT / "data"])
    )
    assert isomorphic(again.graph, extracted(True).graph)
