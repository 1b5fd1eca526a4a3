"""HTTP caching app-wide: ETag and Last-Modified from the build, 304s, gzip, the home page's Link header."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from flask import Flask, Response, stream_with_context
from flask.testing import FlaskClient
from werkzeug.test import EnvironBuilder, TestResponse
from werkzeug.wrappers import Request

from server.build.pipeline import build
from server.core.config import load_settings
from server.engine.release import Release
from server.web.app import create_app
from server.web.http_cache import etag_for, exempt, validators, varies_in_time, without_refused_codings

FIXTURE_PROJECT = Path(__file__).parent / "fixtures" / "catalog" / "project"


def get(client: FlaskClient, url: str, **headers: str) -> TestResponse:
    """GET, read the body and close the response (file downloads hold their file open until then)."""
    with client.get(url, headers={k.replace("_", "-"): v for k, v in headers.items()}) as response:
        response.get_data()
    return response


def a_dump(release: Release, compressed: bool = False) -> str:
    return next(n for n, e in release.manifest["dumps"].items() if e["compressed"] == compressed)


def a_resource_page(release: Release) -> str:
    """A resource of the data: the avenant's page (found from the catalogue, not hard-coded)."""
    import rdflib
    from rdflib.namespace import DCAT

    catalog = rdflib.Graph().parse(release.path / "metadata" / "catalog.nt", format="nt")
    page = next(str(p) for p in catalog.objects(None, DCAT.landingPage) if "/id/" in str(p))
    return "/" + page.split("/cdv/", 1)[1]


@pytest.fixture(scope="module")
def urls(release: Release) -> list[tuple[str, str]]:
    return [
        ("/catalog", "text/turtle"),
        ("/catalog", "text/html"),
        ("/catalog", "application/ld+json"),
        ("/.well-known/void", "text/turtle"),
        ("/sitemap.xml", "*/*"),
        ("/robots.txt", "*/*"),
        ("/dumps/" + a_dump(release), "*/*"),
        ("/dumps/" + a_dump(release, compressed=True), "*/*"),
        ("/", "text/html"),
        (a_resource_page(release), "text/html"),
        (a_resource_page(release), "text/turtle"),
    ]


def test_every_response_carries_validators(client: FlaskClient, urls: list[tuple[str, str]]) -> None:
    for url, accept in urls:
        response = get(client, url, Accept=accept)
        assert response.status_code == 200, url
        assert response.headers.get("ETag"), url
        assert response.headers.get("Last-Modified"), url
        assert "no-cache" in response.headers.get("Cache-Control", ""), url


def test_if_none_match_gets_304_without_a_body(client: FlaskClient, urls: list[tuple[str, str]]) -> None:
    for url, accept in urls:
        first = get(client, url, Accept=accept)
        again = get(client, url, Accept=accept, If_None_Match=first.headers["ETag"])
        assert again.status_code == 304, url
        assert again.data == b"", url
        assert again.headers["ETag"] == first.headers["ETag"], url
        other = get(client, url, Accept=accept, If_None_Match='"something-else"')
        assert other.status_code == 200, url


def test_if_modified_since_gets_304(client: FlaskClient, urls: list[tuple[str, str]]) -> None:
    for url, accept in urls:
        first = get(client, url, Accept=accept)
        again = get(client, url, Accept=accept, If_Modified_Since=first.headers["Last-Modified"])
        assert again.status_code == 304, url
        older = get(client, url, Accept=accept, If_Modified_Since="Mon, 01 Jan 2001 00:00:00 GMT")
        assert older.status_code == 200, url


def test_head_answers_the_same_validators(client: FlaskClient) -> None:
    get = client.get("/catalog")
    head = client.head("/catalog")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["ETag"] == get.headers["ETag"]


def test_each_variant_has_its_own_etag(client: FlaskClient) -> None:
    tags = {
        client.get("/catalog", headers={"Accept": a}).headers["ETag"] for a in ("text/turtle", "text/html")
    }
    tags.add(client.get("/catalog?format=jsonld").headers["ETag"])
    assert len(tags) == 3


def test_text_is_gzipped_for_clients_that_accept_it(client: FlaskClient) -> None:
    plain = client.get("/catalog", headers={"Accept": "text/turtle"})
    zipped = client.get("/catalog", headers={"Accept": "text/turtle", "Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == plain.data
    assert len(zipped.data) < len(plain.data)
    assert zipped.headers["ETag"] != plain.headers["ETag"]  # another representation, another strong tag
    again = client.get(
        "/catalog",
        headers={"Accept": "text/turtle", "Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]},
    )
    assert again.status_code == 304


def test_uncompressed_dumps_come_gzipped_from_their_twin(client: FlaskClient, release: Release) -> None:
    name = a_dump(release)
    plain = get(client, "/dumps/" + name)
    zipped = get(client, "/dumps/" + name, Accept_Encoding="gzip")
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data == (release.dumps_path / name).read_bytes()
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    assert plain.headers["Content-Type"].startswith(zipped.headers["Content-Type"].split(";")[0])


def test_gz_dumps_are_files_not_encodings(client: FlaskClient, release: Release) -> None:
    name = a_dump(release, compressed=True)
    response = get(client, "/dumps/" + name, Accept_Encoding="gzip")
    assert response.mimetype == "application/gzip"
    assert "Content-Encoding" not in response.headers
    assert response.data == (release.dumps_path / name).read_bytes()


def test_dumps_answer_range_requests(client: FlaskClient, release: Release) -> None:
    name = a_dump(release)
    response = get(client, "/dumps/" + name, Range="bytes=0-9")
    assert response.status_code == 206
    assert response.data == (release.dumps_path / name).read_bytes()[:10]


def test_the_home_page_links_to_the_catalogue_and_void(client: FlaskClient) -> None:
    response = client.get("/", headers={"Accept": "text/html"})
    links = ", ".join(response.headers.getlist("Link"))
    assert '</catalog>; rel="describedby"' in links
    assert '</.well-known/void>; rel="describedby"' in links
    assert 'href="/catalog"' in response.get_data(as_text=True)


def test_other_pages_do_not_claim_the_catalogue_describes_them(client: FlaskClient) -> None:
    links = ", ".join(client.get("/catalog").headers.getlist("Link"))
    assert "describedby" not in links


def test_a_new_build_gets_new_validators(tmp_path: Path) -> None:
    """Same data, another build: another build id, so another ETag; the old tag no longer matches."""
    settings = load_settings({"project_root": FIXTURE_PROJECT, "build_dir": tmp_path})
    build(settings)
    first = create_app(settings).test_client().get("/catalog")
    build(settings)
    second_client = create_app(settings).test_client()
    second = second_client.get("/catalog")
    assert first.headers["ETag"] != second.headers["ETag"]
    stale = second_client.get("/catalog", headers={"If-None-Match": first.headers["ETag"]})
    assert stale.status_code == 200


@pytest.mark.parametrize(
    ("mimetype", "depends_on_assets"),
    [("text/html", True), ("application/sparql-results+json", False), ("text/turtle", False)],
)
def test_only_a_page_names_the_front_end_assets_in_its_etag(
    tmp_path: Path, mimetype: str, depends_on_assets: bool
) -> None:
    """A page rendered with a front-end package differs from its plain fallback; no other answer does."""
    etags = []
    for installed in (True, False):
        root = tmp_path / str(installed)
        root.mkdir()
        (root / "package.json").write_text('{"dependencies": {"editor": "1.0.0"}}', "utf-8")
        if installed:
            (root / "node_modules" / "editor").mkdir(parents=True)
            (root / "node_modules" / "editor" / "package.json").write_text('{"version": "1.0.0"}', "utf-8")
        response = Response(b"answer", mimetype=mimetype)
        request = Request(EnvironBuilder(path="/sparql", query_string="query=ASK%7B%7D").get_environ())
        assert validators(response, request, "20260101T000000000000Z-abc", root)
        assert response.headers["Last-Modified"] == "Thu, 01 Jan 2026 00:00:00 GMT"
        assert response.headers["Cache-Control"] == "public, no-cache"
        etags.append(response.get_etag()[0])
    assert (etags[0] != etags[1]) is depends_on_assets


@pytest.fixture()
def probe_app(settings: object) -> Flask:
    """The real app plus routes that must not get validators: POST, streamed, exempt, errors."""
    app = create_app(settings)  # type: ignore[arg-type]

    @app.post("/_probe/post")
    def post() -> str:
        return "posted"

    @app.get("/_probe/stream")
    def stream() -> Response:
        return Response(stream_with_context(iter(["a", "b"])), mimetype="text/plain")

    @app.get("/_probe/exempt")
    @exempt
    def now() -> str:
        return "varies in time"

    return app


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/_probe/post"),
        ("GET", "/_probe/stream"),
        ("GET", "/_probe/exempt"),
        ("GET", "/dumps/none.ttl"),
    ],
)
def test_no_validators_where_they_would_lie(probe_app: Flask, method: str, path: str) -> None:
    response = probe_app.test_client().open(path, method=method)
    assert "ETag" not in response.headers


def test_etag_depends_on_build_path_query_and_variant() -> None:
    base = etag_for("b1", "/catalog", b"", "text/turtle")
    assert base == etag_for("b1", "/catalog", "", "text/turtle")
    assert (
        len(
            {
                base,
                *(
                    etag_for(*args)
                    for args in [
                        ("b2", "/catalog", b"", "text/turtle"),
                        ("b1", "/void", b"", "text/turtle"),
                        ("b1", "/catalog", b"format=jsonld", "text/turtle"),
                        ("b1", "/catalog", b"", "text/html"),
                    ]
                ),
            }
        )
        == 5
    )


@pytest.mark.parametrize(
    ("query", "varies"),
    [
        ("SELECT ?s WHERE { ?s ?p ?o }", False),
        ("SELECT (NOW() AS ?n) {}", True),
        ("select (now () as ?n) {}", True),
        ("SELECT (rand() AS ?r) {}", True),
        ("SELECT (STRUUID() AS ?u) {}", True),
        ("SELECT (Bnode() AS ?b) {}", True),
        ("SELECT * { SERVICE <http://x/> { ?s ?p ?o } }", True),
        ('SELECT ?s { ?s ?p "grand" }', False),  # the word, not the function
        ('SELECT ?s { ?s ?p "now" . ?s ?q "service public" }', True),  # SERVICE as a word: taken as varying
        ("CONSTRUCT { _:b <p> ?o } WHERE { ?s <p> ?o }", True),
        ("construct { [] <p> ?o } where { ?s <p> ?o }", True),
        ("CONSTRUCT { ?s <p> ?o } WHERE { ?s <p> ?o }", False),
        ("ASK { ?s ?p [] }", False),
    ],
)
def test_varies_in_time(query: str, varies: bool) -> None:
    assert varies_in_time(query) is varies


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", "gzip"),
        ("gzip, br;q=0.5", "gzip, br;q=0.5"),  # nothing refused: the header as it came
        ("gzip;q=0", ""),
        ("gzip;q=0.0, br", "br"),
        ("GZIP;Q=0, deflate;q=0.5", "deflate;q=0.5"),
        ("gzip, *;q=0", "gzip"),
        ("br;q=0, gzip;q=0", ""),
        ("gzip;q=0.001", "gzip;q=0.001"),
    ],
)
def test_refused_codings_are_dropped(header: str, expected: str) -> None:
    assert without_refused_codings(header) == expected


@pytest.mark.parametrize(
    ("accept_encoding", "coding"),
    [("gzip", "gzip"), ("gzip;q=0", None), ("gzip;q=0, br", "br"), ("br;q=0, gzip;q=0", None)],
)
def test_a_refused_coding_is_never_sent(
    client: FlaskClient, accept_encoding: str, coding: str | None
) -> None:
    """RFC 9110 §12.5.3: `;q=0` means "not acceptable" (Flask-Compress alone sent gzip for `gzip;q=0`)."""
    response = get(client, "/ontology", Accept="text/turtle", Accept_Encoding=accept_encoding)
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == coding
