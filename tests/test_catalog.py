"""The DCAT-AP catalogue, VoID and shapes as served: formats, conformance, resolvable IRIs, broken fixtures."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import rdflib
from flask.testing import FlaskClient
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, RDF, SH, VOID

from server.build.dumps import catalog_report
from server.build.validate import Report, validate_graph
from server.core.catalog_view import kilobytes
from server.core.config import PROJECT_ROOT, Settings
from server.core.iris import IriMap
from server.engine.release import Release

from .rdf_parse import parse_graph

FIXTURES = Path(__file__).parent / "fixtures" / "catalog"
SHAPES = PROJECT_ROOT / "shapes"
SH_NS = "https://w3id.org/cdv/shapes#"
RDF_TYPES = ["text/turtle", "application/ld+json", "application/rdf+xml", "application/n-triples"]


def served(client: FlaskClient, path: str, accept: str = "text/turtle") -> rdflib.Graph:
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == 200, response.get_data(as_text=True)
    return parse_graph(response.data, response.content_type)


@pytest.fixture(scope="module")
def catalog(app: object) -> rdflib.Graph:
    return served(app.test_client(), "/catalog")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("path", "accept", "query", "media_type"),
    [
        ("/catalog", None, "", "text/turtle"),
        ("/catalog", "*/*", "", "text/turtle"),
        ("/catalog", "text/turtle", "", "text/turtle"),
        ("/catalog", "application/ld+json", "", "application/ld+json"),
        ("/catalog", "application/rdf+xml", "", "application/rdf+xml"),
        ("/catalog", "application/n-triples", "", "application/n-triples"),
        ("/catalog", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "", "text/html"),
        ("/catalog", "text/html", "?format=jsonld", "application/ld+json"),
        ("/catalog", None, "?format=rdfxml", "application/rdf+xml"),
        ("/catalog", None, "?format=ntriples", "application/n-triples"),
        ("/.well-known/void", None, "", "text/turtle"),
        ("/.well-known/void", "application/ld+json", "", "application/ld+json"),
        ("/.well-known/void", "application/rdf+xml", "", "application/rdf+xml"),
        ("/.well-known/void", None, "?format=ntriples", "application/n-triples"),
        ("/shapes", None, "", "text/turtle"),
        ("/shapes", "application/ld+json", "", "application/ld+json"),
    ],
)
def test_content_negotiation(
    client: FlaskClient, path: str, accept: str | None, query: str, media_type: str
) -> None:
    response = client.get(path + query, headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert "Accept" in response.headers.get("Vary", "")
    if media_type != "text/html":
        assert len(parse_graph(response.data, media_type)) > 0


@pytest.mark.parametrize("path", ["/catalog", "/.well-known/void"])
def test_every_format_is_the_same_graph(client: FlaskClient, path: str) -> None:
    graphs = [served(client, path, accept) for accept in RDF_TYPES]
    for other in graphs[1:]:
        assert isomorphic(graphs[0], other)


@pytest.mark.parametrize("path", ["/catalog", "/.well-known/void", "/shapes"])
def test_turtle_writes_each_subject_once(client: FlaskClient, path: str) -> None:
    import pyoxigraph as ox

    response = client.get(path, headers={"Accept": "text/turtle"})
    subjects = [t.subject for t in ox.parse(response.data, format=ox.RdfFormat.TURTLE)]
    runs = [s for i, s in enumerate(subjects) if i == 0 or s != subjects[i - 1]]
    assert len(runs) == len(set(subjects)) > 10


@pytest.mark.parametrize(
    ("path", "accept", "query", "status"),
    [
        ("/catalog", "image/png", "", 406),
        ("/catalog", None, "?format=pdf", 406),
        ("/.well-known/void", "text/html", "", 406),
        ("/dumps/nothing.ttl", None, "", 404),
        ("/dumps/..%2Fmanifest.json", None, "", 404),
        ("/graph/nowhere/nothing", None, "", 404),
        ("/sitemap.xml", None, "?page=0", 400),
        ("/sitemap.xml", None, "?page=abc", 400),
    ],
)
def test_bad_requests_get_a_plain_message(
    client: FlaskClient, path: str, accept: str | None, query: str, status: int
) -> None:
    response = client.get(path + query, headers={"Accept": accept} if accept else {})
    assert response.status_code == status
    assert response.mimetype == "text/plain"
    assert "Traceback" not in response.get_data(as_text=True)


def test_the_served_catalogue_conforms_to_the_dcat_ap_shapes(catalog: rdflib.Graph) -> None:
    report = catalog_report(catalog, SHAPES)
    assert report.conforms, [(f.focus, f.path, f.messages.get("en")) for f in report.violations]
    # the only recommendation left: an ontology has no temporal coverage
    left = {(f.focus, (f.path or "").rsplit(":", 1)[-1]) for f in report.findings}
    assert left <= {("<https://w3id.org/cdv/graph/ontology>", "temporal")}


def test_the_catalogue_describes_what_portals_need(
    catalog: rdflib.Graph, release: Release, settings: Settings
) -> None:
    cat = rdflib.URIRef(settings.base_iri + "catalog")
    assert (cat, RDF.type, DCAT.Catalog) in catalog
    datasets = set(catalog.objects(cat, DCAT.dataset))
    graphs = {rdflib.URIRef(g) for g in release.manifest["graphs"]} | {
        rdflib.URIRef(settings.base_iri + "graph")
    }
    assert datasets == graphs
    licence = rdflib.URIRef("https://www.etalab.gouv.fr/licence-ouverte-open-licence")
    for dataset in datasets:
        assert {t.language for t in catalog.objects(dataset, DCTERMS.title)} == {"fr", "en"}
        assert {d.language for d in catalog.objects(dataset, DCTERMS.description)} == {"fr", "en"}
        assert catalog.value(dataset, DCAT.contactPoint) is not None
        assert catalog.value(dataset, DCTERMS.publisher) is not None
        assert {str(t).rsplit("/", 1)[1] for t in catalog.objects(dataset, DCAT.theme)} == {
            "SOCI",
            "GOVE",
            "REGI",
        }
        assert set(catalog.objects(dataset, DCTERMS.conformsTo)) == {
            rdflib.URIRef(settings.ontology_iri),
            rdflib.URIRef(settings.base_iri + "shapes"),
        }
        for dist in catalog.objects(dataset, DCAT.distribution):
            assert catalog.value(dist, DCTERMS.license) == licence
            assert str(catalog.value(dist, DCAT.mediaType)).startswith(
                "https://www.iana.org/assignments/media-types/"
            )
            assert str(catalog.value(dist, DCTERMS.format)).startswith(
                "http://publications.europa.eu/resource/authority/file-type/"
            )
    for graph in release.manifest["graphs"]:
        if not graph.endswith("/ontology"):
            node = rdflib.URIRef(graph)
            assert catalog.value(node, DCTERMS.temporal) is not None
            assert len(set(catalog.objects(node, DCTERMS.spatial))) >= 3  # France, the QPV, the commune
            assert catalog.value(node, rdflib.URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")) is not None
            assert any(k.language == "fr" for k in catalog.objects(node, DCAT.keyword))
            assert catalog.value(node, DCTERMS.issued) is not None
            assert catalog.value(node, DCTERMS.modified) is not None
    service = catalog.value(cat, DCAT.service)
    assert str(catalog.value(service, DCAT.endpointURL)) == "http://localhost/sparql"
    assert set(catalog.objects(service, DCAT.servesDataset)) == graphs
    for standard in (settings.ontology_iri, settings.base_iri + "shapes"):
        assert (rdflib.URIRef(standard), RDF.type, DCTERMS.Standard) in catalog


def test_void_is_part_of_the_catalogue(client: FlaskClient, catalog: rdflib.Graph) -> None:
    void = served(client, "/.well-known/void")
    stated = [t for t in void.triples((None, VOID.triples, None)) if isinstance(t[0], rdflib.URIRef)]
    assert stated and all(t in catalog for t in stated)
    for dataset, _, _ in stated:
        for prop in (VOID.classPartition, VOID.propertyPartition):
            assert len(set(void.objects(dataset, prop))) == len(set(catalog.objects(dataset, prop)))
    whole = next(void.subjects(RDF.type, VOID.DatasetDescription))
    assert void.value(whole, rdflib.URIRef("http://xmlns.com/foaf/0.1/primaryTopic")) is not None


def test_access_links_point_at_this_server_and_identifiers_stay_public(
    client: FlaskClient, catalog: rdflib.Graph, settings: Settings
) -> None:
    downloads = list(catalog.objects(None, DCAT.downloadURL))
    assert downloads and all(str(u).startswith("http://localhost/dumps/") for u in downloads)
    assert all(str(u).startswith("http://localhost/") for u in catalog.objects(None, VOID.dataDump))
    assert all(str(d).startswith(settings.base_iri) for d in catalog.subjects(RDF.type, DCAT.Dataset))
    other_host = client.get(
        "/catalog", base_url="http://cdv.example:8080/", headers={"Accept": "text/turtle"}
    )
    graph = parse_graph(other_host.data, other_host.content_type)
    assert {str(u).split("/dumps/")[0] for u in graph.objects(None, DCAT.downloadURL)} == {
        "http://cdv.example:8080"
    }


def test_public_url_setting_is_used_for_access_links(settings: Settings) -> None:
    from dataclasses import replace

    from server.web.app import create_app

    app = create_app(replace(settings, public_url="https://data.example.org/cdv/"))
    graph = served(app.test_client(), "/catalog")
    downloads = {str(u) for u in graph.objects(None, DCAT.downloadURL)}
    assert downloads and all(u.startswith("https://data.example.org/cdv/dumps/") for u in downloads)


def test_every_iri_under_the_base_resolves_on_the_server(
    client: FlaskClient, catalog: rdflib.Graph, settings: Settings
) -> None:
    """Each IRI of the catalogue under the public base answers (after redirects) at its mapped path."""
    links = IriMap(settings.base_iri, "/")
    iris = {str(t).split("#", 1)[0] for triple in catalog for t in triple if isinstance(t, rdflib.URIRef)}
    iris |= {str(o).split("#", 1)[0] for o in catalog.objects() if isinstance(o, rdflib.URIRef)}
    local = sorted(i for i in iris if links.is_local(i)) + sorted(
        urlsplit(i).path for i in iris if i.startswith("http://localhost/")
    )
    assert local
    for iri in local:
        path = links.url(iri) if links.is_local(iri) else iri
        with client.get(path, headers={"Accept": "text/turtle"}, follow_redirects=True) as response:
            assert response.status_code == 200, f"{iri} → {path}: {response.status_code}"


def test_dataset_iris_redirect_to_their_description(client: FlaskClient, release: Release) -> None:
    for graph in release.manifest["graphs"]:
        path = "/" + graph.split("/cdv/", 1)[1]
        rdf = client.get(path, headers={"Accept": "text/turtle"})
        assert rdf.status_code == 303 and rdf.headers["Location"].endswith("/catalog")
        html = client.get(path, headers={"Accept": "text/html"})
        assert html.status_code == 303 and "/catalog#dataset-" in html.headers["Location"]
        page = client.get("/catalog", headers={"Accept": "text/html"}).get_data(as_text=True)
        assert f'id="{html.headers["Location"].split("#", 1)[1]}"' in page


def test_the_html_catalogue_lists_every_dataset_and_download(client: FlaskClient, release: Release) -> None:
    page = client.get("/catalog", headers={"Accept": "text/html"}).get_data(as_text=True)
    for name, entry in release.manifest["dumps"].items():
        assert f'href="http://localhost/dumps/{name}"' in page
        assert entry["sha256"][:16] in page
        size = entry.get("bytes", entry.get("byte_size"))
        if size is not None:
            assert f'<data value="{size}"' in page and f">{kilobytes(size)}</data>" in page
    assert 'rel="alternate" type="text/turtle"' in page
    # the licence and the publisher, as the DCAT states them
    assert (
        '<dt>Licence</dt><dd><a href="https://www.etalab.gouv.fr/licence-ouverte-open-licence">Licence Ouverte'
        in page
    )
    assert "<dt>Éditeur</dt><dd><a" in page and "Projet cdv-graph</a>" in page
    assert not re.search(r"<td>\d{4,}</td>", page), "a size in bytes where a reader expects Ko"


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 o"),
        (1023, "1023 o"),
        (1024, "1 Ko"),
        (604_404, "590 Ko"),
        (1_258_291, "1,2 Mo"),
        (52_428_800, "50 Mo"),
    ],
)
def test_sizes_read_in_french_units(size: int, shown: str) -> None:
    assert kilobytes(size) == shown


def test_the_metadata_graph_is_queryable_in_the_store(app: object, settings: Settings) -> None:
    from server.web.context import engine

    with app.app_context():  # type: ignore[attr-defined]
        rows = list(
            engine().query(
                "SELECT ?c WHERE { GRAPH ?g { ?c a <http://www.w3.org/ns/dcat#Catalog> } }",
                named_graphs=[settings.graph_base + "metadata"],
            )
        )
    assert [r["c"].value for r in rows] == [settings.base_iri + "catalog"]


def test_the_served_shapes_are_the_projects(client: FlaskClient) -> None:
    graph = served(client, "/shapes")
    assert (rdflib.URIRef(SH_NS + "CatalogShape"), RDF.type, SH.NodeShape) in graph


def _fixture_report(name: str) -> Report:
    data = rdflib.Graph().parse(FIXTURES / name)
    return catalog_report(data, SHAPES)


def test_the_valid_fixture_conforms() -> None:
    assert _fixture_report("valid.ttl").conforms


@pytest.mark.parametrize(
    ("fixture", "shape"),
    [
        ("catalog-without-publisher.ttl", "CatalogPublisherShape"),
        ("catalog-two-publishers.ttl", "CatalogPublisherShape"),
        ("catalog-without-title.ttl", "CatalogTitleShape"),
        ("publisher-without-name.ttl", "CatalogPublisherShape"),
        ("dataset-without-description.ttl", "DatasetDescriptionShape"),
        ("dataset-without-title.ttl", "DatasetTitleShape"),
        ("dataset-contact-not-vcard.ttl", "DatasetContactPointShape"),
        ("dataset-period-two-starts.ttl", "DatasetTemporalShape"),
        ("dataset-modified-not-a-date.ttl", "DatasetModifiedShape"),
        ("distribution-without-access-url.ttl", "DistributionAccessURLShape"),
        ("distribution-byte-size-string.ttl", "DistributionByteSizeShape"),
        ("distribution-media-type-not-iana.ttl", "DistributionMediaTypeShape"),
        ("distribution-format-not-eu.ttl", "DistributionFormatShape"),
        ("checksum-without-value.ttl", "ChecksumValueShape"),
        ("checksum-value-not-hex.ttl", "ChecksumValueShape"),
        ("service-without-endpoint.ttl", "DataServiceEndpointURLShape"),
        ("service-without-title.ttl", "DataServiceTitleShape"),
        ("service-serves-non-dataset.ttl", "DataServiceServesDatasetShape"),
    ],
)
def test_each_broken_fixture_fails_with_the_expected_shape(fixture: str, shape: str) -> None:
    report = _fixture_report(f"broken/{fixture}")
    assert not report.conforms
    assert f":{shape}" in {f.shape for f in report.violations}
    assert all({"fr", "en"} <= set(f.messages) for f in report.violations)


@pytest.mark.parametrize(
    ("remove", "path"),
    [
        ((None, DCAT.contactPoint, None), "dcat:contactPoint"),
        ((None, DCAT.distribution, None), "dcat:distribution"),
        ((None, DCAT.servesDataset, None), "dcat:servesDataset"),
    ],
)
def test_missing_recommended_properties_are_warnings(remove: tuple, path: str) -> None:
    data = rdflib.Graph().parse(FIXTURES / "valid.ttl")
    data.remove(remove)
    report = catalog_report(data, SHAPES)
    assert report.conforms
    assert path.split(":")[1] in {
        (f.path or "").rsplit(":", 1)[-1] for f in report.findings if f.severity == "Warning"
    }


def test_dcat_shapes_never_fire_on_document_data(settings: Settings) -> None:
    """The build validates documents against all of shapes/: the DCAT shapes target DCAT classes only."""
    from server.core.rdfio import load_rdflib, rdf_files

    data = load_rdflib(rdf_files([settings.data_dir]))
    shapes = load_rdflib(sorted(SHAPES.glob("dcat-ap*.ttl")))
    ontology = load_rdflib(rdf_files([settings.ontology_dir]))
    assert validate_graph(data, shapes, ontology).findings == []


@pytest.mark.parametrize("standard", ["ontology", "shapes"])
def test_the_ontology_and_the_shapes_state_their_licence(client: FlaskClient, standard: str) -> None:
    """Other territories reuse them: the catalogue says under which licence (LICENSES.md)."""
    graph = served(client, "/catalog")
    iri = rdflib.URIRef(f"https://w3id.org/cdv/{standard}")
    assert (iri, RDF.type, DCTERMS.Standard) in graph
    assert graph.value(iri, DCTERMS.license) == rdflib.URIRef(
        "https://www.etalab.gouv.fr/licence-ouverte-open-licence"
    )
