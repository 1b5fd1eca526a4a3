"""Linked-data pages: every resource in every format, negotiation, headers, errors, escaping, query budget."""

from __future__ import annotations

import json
import re
import warnings
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pyoxigraph as ox
import pytest
import rdflib
from flask import Flask
from flask.testing import FlaskClient

from server.build.pipeline import build
from server.core.config import PROJECT_ROOT, Settings, load_settings
from server.core.describe import RDF_TYPE, Description, shown
from server.web.app import create_app
from server.web.context import engine
from server.web.pages import HTML_PAGE_SIZE, VALUES_SHOWN

BASE = "https://w3id.org/cdv/"
DOC = BASE + "id/le-quesnoy/avenant-2020-2022"
MEASURE = DOC + "/mesure/12"
FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "pages"

CHROME = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,"
    "application/signed-exchange;v=b3;q=0.7"
)
FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SAFARI = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
OLD_FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,*/*;q=0.8"

# format name, extension, media type, rdflib parser
RDF = [
    ("turtle", "ttl", "text/turtle", "turtle"),
    ("jsonld", "jsonld", "application/ld+json", "json-ld"),
    ("rdfxml", "rdf", "application/rdf+xml", "xml"),
    ("ntriples", "nt", "application/n-triples", "nt"),
]


def path_of(iri: str) -> str:
    """The local path of a public IRI (fragment dropped: the document that describes it)."""
    return "/" + iri.split("#", 1)[0].removeprefix(BASE)


def parse(data: bytes | str, parser: str) -> rdflib.Graph:
    """Parse with rdflib; its JSON-LD parser builds a ConjunctiveGraph internally, which rdflib 7 itself
    deprecates: that one warning, raised inside rdflib, is not ours to fix."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
        return rdflib.Graph().parse(data=data, format=parser)


def store_rows(app: Flask, query: str, **bindings: ox.NamedNode) -> list[ox.QuerySolution]:
    with app.app_context():
        return list(engine().query(query, substitutions=bindings or None))


def all_resources(app: Flask, settings: Settings) -> list[str]:
    """Every IRI under the id base the store mentions, as subject or object."""
    rows = store_rows(
        app,
        "SELECT DISTINCT ?r WHERE { { ?r ?p ?o } UNION { ?s ?p ?r } FILTER(isIRI(?r)) }",
    )
    return sorted(r["r"].value for r in rows if r["r"].value.startswith(settings.id_base))


def own_triples(app: Flask, iri: str) -> list[ox.Triple]:
    with app.app_context():
        query = "CONSTRUCT { ?r ?p ?o } WHERE { ?r ?p ?o }"
        return list(engine().query(query, substitutions={"r": ox.NamedNode(iri)}))


def to_rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> rdflib.term.Node:
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    if term.datatype.value == str(rdflib.XSD.string):  # rdflib keeps simple literals without a datatype
        return rdflib.Literal(term.value)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


def missing_triples(graph: rdflib.Graph, expected: list[ox.Triple]) -> list[str]:
    """Triples of the store absent from `graph`; a blank node object is matched by its own triples."""
    missing = []
    for t in expected:
        s, p = rdflib.URIRef(t.subject.value), rdflib.URIRef(t.predicate.value)
        if isinstance(t.object, ox.BlankNode):
            if not any(
                isinstance(o, rdflib.BNode) and len(list(graph.triples((o, None, None))))
                for o in graph.objects(s, p)
            ):
                missing.append(f"{s} {p} [blank node with its triples]")
        elif (s, p, to_rdflib(t.object)) not in graph:
            missing.append(str(t))
    return missing


# ---------------------------------------------------------------------------------------------------------
# Every resource in every RDF format


def documents(app: Flask, settings: Settings) -> dict[str, list[str]]:
    """Each path to fetch, with the resources its answer describes (itself and its hash IRIs)."""
    found: dict[str, list[str]] = {}
    for iri in all_resources(app, settings):
        found.setdefault(path_of(iri), []).append(iri)
    return found


@pytest.mark.parametrize(("name", "ext", "media_type", "parser"), RDF, ids=[r[0] for r in RDF])
@pytest.mark.parametrize("how", ["accept", "extension", "format-param"])
def test_every_resource_in_every_format_holds_its_triples(
    app: Flask,
    client: FlaskClient,
    settings: Settings,
    name: str,
    ext: str,
    media_type: str,
    parser: str,
    how: str,
) -> None:
    table = documents(app, settings)
    assert len(table) > 100, "the data should have been built"
    paths = sorted(table)
    if how != "accept":  # the three ways reach the same code: the full table once, a sample for the others
        paths = paths[:: max(1, len(paths) // 25)]
    failures = []
    for path in paths:
        if how == "accept":
            response = client.get(path, headers={"Accept": media_type})
        elif how == "extension":
            response = client.get(f"{path}.{ext}")
        else:
            response = client.get(path, query_string={"format": name})
        if response.status_code != 200 or not response.content_type.startswith(media_type):
            failures.append(f"{path}: {response.status_code} {response.content_type}")
            continue
        graph = parse(response.get_data(), parser)
        for iri in table[path]:
            missing = missing_triples(graph, own_triples(app, iri))
            if missing:
                failures.append(f"{iri}: {len(missing)} triple(s) missing, e.g. {missing[0]}")
    assert not failures, "\n".join(failures[:20])


def test_hash_resources_are_described_by_their_document(
    app: Flask, client: FlaskClient, settings: Settings
) -> None:
    """A passage `…/source#L118-L120` is served within `…/source`, with an anchor of that name."""
    by_document = {path: [i for i in iris if "#" in i] for path, iris in documents(app, settings).items()}
    by_document = {path: members for path, members in by_document.items() if members}
    assert by_document, "the data has passages"
    for path, members in by_document.items():
        ids = Page(client.get(path, headers={"Accept": FIREFOX}).get_data(as_text=True)).ids
        assert {iri.split("#", 1)[1] for iri in members} <= ids


# ---------------------------------------------------------------------------------------------------------
# Content negotiation


@pytest.mark.parametrize(
    "accept",
    [
        CHROME,
        FIREFOX,
        SAFARI,
        OLD_FIREFOX,
        "text/html",
        "application/xhtml+xml",
        "text/html;q=0.9, text/turtle;q=0.5",
    ],
    ids=["chrome", "firefox", "safari", "old-firefox", "text-html", "xhtml", "html-preferred"],
)
@pytest.mark.parametrize("iri", [MEASURE, DOC, BASE + "id/organisation/caf-du-nord"])
def test_browsers_get_html(client: FlaskClient, accept: str, iri: str) -> None:
    response = client.get(path_of(iri), headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Content-Location"] == path_of(iri) + ".html"


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("text/turtle", "text/turtle"),
        ("application/ld+json", "application/ld+json"),
        ("application/json", "application/ld+json"),
        ("application/rdf+xml", "application/rdf+xml"),
        ("application/n-triples", "application/n-triples"),
        ("application/rdf+xml;q=0.5, text/turtle;q=0.9", "text/turtle"),
        ("text/html;q=0.1, application/ld+json", "application/ld+json"),
        ("application/n-triples, */*;q=0.1", "application/n-triples"),
        ("*/*", "text/turtle"),
        ("text/*", "text/turtle"),
        (None, "text/turtle"),
    ],
    ids=[
        "turtle",
        "jsonld",
        "json",
        "rdfxml",
        "ntriples",
        "q-values",
        "html-refused",
        "nt-with-wildcard",
        "any",
        "text-any",
        "no-accept",
    ],
)
def test_clients_get_rdf(client: FlaskClient, accept: str | None, media_type: str) -> None:
    headers = {"Accept": accept} if accept is not None else {}
    response = client.get(path_of(MEASURE), headers=headers)
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert response.content_type.endswith("charset=utf-8")


@pytest.mark.parametrize(
    ("query", "media_type"),
    [
        ("turtle", "text/turtle"),
        ("ttl", "text/turtle"),
        ("jsonld", "application/ld+json"),
        ("rdfxml", "application/rdf+xml"),
        ("nt", "application/n-triples"),
        ("html", "text/html"),
    ],
)
def test_format_parameter_beats_the_browser_header(client: FlaskClient, query: str, media_type: str) -> None:
    response = client.get(path_of(MEASURE), query_string={"format": query}, headers={"Accept": CHROME})
    assert response.status_code == 200
    assert response.mimetype == media_type


@pytest.mark.parametrize(
    ("ext", "media_type"),
    [
        ("ttl", "text/turtle"),
        ("jsonld", "application/ld+json"),
        ("rdf", "application/rdf+xml"),
        ("nt", "application/n-triples"),
        ("html", "text/html"),
    ],
)
def test_extension_beats_the_accept_header(client: FlaskClient, ext: str, media_type: str) -> None:
    response = client.get(
        f"{path_of(MEASURE)}.{ext}", headers={"Accept": "application/n-triples" if ext != "nt" else CHROME}
    )
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert response.headers["Content-Location"] == f"{path_of(MEASURE)}.{ext}"


def test_headers_name_every_variant(client: FlaskClient) -> None:
    response = client.get(path_of(MEASURE), headers={"Accept": "text/turtle"})
    assert "Accept" in response.headers["Vary"]
    assert response.headers["Content-Location"] == path_of(MEASURE) + ".ttl"
    links = dict(re.findall(r'<([^>]+)>; rel="alternate"; type="([^"]+)"', response.headers["Link"]))
    assert links == {
        path_of(MEASURE) + ".ttl": "text/turtle",
        path_of(MEASURE) + ".html": "text/html",
        path_of(MEASURE) + ".jsonld": "application/ld+json",
        path_of(MEASURE) + ".rdf": "application/rdf+xml",
        path_of(MEASURE) + ".nt": "application/n-triples",
    }


def test_rdf_keeps_public_iris_while_links_are_local(client: FlaskClient) -> None:
    """The data's identity stays https://w3id.org/cdv/…; only the HTML links point at this server."""
    turtle = client.get(path_of(MEASURE), headers={"Accept": "text/turtle"}).get_data(as_text=True)
    assert MEASURE in turtle and "localhost" not in turtle
    html = client.get(path_of(MEASURE), headers={"Accept": CHROME}).get_data(as_text=True)
    assert f'href="{path_of(DOC)}"' in html


def test_public_url_makes_links_absolute(settings: Settings) -> None:
    app = create_app(
        load_settings({"build_dir": settings.build_dir, "public_url": "https://data.example.org/cdv/"})
    )
    response = app.test_client().get(path_of(MEASURE), headers={"Accept": CHROME})
    html = response.get_data(as_text=True)
    assert 'href="https://data.example.org/cdv/id/le-quesnoy/avenant-2020-2022"' in html
    assert (
        response.headers["Content-Location"]
        == "https://data.example.org/cdv/id/le-quesnoy/avenant-2020-2022/mesure/12.html"
    )


def test_links_follow_the_mount_point_behind_a_proxy(client: FlaskClient) -> None:
    """Mounted under /cdv by a proxy (SCRIPT_NAME), the links carry the prefix; the IRI does not change."""
    response = client.get(
        path_of(MEASURE), headers={"Accept": CHROME}, environ_overrides={"SCRIPT_NAME": "/cdv"}
    )
    html = response.get_data(as_text=True)
    assert 'href="/cdv/id/le-quesnoy/avenant-2020-2022"' in html
    assert f"<code>{MEASURE}</code>" in html


# ---------------------------------------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize(
    ("path", "headers", "status", "mimetype"),
    [
        ("/id/nothing/here", {"Accept": CHROME}, 404, "text/html"),
        ("/id/nothing/here", {"Accept": "text/turtle"}, 404, "text/plain"),
        ("/id/nothing/here", {}, 404, "text/plain"),
        ("/id/nothing/here.ttl", {"Accept": CHROME}, 404, "text/plain"),
        ("/id/nothing/here.html", {}, 404, "text/html"),
        ("/id/le-quesnoy/avenant-2020-2022/mesure/9999", {"Accept": CHROME}, 404, "text/html"),
        ("/id/%3Cscript%3Ealert(1)%3C/script%3E", {"Accept": CHROME}, 404, "text/html"),
        ("/id/a%20b", {}, 404, "text/plain"),
        ("/id/le-quesnoy/avenant-2020-2022/mesure/12?page=0", {}, 400, "text/plain"),
        ("/id/le-quesnoy/avenant-2020-2022/mesure/12?page=deux", {}, 400, "text/plain"),
        ("/id/le-quesnoy/avenant-2020-2022/mesure/12?page=99", {}, 404, "text/plain"),
        ("/id/le-quesnoy/avenant-2020-2022/mesure/12?format=pdf", {}, 406, "text/plain"),
        ("/id/le-quesnoy/avenant-2020-2022/mesure/12", {"Accept": "image/png"}, 406, "text/plain"),
        ("/sources/nothing.txt", {}, 404, "text/plain"),
        ("/sources/nothing.txt", {"Accept": FIREFOX}, 404, "text/html"),
        ("/sources/..%2F..%2Fpyproject.toml", {}, 404, "text/plain"),
        ("/sources/.hidden", {}, 404, "text/plain"),
        ("/ontology.exe", {}, 404, "text/plain"),
        ("/ontology", {"Accept": "image/png"}, 406, "text/plain"),
    ],
)
def test_errors_are_plain_and_right(
    client: FlaskClient, path: str, headers: dict[str, str], status: int, mimetype: str
) -> None:
    response = client.get(path, headers=headers)
    assert response.status_code == status
    assert response.mimetype == mimetype
    body = response.get_data(as_text=True)
    assert "Traceback" not in body
    assert "<script>alert" not in body


@pytest.mark.parametrize(
    ("path", "accept"),
    [
        ("/id/le-quesnoy/avenant-2020-2022/mesure/9999", CHROME),
        ("/no/such/route", CHROME),
        ("/no/such/route", FIREFOX),
        ("/sources/nothing.txt", SAFARI),
    ],
)
def test_the_404_page_is_in_french(client: FlaskClient, path: str, accept: str) -> None:
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == 404 and response.mimetype == "text/html"
    page = Page(response.get_data(as_text=True))
    assert "Cette page n’existe pas" in page.plain and "l’accueil" in page.plain
    assert not re.search(r"\b(not found|no resource|requested URL)\b", page.plain, re.I)
    assert page.html.count("<h1") == 1 and page.html.count("<main") == 1


def test_every_page_has_a_favicon(client: FlaskClient) -> None:
    for path in ("/favicon.ico", "/static/favicon.svg"):
        with client.get(path) as response:  # a file response: closed once read
            assert response.status_code == 200 and response.mimetype == "image/svg+xml"
            assert response.get_data(as_text=True).startswith("<svg")
    page = html_page(client, MEASURE)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page.html


@pytest.mark.parametrize(
    "path", [path_of(MEASURE), "/ontology", "/", "/sources/protocole-le-quesnoy-2020-2022.txt"]
)
def test_writes_are_refused(client: FlaskClient, path: str) -> None:
    response = client.post(path, data="x")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


# ---------------------------------------------------------------------------------------------------------
# The resource page


class Page(HTMLParser):
    """Ids, links, scripts and text of an HTML page (the standard library's parser); the crawl uses it too."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []  # <a href>
        self.urls: list[str] = []  # every href and src: links, stylesheets, scripts, images
        self.scripts: list[tuple[str, str]] = []
        self.text: list[str] = []
        self._script: str | None = None
        self.html = html
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        self.urls.extend(values[name] or "" for name in ("href", "src") if values.get(name))
        if tag == "script":
            self._script = values.get("type") or ""
            self.scripts.append((self._script, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            kind, body = self.scripts[-1]
            self.scripts[-1] = (kind, body + data)
        else:
            self.text.append(data)

    @property
    def plain(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.text))


def html_page(client: FlaskClient, iri: str) -> Page:
    response = client.get(path_of(iri), headers={"Accept": CHROME})
    assert response.status_code == 200
    return Page(response.get_data(as_text=True))


def test_measure_page_shows_text_breadcrumb_source_and_mentions(app: Flask, client: FlaskClient) -> None:
    page = html_page(client, MEASURE)
    text = page.plain
    assert "Mesure 12" in text
    assert "Développer des ateliers parents-enfants" in text
    # breadcrumb: avenant → axe → thématique → objectif → mesure, each a link in that order
    crumbs = [
        path_of(DOC),
        path_of(DOC + "/axe/1"),
        path_of(DOC + "/thematique/3"),
        path_of(DOC + "/objectif/6"),
    ]
    positions = [page.links.index(c) for c in crumbs]
    assert positions == sorted(positions)
    # previous and next measure
    assert path_of(DOC + "/mesure/11") in page.links and path_of(DOC + "/mesure/13") in page.links
    # the quoted source passage, with its line numbers and a link to the line in the text file
    rows = store_rows(
        app,
        "PREFIX cdv: <https://w3id.org/cdv/ontology#> SELECT ?r ?a ?b WHERE { ?r cdv:passage ?p . ?p cdv:ligneDebut ?a ; cdv:ligneFin ?b }",
        r=ox.NamedNode(MEASURE),
    )
    start, end = int(rows[0]["a"].value), int(rows[0]["b"].value)
    assert f"Lignes {start} à {end}" in text
    assert any(re.fullmatch(rf"/sources/[^/]+\.txt#L{start}", link) for link in page.links)
    assert "ateliers parents-enfants" in text
    # what the measure names, with labels
    named = store_rows(
        app,
        "PREFIX cdv: <https://w3id.org/cdv/ontology#> SELECT ?r ?o WHERE { ?r cdv:mentionne ?o }",
        r=ox.NamedNode(MEASURE),
    )
    for row in named:
        assert path_of(row["o"].value) in page.links
    # types link to the ontology, the SPARQL editor is one click away
    assert "/ontology#Mesure" in page.links
    assert any(link.startswith("/sparql?query=DESCRIBE") for link in page.links)


def test_properties_have_french_labels_and_no_english_gloss(client: FlaskClient) -> None:
    page = html_page(client, MEASURE)
    for label in ("objectif", "thématique", "numéro", "dérivé de"):
        assert label in page.plain
    for english in ("objective", "theme", "amendment", "order"):
        assert not re.search(rf"\b{english}\b", page.plain), english
    assert 'lang="en"' not in page.html


def section_of(page: Page, heading: str) -> int:
    """Where a heading's text starts in the page's text: sections are compared by reading order."""
    position = page.plain.find(heading)
    assert position >= 0, heading
    return position


@pytest.mark.parametrize(
    ("path", "title", "first", "last"),
    [
        (DOC + "/axe/3", "Axe 3 : Emploi et développement économique", "/objectif/13", "/mesure/32"),
        (DOC + "/axe/1", "Axe 1 : Cohésion sociale", "/thematique/1", "/mesure/21"),
        (DOC + "/thematique/3", "Réussite éducative", "/objectif/", "/mesure/"),
        (DOC + "/objectif/6", "Maintenir et développer", "/mesure/", "/mesure/"),
    ],
    ids=["axe-3", "axe-1", "thematique", "objectif"],
)
def test_structural_pages_read_like_the_document(
    app: Flask, client: FlaskClient, path: str, title: str, first: str, last: str
) -> None:
    """The printed heading, then what it holds in reading order with text and partners, then the source,
    and the RDF properties and incoming links last, under "Données"."""
    page = html_page(client, path)
    h1 = re.search(r"<h1[^>]*>(.*?)</h1>", page.html, re.S)
    assert h1 and h1.group(1).strip().startswith(title)
    assert page.html.count("<h1") == 1 and page.html.count("<main") == 1
    outline = page.html[page.html.index('id="h-outline"') : page.html.index('id="h-source"')]
    members = store_rows(
        app,
        "PREFIX cdv: <https://w3id.org/cdv/ontology#> SELECT ?r ?m ?o ?n WHERE { ?m cdv:parent+ ?r ; a cdv:Mesure ; cdv:ordre ?o . OPTIONAL { ?m cdv:mentionne ?n } } ORDER BY ?o",
        r=ox.NamedNode(path),
    )
    measures = list(dict.fromkeys(path_of(row["m"].value) for row in members))
    assert measures and [m for m in re.findall(r'href="([^"]+/mesure/\d+)"', outline)] == measures
    assert first in outline and last in outline
    for row in members:  # the partners, schemes and texts each measure names
        if row["n"] is not None:
            assert f'href="{path_of(row["n"].value)}"' in outline
    order = [section_of(page, h) for h in ("Dans le texte source", "Données", "Propriétés")]
    assert page.plain.index(title) < order[0] and order == sorted(order)
    assert "Liens vers cette ressource" not in page.plain[: order[1]]


@pytest.mark.parametrize(
    ("path", "reading"),
    [
        ("/id/organisation/pole-emploi", "Mentionné par"),
        (DOC + "/axe/3", "Regroupe"),
        (DOC + "/objectif/6", "Contient"),
        (DOC, "Comprend"),
    ],
)
def test_incoming_links_read_backwards_in_french(client: FlaskClient, path: str, reading: str) -> None:
    """Incoming links are titled with the property's inverse label from the ontology, never « p » de."""
    page = html_page(client, BASE.rstrip("/") + path if path.startswith("/") else path)
    headings = re.findall(r'<h4 class="via">\s*([^<]+?)\s*<', page.html)
    assert reading in headings, headings
    assert not re.search(r"est « [^»]+ » de", page.plain) and "Reliés par" not in page.plain


def test_a_link_from_the_ontology_is_named_from_its_graph_and_the_catalogue(
    client: FlaskClient, app: Flask
) -> None:
    """The ontology credits the project's organisation: the link reads with the ontology's title and both its
    kinds, one stated in the ontology's graph (owl:Ontology), one in the metadata graph (dct:Standard)."""
    page = html_page(client, BASE + "id/organisation/projet-cdv-graph")
    links = re.findall(
        r'<li><a href="[^"]*/ontology">([^<]+)</a> <span class="kinds">(.*?)</span></li>', page.html
    )
    assert links, page.plain
    kinds = [re.findall(r'<span class="kind">([^<]+)</span>', found) for _title, found in links]
    assert {title for title, _kinds in links} == {"Ontologie des contrats de ville"}
    assert all("Ontologie" in each for each in kinds)
    if app.config["CDV_BACKEND"] == "virtuoso":
        pytest.xfail(
            "Virtuoso 7.2 returns the metadata graph's branch of the incoming query alone but not within it "
            "(seen before and after the branch named its graphs)"
        )
    assert all(each == ["Ontologie", "Norme"] for each in kinds), kinds


def test_embedded_json_ld_is_the_description(client: FlaskClient, app: Flask) -> None:
    page = html_page(client, MEASURE)
    scripts = [body for kind, body in page.scripts if kind == "application/ld+json"]
    assert len(scripts) == 1
    graph = parse(scripts[0], "json-ld")
    assert not missing_triples(graph, own_triples(app, MEASURE))


def test_source_text_is_served_plain_and_numbered(client: FlaskClient, settings: Settings) -> None:
    name = sorted(p.name for p in settings.sources_dir.glob("*.txt"))[0]
    plain = client.get(f"/sources/{name}")
    assert plain.status_code == 200
    assert plain.content_type == "text/plain; charset=utf-8"
    assert plain.get_data() == (settings.sources_dir / name).read_bytes()
    html = client.get(f"/sources/{name}", headers={"Accept": CHROME})
    page = Page(html.get_data(as_text=True))
    lines = (settings.sources_dir / name).read_text("utf-8").splitlines()
    assert {f"L{n}" for n in range(1, len(lines) + 1)} <= page.ids
    assert client.get(f"/sources/{name}?format=text", headers={"Accept": CHROME}).mimetype == "text/plain"


# ---------------------------------------------------------------------------------------------------------
# The home page


def test_home_outlines_every_document(app: Flask, client: FlaskClient) -> None:
    response = client.get("/", headers={"Accept": CHROME})
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = Page(response.get_data(as_text=True))
    counts = store_rows(
        app,
        """PREFIX cdv: <https://w3id.org/cdv/ontology#>
        SELECT ?doc (COUNT(DISTINCT ?axe) AS ?axes) (COUNT(DISTINCT ?t) AS ?themes)
               (COUNT(DISTINCT ?o) AS ?objectives) (COUNT(DISTINCT ?m) AS ?measures) WHERE {
          ?doc a cdv:Avenant .
          OPTIONAL { ?axe a cdv:Axe ; cdv:avenant ?doc } OPTIONAL { ?t a cdv:Thematique ; cdv:avenant ?doc }
          OPTIONAL { ?o a cdv:Objectif ; cdv:avenant ?doc } OPTIONAL { ?m a cdv:Mesure ; cdv:avenant ?doc }
        } GROUP BY ?doc""",
    )
    assert counts
    for row in counts:
        n = [int(row[k].value) for k in ("axes", "themes", "objectives", "measures")]
        assert f"{n[0]} axes · {n[1]} thématiques · {n[2]} objectifs · {n[3]} mesures" in page.plain
        assert path_of(row["doc"].value) in page.links
    for iri in [DOC + "/axe/1", DOC + "/thematique/3", DOC + "/objectif/6", MEASURE]:
        assert path_of(iri) in page.links
    signatories = store_rows(
        app,
        "PREFIX cdv: <https://w3id.org/cdv/ontology#> SELECT ?p WHERE { ?s a cdv:Signature ; cdv:signataire ?p }",
    )
    assert signatories and all(path_of(r["p"].value) in page.links for r in signatories)
    assert {"/sparql", "/queries", "/catalog", "/ontology"} <= set(page.links)
    assert not [kind for kind, _ in page.scripts], "the home page needs no script"


def test_aggregate_pages_cost_a_fixed_number_of_queries(app: Flask, client: FlaskClient) -> None:
    assert queries_for(app, client, "/", CHROME) == 3
    assert queries_for(app, client, "/ontology", CHROME) == 1  # the use counts come from the build's manifest
    assert queries_for(app, client, "/ontology", "text/turtle") == 1


# ---------------------------------------------------------------------------------------------------------
# Query budget: a page costs the same number of store queries whatever its number of links


def queries_for(app: Flask, client: FlaskClient, path: str, accept: str) -> int:
    """The store queries one page costs; the page must answer 200 in the format asked for."""
    with app.app_context():
        store = engine()
        before = store.query_count
        response = client.get(path, headers={"Accept": accept})
        assert response.status_code == 200, path
        assert response.mimetype == ("text/html" if "html" in accept else accept), path
        return store.query_count - before


def link_counts(app: Flask, settings: Settings) -> dict[str, int]:
    """How many triples each resource is subject or object of."""
    rows = store_rows(
        app,
        """SELECT ?r (COUNT(*) AS ?n) WHERE { { ?r ?p ?o } UNION { ?s ?p ?r } FILTER(isIRI(?r)) } GROUP BY ?r""",
    )
    return {
        r["r"].value: int(r["n"].value)
        for r in rows
        if r["r"].value.startswith(settings.id_base) and "#" not in r["r"].value
    }


# An HTML page costs 4 queries (outgoing, one page of incoming, context, batched labels); an avenant's page
# 3 more for its outline; an RDF document 2 (outgoing, incoming).
BUDGET = {"html": 4, "html-avenant": 7, "turtle": 2}


@pytest.mark.parametrize(
    ("accept", "kind"), [(CHROME, "html"), ("text/turtle", "turtle")], ids=["html", "turtle"]
)
def test_query_count_does_not_grow_with_links(
    app: Flask, client: FlaskClient, settings: Settings, accept: str, kind: str
) -> None:
    """Every resource of the data has an HTML page and a Turtle document, and from the one with the fewest
    links to the one with the most, each costs the same number of store queries (for its kind of page)."""
    counts = link_counts(app, settings)
    avenants = {
        r["a"].value
        for r in store_rows(app, "SELECT ?a WHERE { ?a a <https://w3id.org/cdv/ontology#Avenant> }")
    }
    assert max(counts.values()) > 50 * min(counts.values())
    spent: dict[str, set[int]] = {}
    for iri in counts:
        page_kind = kind + ("-avenant" if kind == "html" and iri in avenants else "")
        spent.setdefault(page_kind, set()).add(queries_for(app, client, path_of(iri), accept))
    assert spent == {k: {BUDGET[k]} for k in spent}, spent


# ---------------------------------------------------------------------------------------------------------
# A fixture graph: escaping and pagination


@pytest.fixture(scope="module")
def fixture_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """The escaping fixture plus an organisation with many incoming links, built like the real data."""
    data = tmp_path_factory.mktemp("pages-data")
    document = data / "test" / "fixture"
    document.mkdir(parents=True)
    (document / "escaping.ttl").write_text((FIXTURES / "escaping.ttl").read_text("utf-8"), "utf-8")
    lines = [
        "@prefix dcterms: <http://purl.org/dc/terms/> .",
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .",
    ]
    for n in range(1, HTML_PAGE_SIZE + 31):
        lines.append(
            f'<{BASE}id/test/chose/{n:03d}> rdfs:label "Chose {n}"@fr ; '
            f"dcterms:references <{BASE}id/test/cible> ."
        )
    lines.append(f'<{BASE}id/test/cible> rdfs:label "Cible"@fr .')
    # a hub naming more things than a page shows (VALUES_SHOWN)
    named = ", ".join(f"<{BASE}id/test/chose/{n:03d}>" for n in range(1, VALUES_SHOWN + 11))
    lines.append(f'<{BASE}id/test/carrefour> rdfs:label "Carrefour"@fr ; dcterms:requires {named} .')
    (document / "many.ttl").write_text("\n".join(lines) + "\n", "utf-8")
    # No result cache: tests here count the store queries of each page and patch the page size between requests
    settings = load_settings({"build_dir": tmp_path_factory.mktemp("pages-build"), "cache_bytes": 0})
    build(settings, data_dirs=[data])
    app = create_app(settings)
    app.testing = True
    return app


@pytest.fixture()
def fixture_client(fixture_app: Flask) -> FlaskClient:
    return fixture_app.test_client()


def test_literals_are_escaped_in_html_and_json_ld(fixture_client: FlaskClient) -> None:
    response = fixture_client.get("/id/test/escaping", headers={"Accept": CHROME})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html
    page = Page(html)
    scripts = [(kind, body) for kind, body in page.scripts]
    assert [kind for kind, _ in scripts] == ["application/ld+json"], "no script but the JSON-LD block"
    data = json.loads(scripts[0][1])
    assert "</script>" in json.dumps(data, ensure_ascii=False), "the JSON-LD still holds the literal, escaped"
    turtle = fixture_client.get("/id/test/escaping.ttl").get_data(as_text=True)
    graph = parse(turtle, "turtle")
    labels = {str(o) for o in graph.objects(rdflib.URIRef(BASE + "id/test/escaping"), rdflib.RDFS.label)}
    assert any("<script>" in label for label in labels)


def test_only_web_iris_become_links(fixture_client: FlaskClient) -> None:
    """An IRI value with a `javascript:` scheme is valid RDF: it is shown, never made a link."""
    html = fixture_client.get("/id/test/escaping", headers={"Accept": CHROME}).get_data(as_text=True)
    assert "javascript:alert(1)" in html
    assert not [
        link for link in Page(html).links if not link.startswith(("/", "#", "http://", "https://", "?"))
    ]
    assert "<img" not in html and "<b>" not in html


def test_incoming_links_are_paginated(fixture_client: FlaskClient) -> None:
    first = Page(fixture_client.get("/id/test/cible", headers={"Accept": CHROME}).get_data(as_text=True))
    things = [link for link in first.links if link.startswith("/id/test/chose/")]
    assert len(things) == HTML_PAGE_SIZE
    assert "/id/test/cible?page=2" in first.links
    second = Page(
        fixture_client.get("/id/test/cible?page=2", headers={"Accept": CHROME}).get_data(as_text=True)
    )
    rest = [link for link in second.links if link.startswith("/id/test/chose/")]
    assert len(rest) == 30 and not set(rest) & set(things)
    # the escaping fixture links here too: its label is a link text, escaped
    assert "/id/test/escaping" in second.links and "<script>alert" not in second.html
    assert "/id/test/cible" in second.links
    assert fixture_client.get("/id/test/cible?page=3").status_code == 404
    turtle = fixture_client.get("/id/test/cible.ttl")
    graph = parse(turtle.get_data(), "turtle")
    assert (
        len(list(graph.subjects(rdflib.DCTERMS.references, rdflib.URIRef(BASE + "id/test/cible"))))
        == HTML_PAGE_SIZE + 31  # and the escaping fixture
    )


def test_rdf_pages_link_to_each_other(fixture_client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """RDF pages are larger than HTML ones; with 50 per page, 131 incoming links make 3 Turtle pages."""
    monkeypatch.setattr("server.web.pages.RDF_PAGE_SIZE", 50)
    pager = {}
    for page in (1, 2, 3):
        response = fixture_client.get(f"/id/test/cible.ttl?page={page}")
        assert response.status_code == 200
        pager[page] = dict(
            (rel, url) for url, rel in re.findall(r'<([^>]+)>; rel="(next|prev)"', response.headers["Link"])
        )
    assert pager == {
        1: {"next": "/id/test/cible.ttl?page=2"},
        2: {"prev": "/id/test/cible.ttl?page=1", "next": "/id/test/cible.ttl?page=3"},
        3: {"prev": "/id/test/cible.ttl?page=2"},
    }
    assert fixture_client.get("/id/test/cible.ttl?page=4").status_code == 404
    # page 2 of the HTML (links 101 to 131) names the Turtle page that holds them: page 3
    html = fixture_client.get("/id/test/cible?page=2", headers={"Accept": CHROME})
    assert '</id/test/cible.ttl?page=3>; rel="alternate"; type="text/turtle"' in html.headers["Link"]


@pytest.mark.parametrize(
    ("accept", "kind"), [(CHROME, "html"), ("text/turtle", "turtle")], ids=["html", "turtle"]
)
def test_many_links_cost_no_more_queries(
    fixture_app: Flask, fixture_client: FlaskClient, accept: str, kind: str
) -> None:
    """131 incoming links (two HTML pages) or 5: the same number of queries."""
    spent = {
        path: queries_for(fixture_app, fixture_client, path, accept)
        for path in (
            "/id/test/escaping",
            "/id/test/cible",
            "/id/test/cible?page=2" if kind == "html" else "/id/test/cible",
        )
    }
    assert set(spent.values()) == {BUDGET[kind]}, spent


def test_a_page_shows_a_bounded_number_of_values(fixture_client: FlaskClient) -> None:
    """A resource with more values of a property than a page shows: the first VALUES_SHOWN, the count of the
    others, and a link to the editor with the query that lists them all; the RDF keeps every value."""
    html = fixture_client.get("/id/test/carrefour", headers={"Accept": CHROME}).get_data(as_text=True)
    page = Page(html)
    shown_things = sorted({link for link in page.links if link.startswith("/id/test/chose/")})
    assert shown_things == [f"/id/test/chose/{n:03d}" for n in range(1, VALUES_SHOWN + 1)]
    assert "10 autres valeurs de" in html
    editor = next(link for link in page.links if link.startswith("/sparql?query="))
    query = parse_qs(urlsplit(editor).query)["query"][0]
    answer = fixture_client.post(
        "/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    assert len(answer.get_json()["results"]["bindings"]) == VALUES_SHOWN + 10
    graph = parse(fixture_client.get("/id/test/carrefour.ttl").get_data(), "turtle")
    assert (
        len(list(graph.objects(rdflib.URIRef(BASE + "id/test/carrefour"), rdflib.DCTERMS.requires)))
        == VALUES_SHOWN + 10
    )


def _t(s: str, p: str, o: str) -> ox.Triple:
    """A triple from short names: `_:x` a blank node, `"…"` a literal, else an IRI under ex:."""

    def term(v: str) -> ox.NamedNode | ox.BlankNode | ox.Literal:
        if v.startswith("_:"):
            return ox.BlankNode(v[2:])
        if v.startswith('"'):
            return ox.Literal(v.strip('"'))
        return ox.NamedNode("http://ex.org/" + v)

    return ox.Triple(term(s), term(p), term(o))  # type: ignore[arg-type]


PASSAGES = [
    _t("r", "passage", "r1"), _t("r", "passage", "r2"), _t("r", "passage", "r3"),
    _t("r1", "selector", "_:s1"), _t("_:s1", "start", '"1"'),
    _t("r2", "selector", "_:s2"), _t("_:s2", "start", '"2"'),
    _t("r3", "selector", "_:s3"), _t("_:s3", "start", '"3"'),
]  # fmt: skip


@pytest.mark.parametrize(
    ("outgoing", "limit", "kept", "omitted"),
    [
        # two of three passages, with their selectors; the third and its selector leave
        (PASSAGES, 2, PASSAGES[:2] + PASSAGES[3:7], {"http://ex.org/passage": 1}),
        (PASSAGES, 3, PASSAGES, {}),
        # a value the kept ones reach too stays described
        ([*PASSAGES, _t("r1", "also", "r3")], 2, PASSAGES[:2] + PASSAGES[3:] + [_t("r1", "also", "r3")],
         {"http://ex.org/passage": 1}),
        # rdf:type is never cut (the page's kind depends on it)
        ([ox.Triple(ox.NamedNode("http://ex.org/r"), ox.NamedNode(RDF_TYPE), ox.NamedNode(f"http://ex.org/{c}")) for c in "ABC"],
         1, None, {}),
    ],
)  # fmt: skip
def test_shown_keeps_the_first_values_and_what_they_hold(
    outgoing: list[ox.Triple], limit: int, kept: list[ox.Triple] | None, omitted: dict[str, int]
) -> None:
    desc = Description(ox.NamedNode("http://ex.org/r"), tuple(outgoing), (), 0, 1, 100)
    result = shown(desc, limit)
    assert list(result.outgoing) == (outgoing if kept is None else kept)
    assert dict(result.omitted) == omitted
