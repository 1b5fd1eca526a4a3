"""A crawl from the home page, as a browser would: every internal link works, every anchor exists, and every
resource of the data is reached by following links."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from server.core.config import Settings
from server.web.context import engine

from .test_pages import Page

FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
HOST = "http://localhost/"
MAX_FETCHES = 20_000  # a bound, in case a page generated links without end


@dataclass
class Crawl:
    """What a crawl saw: status and ids per URL, the fragment links to check, the broken links."""

    status: dict[str, int] = field(default_factory=dict)
    ids: dict[str, set[str]] = field(default_factory=dict)
    fragments: list[tuple[str, str, str]] = field(default_factory=list)  # (from, url, fragment)
    broken: list[str] = field(default_factory=list)


def internal(base: str, href: str) -> str | None:
    """The absolute URL of an internal link (same host), or None for any other."""
    url = urljoin(base, href)
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or parts.netloc != urlsplit(HOST).netloc:
        return None
    return url


def fetch(client: FlaskClient, url: str) -> TestResponse:
    """GET with a browser's Accept header; a 503 (the SPARQL endpoint's query processes all busy on a loaded
    machine) is a moment's unavailability, not a broken link: it is tried again, twice at most."""
    parts = urlsplit(url)
    for attempt in range(3):
        response = client.get(parts.path, query_string=parts.query, headers={"Accept": FIREFOX})
        if response.status_code != 503 or attempt == 2:
            return response
        response.close()
        time.sleep(1 + attempt)
    raise AssertionError("unreachable")


def crawl(client: FlaskClient) -> Crawl:
    """Breadth-first from "/", fetching every internal URL once with a browser's Accept header."""
    seen = Crawl()
    queue: deque[tuple[str, str]] = deque([(HOST, "(start)")])
    queued = {HOST}
    while queue:
        url, origin = queue.popleft()
        assert len(seen.status) < MAX_FETCHES, "the crawl does not end"
        response = fetch(client, url)
        seen.status[url] = response.status_code
        html = response.get_data(as_text=True) if response.mimetype == "text/html" else None
        response.close()  # file responses (static assets) hold their file open until closed
        if response.status_code >= 400:
            seen.broken.append(f"{origin} → {url}: {response.status_code}")
            continue
        if html is None:
            continue
        page = Page(html)
        seen.ids[url] = page.ids
        for href in page.urls:
            target = internal(url, href)
            if target is None:
                continue
            target, fragment = urldefrag(target)
            if fragment:
                seen.fragments.append((url, target, fragment))
            if target not in queued:
                queued.add(target)
                queue.append((target, url))
    return seen


@pytest.fixture(scope="module")
def site(app: Flask) -> Crawl:
    return crawl(app.test_client())


def test_no_broken_link(site: Crawl) -> None:
    assert len(site.status) > 100
    assert not site.broken, "\n".join(site.broken[:30])


def test_no_broken_anchor(site: Crawl) -> None:
    """Links to `#L12`, `#Mesure`, `#L118-L120`… land on an element with that id."""
    missing = [
        f"{origin} → {url}#{fragment}"
        for origin, url, fragment in site.fragments
        if url in site.ids and fragment not in site.ids[url]
    ]
    assert site.fragments
    assert not missing, "\n".join(missing[:30])


def test_every_resource_is_reached(site: Crawl, app: Flask, settings: Settings) -> None:
    with app.app_context():
        rows = engine().query(
            "SELECT DISTINCT ?r WHERE { { ?r ?p ?o } UNION { ?s ?p ?r } FILTER(isIRI(?r)) }"
        )
        resources = {r["r"].value.split("#", 1)[0] for r in rows if r["r"].value.startswith(settings.id_base)}
    reached = {
        settings.base_iri + urlsplit(url).path.lstrip("/")
        for url, status in site.status.items()
        if status == 200 and urlsplit(url).path.startswith("/id/")
    }
    unreached = sorted(resources - reached)
    assert not unreached, f"{len(unreached)} resource(s) no link leads to:\n" + "\n".join(unreached[:30])


def test_every_term_of_the_ontology_is_reached(site: Crawl, app: Flask, settings: Settings) -> None:
    """Each term IRI `…/ontology#Term` lands on its entry of the ontology page."""
    namespace = settings.ontology_iri + "#"
    with app.app_context():
        rows = engine().query(
            "SELECT DISTINCT ?t WHERE { ?t ?p ?o }", default_graphs=[settings.graph_base + "ontology"]
        )
        terms = {r["t"].value[len(namespace) :] for r in rows if r["t"].value.startswith(namespace)}
    assert terms
    assert terms <= site.ids[HOST + "ontology"]
