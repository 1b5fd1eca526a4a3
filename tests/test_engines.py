"""Two engines, one answer: every request family gives on Oxigraph server and on Virtuoso what it gives on the
embedded store (the `app` fixture runs each test on the three), or a documented refusal."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pyoxigraph as ox
import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.core.config import Settings
from server.core.library import default_bindings, load_library
from server.core.negotiation import CSV, NQUADS, NTRIPLES, RDFXML, SPARQL_JSON, SPARQL_XML, TRIG, TSV, TURTLE
from server.web.app import create_app

from .virtuoso import DEPLOY, Place, deploy_steps, isql

SKOS = "http://www.w3.org/2004/02/skos/core#"
ORDERED_SELECT = f"SELECT ?c ?label ?n WHERE {{ ?c <{SKOS}prefLabel> ?label . BIND(STRLEN(STR(?c)) AS ?n) }} ORDER BY ?c STR(?label) LANG(?label)"
ASK = "ASK { ?s ?p ?o }"
CONSTRUCT = f"CONSTRUCT {{ ?c <{SKOS}prefLabel> ?label }} WHERE {{ ?c <{SKOS}prefLabel> ?label }}"


@pytest.fixture(scope="module")
def embedded(settings: Settings) -> FlaskClient:
    """The embedded app of the same build: the answers every engine must give."""
    return create_app(settings).test_client()


def sparql(client: FlaskClient, query: str, accept: str) -> tuple[int, bytes]:
    response = client.post("/sparql", data={"query": query}, headers={"Accept": accept})
    return response.status_code, response.data


@pytest.mark.parametrize(
    ("query", "media_type"),
    [
        (ORDERED_SELECT, fmt.media_type)
        for fmt in (SPARQL_JSON, SPARQL_XML, CSV, TSV)  # CSV with CRLF, TSV with ?var and N-Triples terms
    ]
    + [(ASK, fmt.media_type) for fmt in (SPARQL_JSON, SPARQL_XML, CSV, TSV)],  # true, not 1
    ids=lambda value: value if "/" in value else None,
)
def test_results_are_the_embedded_bytes(
    client: FlaskClient, embedded: FlaskClient, query: str, media_type: str
) -> None:
    expected = sparql(embedded, query, media_type)
    assert expected[0] == 200
    assert sparql(client, query, media_type) == expected


@pytest.mark.parametrize("fmt", [TURTLE, NTRIPLES, RDFXML, NQUADS, TRIG], ids=lambda f: f.name)
def test_graphs_are_the_embedded_graphs(client: FlaskClient, embedded: FlaskClient, fmt: object) -> None:
    """CONSTRUCT in every graph format (N-Quads and TriG too: Virtuoso answers 406 to those)."""
    status, body = sparql(client, CONSTRUCT, fmt.media_type)  # type: ignore[attr-defined]
    assert status == 200, body
    rdf_format = ox.RdfFormat.from_media_type(fmt.media_type)  # type: ignore[attr-defined]
    got = {q.triple for q in ox.parse(body, format=rdf_format)}
    expected = {q.triple for q in ox.parse(sparql(embedded, CONSTRUCT, fmt.media_type)[1], format=rdf_format)}  # type: ignore[attr-defined]
    assert got == expected and any(t.object.language == "fr" for t in got)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT DISTINCT ?c WHERE { ?c a <http://www.w3.org/2002/07/owl#Class> } ORDER BY ?c",
        "SELECT ?t (COUNT(?s) AS ?n) WHERE { ?s a ?t } GROUP BY ?t ORDER BY ?t",
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g",
    ],
    ids=["owl-classes", "class-counts", "graphs"],
)
def test_the_engine_s_own_graphs_never_show(client: FlaskClient, embedded: FlaskClient, query: str) -> None:
    expected = sparql(embedded, query, TSV.media_type)
    assert sparql(client, query, TSV.media_type) == expected


def test_health_counts_the_build(client: FlaskClient, embedded: FlaskClient) -> None:
    assert client.get("/health").json["triples"] == embedded.get("/health").json["triples"]


def test_a_page_linked_from_a_blank_node_answers(client: FlaskClient, embedded: FlaskClient) -> None:
    """Virtuoso labels blank nodes `nodeID://b…`, which pyoxigraph refused half-way through a page (a 500)."""
    query = (
        "SELECT DISTINCT ?r WHERE { ?b ?p ?r FILTER(isBlank(?b) && isIRI(?r) && "
        'STRSTARTS(STR(?r), "https://w3id.org/cdv/ontology#")) } ORDER BY ?r LIMIT 3'
    )  # the VoID class partitions (blank nodes) link to the ontology's classes
    status, body = sparql(embedded, query, TSV.media_type)
    targets = re.findall(r"<https://w3id.org/cdv/(ontology)#[^>]+>", body.decode("utf-8"))
    assert status == 200 and targets
    for path in targets:
        page = client.get("/" + path, headers={"Accept": "text/html"})
        assert page.status_code == 200, page.get_data(as_text=True)[:500]


def solution_rows(client: FlaskClient, name: str, params: dict[str, str]) -> list[tuple[str, ...]]:
    """A named query's rows from the API, in order, as TSV cells with blank-node labels reduced to `_:`."""
    response = client.get(f"/api/queries/{name}", query_string=params, headers={"Accept": TSV.media_type})
    assert response.status_code == 200, response.get_data(as_text=True)
    lines = response.get_data(as_text=True).split("\n")[1:]
    return [tuple(re.sub(r"^_:.*", "_:", cell) for cell in line.split("\t")) for line in lines if line]


# Named queries whose rows still differ on Virtuoso (docs/deploy.md, "what stays different"): left for a
# follow-up, since other work edits queries/ in parallel; the test fails when one of them starts to agree.
VIRTUOSO_DIFFERS = frozenset({"reference-texts"})  # GROUP_CONCAT: its order and language tag are the engine's


def test_every_named_query_gives_the_embedded_rows_in_order(
    app: Flask, client: FlaskClient, embedded: FlaskClient
) -> None:
    checked, differ = 0, set()
    for query in load_library(*app.config["CDV"].queries_dirs):
        params = {name: str(term.value) for name, term in default_bindings(query).items()}  # type: ignore[union-attr]
        expected = solution_rows(embedded, query.name, params)
        if solution_rows(client, query.name, params) != expected:
            differ.add(query.name)
        checked += bool(expected)
    assert checked > 10
    assert differ == (VIRTUOSO_DIFFERS if app.config["CDV_BACKEND"] == "virtuoso" else set())


def test_an_answer_cut_at_the_engine_s_row_cap_is_an_error(app: Flask, client: FlaskClient) -> None:
    query = "SELECT ?a ?b WHERE { ?a ?p ?o . ?b ?q ?r } LIMIT 10010"  # past the test Virtuoso's cap (10,000)
    response = client.post("/sparql", data={"query": query}, headers={"Accept": CSV.media_type})
    if app.config["CDV_BACKEND"] == "virtuoso":
        assert response.status_code == 503
        assert "cut its answer at 10000 rows" in response.get_data(as_text=True)
    else:
        assert response.status_code == 200
        assert response.data.count(b"\r\n") == 10011


def test_a_runaway_query_on_virtuoso_is_stopped_with_a_503(virtuoso_place: Place, settings: Settings) -> None:
    """The guide turns Virtuoso's cost estimate off (it refused our own home-page query, estimated at 13,258 s):
    a runaway query is stopped by the time limit instead, with the embedded mode's 503 and words."""
    client = create_app(replace(settings, endpoint=virtuoso_place.endpoint, query_timeout=2.0)).test_client()
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
    response = client.post("/sparql", data={"query": query})
    assert response.status_code == 503
    assert "time limit of 2 s" in response.get_data(as_text=True)


def test_the_guide_s_replacement_steps_leave_one_copy_of_the_build(
    virtuoso_place: Place, settings: Settings, embedded: FlaskClient
) -> None:
    """Loading over a build duplicates its blank nodes: the guide's replacement SQL, run as written, does not."""
    steps = deploy_steps(DEPLOY.read_text("utf-8"))
    isql(virtuoso_place, virtuoso_place.localise(steps.replace), virtuoso_place.password)
    client = create_app(replace(settings, endpoint=virtuoso_place.endpoint)).test_client()
    assert client.get("/health").json["triples"] == embedded.get("/health").json["triples"]


def test_virtuoso_listens_on_the_loopback_interface_only(virtuoso_place: Place) -> None:
    listening = Path("/proc/net/tcp").read_text().split("\n")[1:]
    ports = {virtuoso_place.sql_port, virtuoso_place.http_port}
    local = {line.split()[1] for line in listening if line.split() and line.split()[3] == "0A"}
    mine = {address for address in local if int(address.split(":")[1], 16) in ports}
    assert mine == {f"0100007F:{port:04X}" for port in ports}
