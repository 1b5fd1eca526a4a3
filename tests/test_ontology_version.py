"""The ontology is versioned: a version IRI that answers, and a changelog whose newest entry is that version."""

from __future__ import annotations

import re

import pytest
import rdflib
from flask.testing import FlaskClient
from rdflib.namespace import OWL

from server.core.config import PROJECT_ROOT

ONTOLOGY = rdflib.URIRef("https://w3id.org/cdv/ontology")


@pytest.fixture(scope="module")
def header() -> tuple[str, str]:
    graph = rdflib.Graph().parse(PROJECT_ROOT / "ontology" / "cdv.ttl")
    return str(graph.value(ONTOLOGY, OWL.versionIRI)), str(graph.value(ONTOLOGY, OWL.versionInfo))


def test_version_iri_ends_with_version_info(header: tuple[str, str]) -> None:
    version_iri, version = header
    assert version_iri == f"{ONTOLOGY}/{version}"
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)


def test_changelog_newest_entry_is_the_current_version(header: tuple[str, str]) -> None:
    changelog = (PROJECT_ROOT / "ontology" / "CHANGELOG.md").read_text("utf-8")
    newest = re.search(r"^## (\d+\.\d+\.\d+)", changelog, re.MULTILINE)
    assert newest is not None and newest.group(1) == header[1]


def test_version_iri_dereferences(client: FlaskClient, header: tuple[str, str]) -> None:
    path = "/ontology/" + header[1]
    turtle = client.get(path, headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200 and turtle.mimetype == "text/turtle"
    graph = rdflib.Graph().parse(data=turtle.get_data(as_text=True), format="turtle")
    assert (ONTOLOGY, OWL.versionIRI, rdflib.URIRef(header[0])) in graph
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.mimetype == "text/html"


@pytest.mark.parametrize("version", ["9.9.9", "0.0.1", "latest"])
def test_unknown_version_is_404_naming_the_current_one(
    client: FlaskClient, header: tuple[str, str], version: str
) -> None:
    response = client.get("/ontology/" + version, headers={"Accept": "text/plain"})
    assert response.status_code == 404
    assert header[0] in response.get_data(as_text=True)
