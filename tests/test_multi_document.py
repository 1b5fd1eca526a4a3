"""Many documents side by side: Le Quesnoy's curated graph plus the fictitious protocols, extracted with
`cdv extract` the way a territory would (reusing the organisations and texts the graph already describes) and
completed with their curated enrichment, built into one store: one named graph each, every graph answering
on the SPARQL endpoint, every territory's pages answering, the whole data valid together, and a query that
compares territories."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from server.build.pipeline import build
from server.cli.main import main
from server.core.config import PROJECT_ROOT, Settings, load_settings
from server.engine.release import Release
from server.extract.files import extract_file
from server.extract.registry import load_registry
from server.web.app import create_app

from .protocol_fixtures import FIXTURES, ProtocolFixture

PUBLISHED = [f for f in FIXTURES if f.publishable]
ID = "https://w3id.org/cdv/id/"
GRAPH = "https://w3id.org/cdv/graph/"
LE_QUESNOY = "le-quesnoy/avenant-2020-2022"
DOCUMENTS = [LE_QUESNOY, *(f"{f.territory}/{f.document}" for f in PUBLISHED)]
COHESION, CADRE, EMPLOI = (
    f"{ID}concept/pilier/cohesion-sociale",
    f"{ID}concept/pilier/cadre-de-vie-et-renouvellement-urbain",
    f"{ID}concept/pilier/emploi-et-developpement-economique",
)
MEASURES_PER_PILLAR = {  # read from the texts: which axis each measure is printed under
    LE_QUESNOY: {COHESION: 21, CADRE: 4, EMPLOI: 7},
    "argenval/avenant-2019-2022": {COHESION: 4, CADRE: 2, EMPLOI: 2},
    "beaulieu-sur-lorne/avenant-2020-2022": {COHESION: 4, CADRE: 2, EMPLOI: 1},
    "val-de-sorne/avenant-2020-2022": {COHESION: 3, CADRE: 1, EMPLOI: 3},
}


def _publish(fixture: ProtocolFixture, data: Path) -> None:
    """Extract the protocol against the current graph, add its enrichment and its source text."""
    _, draft = extract_file(fixture.text, fixture.territory, registry=load_registry([data]))
    folder = data / fixture.territory / fixture.document
    folder.mkdir(parents=True)
    (folder / "protocole.ttl").write_bytes(draft)
    shutil.copy(fixture.enrichment, folder / "enrichissements.ttl")
    shutil.copy(fixture.text, data / "sources" / fixture.text.name)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project folder: the ontology, shapes and queries of the repository, a copy of its data plus the drafts."""
    root = tmp_path_factory.mktemp("multi")
    for folder in ("ontology", "shapes", "queries"):
        (root / folder).symlink_to(PROJECT_ROOT / folder, target_is_directory=True)
    shutil.copytree(PROJECT_ROOT / "data", root / "data")
    for fixture in PUBLISHED:
        _publish(fixture, root / "data")
    return root


@pytest.fixture(scope="module")
def multi_settings(project: Path) -> Settings:
    return load_settings({"project_root": project, "build_dir": project / "build"})


@pytest.fixture(scope="module")
def multi_release(multi_settings: Settings) -> Release:
    return build(multi_settings, data_dirs=[multi_settings.data_dir])


@pytest.fixture(scope="module")
def multi_app(multi_settings: Settings, multi_release: Release) -> Flask:
    application = create_app(multi_settings)
    application.testing = True
    return application


@pytest.fixture()
def multi_client(multi_app: Flask) -> Iterator[FlaskClient]:
    yield multi_app.test_client()


def _select(client: FlaskClient, query: str) -> list[dict[str, str]]:
    response = client.get(
        "/sparql", query_string={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return [{k: v["value"] for k, v in row.items()} for row in response.get_json()["results"]["bindings"]]


def test_one_named_graph_per_document(multi_release: Release) -> None:
    graphs = set(multi_release.manifest["graphs"])
    assert {GRAPH + d for d in DOCUMENTS} <= graphs
    assert all(multi_release.manifest["graphs"][GRAPH + d] > 400 for d in DOCUMENTS)


@pytest.mark.parametrize("document", DOCUMENTS)
def test_endpoint_answers_for_each_graph(multi_client: FlaskClient, document: str) -> None:
    rows = _select(
        multi_client,
        f"""PREFIX cdv: <https://w3id.org/cdv/ontology#>
        SELECT (COUNT(DISTINCT ?m) AS ?n) ?avenant WHERE {{
          GRAPH <{GRAPH}{document}> {{ ?m a cdv:Mesure ; cdv:avenant ?avenant }} }} GROUP BY ?avenant""",
    )
    assert rows == [{"n": str(sum(MEASURES_PER_PILLAR[document].values())), "avenant": ID + document}]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_resource_pages_of_each_territory(multi_client: FlaskClient, document: str) -> None:
    for path in (
        f"/id/{document}",
        f"/id/{document}/axe/1",
        f"/id/{document}/mesure/1",
        f"/id/{document}/signature/1",
    ):
        response = multi_client.get(path, headers={"Accept": "text/html"})
        assert response.status_code == 200, path
        assert "text/html" in response.content_type
    turtle = multi_client.get(f"/id/{document}/mesure/1", headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200 and f"{ID}{document}/mesure/1" in turtle.get_data(as_text=True)


def test_home_lists_every_document_and_leaves_each_outline_to_its_page(multi_client: FlaskClient) -> None:
    home = multi_client.get("/", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert f"{len(DOCUMENTS)} documents publiés" in home
    assert "<h3>Sommaire</h3>" not in home and "/mesure/" not in home  # no outline: it grows with the graph
    for document in DOCUMENTS:
        assert f'href="/id/{document}"' in home, document
        page = multi_client.get(f"/id/{document}", headers={"Accept": "text/html"}).get_data(as_text=True)
        assert "Sommaire" in page and f'href="/id/{document}/mesure/1"' in page, document


def test_catalogue_has_a_dataset_per_document(multi_client: FlaskClient) -> None:
    response = multi_client.get("/catalog", headers={"Accept": "application/n-triples"})
    assert response.status_code == 200
    datasets = {
        line.split()[0]
        for line in response.get_data(as_text=True).splitlines()
        if "w3.org/ns/dcat#Dataset>" in line
    }
    for document in DOCUMENTS:
        assert any(d.rstrip(">").endswith(f"graph/{document}") for d in datasets), document


def test_shared_resources_join_the_documents(multi_client: FlaskClient) -> None:
    """The État, the Pacte de Dijon and the circulaire of 22 January 2019 are one resource each, cited by
    several avenants, with one name."""
    rows = _select(
        multi_client,
        """PREFIX cdv: <https://w3id.org/cdv/ontology#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?texte (COUNT(DISTINCT ?avenant) AS ?avenants) (COUNT(DISTINCT ?label) AS ?labels) WHERE {
          ?avenant cdv:texteDeReference ?texte . ?texte rdfs:label ?label }
        GROUP BY ?texte HAVING (COUNT(DISTINCT ?avenant) > 1) ORDER BY ?texte""",
    )
    assert rows == [
        {"texte": f"{ID}texte/circulaire-2019-01-22", "avenants": "2", "labels": "1"},
        {"texte": f"{ID}texte/pacte-2018-07-16", "avenants": "3", "labels": "1"},
    ]


def test_cross_territory_query_measures_per_pillar(multi_client: FlaskClient) -> None:
    response = multi_client.get(
        "/api/queries/measures-per-pillar-by-territory", headers={"Accept": "application/json"}
    )
    assert response.status_code == 200
    found: dict[str, dict[str, int]] = {}
    for row in response.get_json():
        found.setdefault(row["avenant"].removeprefix(ID), {})[row["pilier"]] = int(row["mesures"])
    assert found == MEASURES_PER_PILLAR


def test_the_whole_data_validates_together(multi_settings: Settings, multi_release: Release) -> None:
    """`cdv validate` over every document at once: shapes and quality checks, across graphs."""
    result = CliRunner().invoke(main, ["--root", str(multi_settings.project_root), "validate"])
    assert result.exit_code == 0, result.output
    assert "Conforms" in result.output
