"""The extractor on the fictitious protocols, one per layout: each draft matches its expected graph, places
every measure the text prints and every line, and the shapes report exactly the violation the text cannot
avoid (the QPV's commune, never printed); with its curated enrichment, the draft conforms.

Regenerate the expected graphs with `CDV_UPDATE_FIXTURES=1 .venv/bin/pytest tests/test_extract_fixtures.py`
and review the diff: they are the reference, written once and read by a person.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import rdflib
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from server.build.validate import validate_files
from server.core.config import PROJECT_ROOT
from server.extract.files import turtle

from .protocol_fixtures import FIXTURES, UPDATE_ENV, ProtocolFixture

ID = "https://w3id.org/cdv/id/"
CDV = rdflib.Namespace("https://w3id.org/cdv/ontology#")
SHAPES, ONTOLOGY = PROJECT_ROOT / "shapes", PROJECT_ROOT / "ontology"


def _diff(expected: rdflib.Graph, actual: rdflib.Graph) -> str:
    _, missing, extra = graph_diff(to_isomorphic(expected), to_isomorphic(actual))
    lines = [f"- {t}" for t in sorted(missing.triples((None, None, None)))][:20]
    lines += [f"+ {t}" for t in sorted(extra.triples((None, None, None)))][:20]
    return "\n".join(lines)


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.territory)
def test_extraction_matches_expected_graph(fixture: ProtocolFixture) -> None:
    extraction = fixture.extract()
    if os.environ.get(UPDATE_ENV) == "1":
        fixture.expected.write_bytes(turtle(extraction, fixture.text.name))
    expected = rdflib.Graph().parse(fixture.expected, format="turtle")
    assert isomorphic(expected, extraction.graph), _diff(expected, extraction.graph)
    assert (rdflib.URIRef(f"{ID}{fixture.territory}/{fixture.document}"), None, None) in extraction.graph


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.territory)
def test_extraction_places_every_line(fixture: ProtocolFixture) -> None:
    assert fixture.extract().report.notes == []


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.territory)
def test_extraction_places_every_measure_printed(fixture: ProtocolFixture) -> None:
    graph = fixture.extract().graph
    measures = set(graph.subjects(rdflib.RDF.type, CDV.Mesure))
    assert len(measures) == fixture.measures
    assert sorted(int(graph.value(m, CDV.ordre)) for m in measures) == list(range(1, fixture.measures + 1))


def _violations(paths: list[Path]) -> set[tuple[str, str]]:
    report = validate_files(paths, SHAPES, ONTOLOGY)
    return {(f.focus.strip("<>").removeprefix(ID), f.shape or "") for f in report.violations}


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.territory)
def test_draft_fails_only_where_the_text_is_silent(fixture: ProtocolFixture, tmp_path: Path) -> None:
    draft = tmp_path / "draft.ttl"
    draft.write_bytes(turtle(fixture.extract(), fixture.text.name))
    assert _violations([draft]) == fixture.violations


@pytest.mark.parametrize("fixture", [f for f in FIXTURES if f.enrichment.exists()], ids=lambda f: f.territory)
def test_draft_with_enrichment_conforms(fixture: ProtocolFixture, tmp_path: Path) -> None:
    draft = tmp_path / "draft.ttl"
    draft.write_bytes(turtle(fixture.extract(), fixture.text.name))
    assert _violations([draft, fixture.enrichment]) == set()
