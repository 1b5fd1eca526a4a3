"""Two engines, one answer: what is particular to an engine (its row cap, its time limit, the guide's
replacement steps, its network binding). The request families themselves are compared across the three
backends in tests/test_engine_families.py."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.core.config import Settings
from server.core.negotiation import CSV
from server.web.app import create_app

from .virtuoso import DEPLOY, Place, deploy_steps, isql


@pytest.fixture(scope="module")
def embedded(settings: Settings) -> FlaskClient:
    """The embedded app of the same build: the answers every engine must give."""
    return create_app(settings).test_client()


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
