"""A browser following a "query this resource" link gets the editor holding the query, clients get results."""

from __future__ import annotations

import html

import pytest
from flask.testing import FlaskClient

QUERY = "DESCRIBE <https://w3id.org/cdv/id/le-quesnoy/avenant-2020-2022/mesure/12>"
CHROME = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8"
FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("accept", [CHROME, FIREFOX], ids=["chrome", "firefox"])
def test_browser_gets_the_editor_with_the_query(client: FlaskClient, accept: str) -> None:
    response = client.get("/sparql", query_string={"query": QUERY}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert html.escape(QUERY, quote=False) in page
    assert 'data-initial="true"' in page


@pytest.mark.parametrize(
    ("accept", "params", "mimetype"),
    [
        ("*/*", {}, "text/turtle"),
        (None, {}, "text/turtle"),
        ("application/rdf+xml", {}, "application/rdf+xml"),
        (CHROME, {"format": "turtle"}, "text/turtle"),
    ],
    ids=["any", "none", "rdfxml", "browser-with-format"],
)
def test_clients_and_explicit_formats_get_results(
    client: FlaskClient, accept: str | None, params: dict[str, str], mimetype: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get("/sparql", query_string={"query": QUERY, **params}, headers=headers)
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert b"mesure/12" in response.get_data()


def test_post_from_a_browser_form_still_runs_the_query(client: FlaskClient) -> None:
    response = client.post("/sparql", data={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": CHROME})
    assert response.status_code == 200
    assert response.mimetype == "application/xml"  # the browser prefers application/xml;q=0.9 to */*
