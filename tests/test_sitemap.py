"""sitemap.xml lists every resource page of the store; robots.txt points at it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.core.config import Settings
from server.web import catalog as catalog_module

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def locations(body: bytes) -> list[str]:
    return [loc.text or "" for loc in ET.fromstring(body).iterfind(".//s:loc", NS)]


def store_subjects(app: Flask, settings: Settings) -> set[str]:
    """Every subject under the id base in any graph, asked of the store directly (fragments dropped)."""
    from server.web.context import engine

    with app.app_context():
        rows = engine().query("SELECT DISTINCT ?s WHERE { GRAPH ?g { ?s ?p ?o } FILTER(isIRI(?s)) }")
        return {r["s"].value.split("#", 1)[0] for r in rows if r["s"].value.startswith(settings.id_base)}


def test_the_sitemap_covers_every_resource(client: FlaskClient, app: Flask, settings: Settings) -> None:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    urls = locations(response.data)
    assert len(urls) == len(set(urls))
    expected = {
        "http://localhost/" + iri.removeprefix(settings.base_iri) for iri in store_subjects(app, settings)
    }
    assert expected
    assert expected <= set(urls)
    assert {"http://localhost/", "http://localhost/catalog"} <= set(urls)


def test_every_sitemap_url_answers(client: FlaskClient) -> None:
    for url in locations(client.get("/sitemap.xml").data):
        response = client.get(urlsplit(url).path, headers={"Accept": "text/html"})
        assert response.status_code == 200, url


def test_every_entry_has_a_lastmod(client: FlaskClient) -> None:
    root = ET.fromstring(client.get("/sitemap.xml").data)
    entries = root.findall("s:url", NS)
    assert entries and all(e.find("s:lastmod", NS) is not None for e in entries)


def test_a_large_sitemap_becomes_an_index_of_parts(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = locations(client.get("/sitemap.xml").data)
    monkeypatch.setattr(catalog_module, "SITEMAP_LIMIT", 10)
    index = ET.fromstring(client.get("/sitemap.xml").data)
    assert index.tag == f"{{{NS['s']}}}sitemapindex"
    parts = [loc.text or "" for loc in index.iterfind(".//s:loc", NS)]
    assert len(parts) == -(-len(everything) // 10)
    collected = []
    for part in parts:
        collected += locations(client.get(urlsplit(part).path + "?" + urlsplit(part).query).data)
    assert collected == everything
    assert client.get(f"/sitemap.xml?page={len(parts) + 1}").status_code == 400


def test_robots_txt_points_at_the_sitemap_and_spares_the_endpoint(client: FlaskClient) -> None:
    response = client.get("/robots.txt")
    assert response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /sparql?" in lines
    assert "Sitemap: http://localhost/sitemap.xml" in lines
