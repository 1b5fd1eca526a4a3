"""The ontology: documentation page (pure content, then the route) and its downloads."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
import rdflib
from flask import Flask
from flask.testing import FlaskClient
from rdflib.compare import isomorphic

from server.core.config import Settings
from server.core.describe import prefixes
from server.core.iris import IriMap
from server.core.ontology_doc import document, recorded_uses, uses
from server.engine.release import Release
from server.web.context import engine

from .test_pages import CHROME, FIREFOX, Page, parse

ONT = "https://w3id.org/cdv/ontology"
CDV = ONT + "#"

SMALL = f"""
@prefix cdv: <{CDV}> . @prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> . @prefix eli: <http://data.europa.eu/eli/ontology#> .
<{ONT}> a owl:Ontology ; dcterms:title "Ontologie"@fr, "Ontology"@en ; owl:versionInfo "1.2.3" ;
    dcterms:license <https://www.etalab.gouv.fr/licence-ouverte-open-licence/> .
cdv:Mesure a owl:Class ; rdfs:label "mesure"@fr, "measure"@en ; skos:definition "Un engagement."@fr, "A commitment."@en ;
    rdfs:subClassOf eli:WorkSubdivision .
cdv:Objectif a owl:Class ; rdfs:label "objectif"@fr .
cdv:Cible a owl:Class ; rdfs:subClassOf cdv:Mesure ; skos:closeMatch <javascript:alert(1)> .
cdv:parent a owl:ObjectProperty ; rdfs:label "parent"@fr ; rdfs:domain cdv:Mesure ; rdfs:range cdv:Objectif ;
    rdfs:subPropertyOf dcterms:isPartOf .
cdv:numero a owl:DatatypeProperty ; rdfs:label "numéro"@fr ; rdfs:range <http://www.w3.org/2001/XMLSchema#integer> .
<https://w3id.org/cdv/id/concept/pilier> a skos:ConceptScheme ; skos:prefLabel "Piliers"@fr .
<https://w3id.org/cdv/id/concept/pilier/b> skos:inScheme <https://w3id.org/cdv/id/concept/pilier> ; skos:prefLabel "B"@fr ; skos:notation "10" .
<https://w3id.org/cdv/id/concept/pilier/a> skos:inScheme <https://w3id.org/cdv/id/concept/pilier> ; skos:prefLabel "A"@fr ; skos:notation "2" .
"""


@pytest.fixture(scope="module")
def small() -> object:
    triples = [q.triple for q in ox.parse(SMALL, format=ox.RdfFormat.TURTLE)]
    return document(triples, {CDV + "Mesure": 32}, ONT, prefixes(CDV), IriMap("https://w3id.org/cdv/", "/"))


def test_terms_are_sorted_into_sections(small) -> None:  # type: ignore[no-untyped-def]
    sections = {anchor: [t.anchor for t in terms] for anchor, _title, terms in small.sections}
    assert sections == {
        "classes": ["Cible", "Mesure", "Objectif"],
        "proprietes-objet": ["parent"],
        "proprietes-valeur": ["numero"],
        "autres-proprietes": [],
        "types-de-donnees": [],
    }


def test_a_term_has_labels_definitions_alignments_and_uses(small) -> None:  # type: ignore[no-untyped-def]
    mesure = next(t for _a, _t, terms in small.sections for t in terms if t.anchor == "Mesure")
    assert mesure.labels == {"fr": "mesure", "en": "measure"}
    assert mesure.definitions == {"fr": "Un engagement.", "en": "A commitment."}
    assert [(label, r.label, r.href) for label, r in mesure.alignments] == [
        ("sous-classe de", "eli:WorkSubdivision", "http://data.europa.eu/eli/ontology#WorkSubdivision")
    ]
    assert [r.href for r in mesure.subterms] == ["#Cible"]
    assert mesure.uses == 32
    parent = next(t for _a, _t, terms in small.sections for t in terms if t.anchor == "parent")
    assert [r.href for r in parent.domains] == ["#Mesure"] and [r.href for r in parent.ranges] == [
        "#Objectif"
    ]


def test_only_web_iris_become_links(small) -> None:  # type: ignore[no-untyped-def]
    cible = next(t for _a, _t, terms in small.sections for t in terms if t.anchor == "Cible")
    assert ("correspond à peu près à", "javascript:alert(1)", None) in [
        (label, r.label, r.href) for label, r in cible.alignments
    ]


def test_metadata_and_schemes(small) -> None:  # type: ignore[no-untyped-def]
    assert small.meta["title"] == {"fr": "Ontologie", "en": "Ontology"}
    assert small.version == "1.2.3"
    assert small.license == "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
    (scheme,) = small.schemes
    assert scheme.href == "/id/concept/pilier"
    assert [c.notation for c in scheme.concepts] == ["2", "10"]  # numeric order, not text order


# ---------------------------------------------------------------------------------------------------------
# The route, on the project's ontology


def ontology_triples(app: Flask, settings: Settings) -> list[ox.Triple]:
    with app.app_context():
        query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
        return list(engine().query(query, default_graphs=[settings.graph_base + "ontology"]))


def as_rdflib(triples: list[ox.Triple]) -> rdflib.Graph:
    return rdflib.Graph().parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")


def test_every_term_has_its_entry(app: Flask, client: FlaskClient, settings: Settings) -> None:
    terms = {t.subject.value for t in ontology_triples(app, settings) if t.subject.value.startswith(CDV)}
    response = client.get("/ontology", headers={"Accept": CHROME})
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = Page(response.get_data(as_text=True))
    assert {iri[len(CDV) :] for iri in terms} <= page.ids
    assert {"classes", "proprietes-objet", "proprietes-valeur"} <= page.ids
    text = page.plain
    for expected in ("mesure", "measure", "Engagement numéroté", "sous-classe de", "eli:WorkSubdivision"):
        assert expected in text


def test_use_counts_match_the_data(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        rows = engine().query(f"SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE {{ ?m a <{CDV}Mesure> }}")
        measures = int(next(iter(rows))["n"].value)
    html = client.get("/ontology", headers={"Accept": FIREFOX}).get_data(as_text=True)
    entry = html[html.index('id="Mesure"') :]
    entry = entry[: entry.index("</article>")]
    assert f"{measures} ressources dans les données" in entry


def test_the_build_records_the_use_counts(release: Release, settings: Settings) -> None:
    from server.engine.store import EmbeddedStore

    recorded = recorded_uses(release.manifest)
    assert recorded is not None and recorded[CDV + "Mesure"] > 0
    assert recorded == uses(EmbeddedStore.open_release(release), settings, CDV)


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        ({}, None),
        ({"term_uses": []}, None),
        ({"term_uses": {}}, {}),
        ({"term_uses": {CDV + "Mesure": 32}}, {CDV + "Mesure": 32}),
    ],
)
def test_recorded_uses(manifest: dict, expected: dict[str, int] | None) -> None:
    assert recorded_uses(manifest) == expected


def test_the_page_counts_the_uses_when_the_build_did_not_record_them(
    settings: Settings, unrecorded_release: Release
) -> None:
    from dataclasses import replace

    from server.web.app import create_app

    def page(app: Flask) -> tuple[int, str]:
        with app.app_context():
            before = engine().query_count
            response = app.test_client().get("/ontology", headers={"Accept": CHROME})
            assert response.status_code == 200
            return engine().query_count - before, response.get_data(as_text=True)

    recorded_queries, recorded = page(create_app(settings))
    counted_queries, counted = page(create_app(replace(settings, store_path=unrecorded_release.store_path)))
    assert (recorded_queries, counted_queries) == (1, 2)
    assert "ressources dans les données" in recorded
    assert recorded == counted


@pytest.mark.parametrize(
    ("how", "media_type", "parser"),
    [
        ("/ontology.ttl", "text/turtle", "turtle"),
        ("/ontology.rdf", "application/rdf+xml", "xml"),
        ("/ontology.jsonld", "application/ld+json", "json-ld"),
        ("/ontology.nt", "application/n-triples", "nt"),
        ("text/turtle", "text/turtle", "turtle"),
        ("application/rdf+xml", "application/rdf+xml", "xml"),
        ("application/ld+json", "application/ld+json", "json-ld"),
        ("*/*", "text/turtle", "turtle"),
    ],
)
def test_downloads_are_the_ontology_graph(
    app: Flask, client: FlaskClient, settings: Settings, how: str, media_type: str, parser: str
) -> None:
    response = client.get(how) if how.startswith("/") else client.get("/ontology", headers={"Accept": how})
    assert response.status_code == 200
    assert response.mimetype == media_type
    served = parse(response.get_data(), parser)
    assert isomorphic(served, as_rdflib(ontology_triples(app, settings)))
    assert "Accept" in [v.strip() for v in response.headers["Vary"].split(",")]
    assert '</ontology.ttl>; rel="alternate"; type="text/turtle"' in response.headers["Link"]


def test_term_iris_land_on_their_entry(client: FlaskClient) -> None:
    """`https://w3id.org/cdv/ontology#Mesure` is `/ontology#Mesure` here: the resource pages link there."""
    page = Page(
        client.get("/id/le-quesnoy/avenant-2020-2022/mesure/12", headers={"Accept": CHROME}).get_data(
            as_text=True
        )
    )
    assert "/ontology#Mesure" in page.links
    assert "Mesure" in Page(client.get("/ontology", headers={"Accept": CHROME}).get_data(as_text=True)).ids
