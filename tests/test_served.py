"""The catalogue's answers the build writes for its root: written, served as written, computed elsewhere."""

from __future__ import annotations

import gzip
import shutil
from dataclasses import replace
from pathlib import Path

import brotli
import pytest
from flask import Flask
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT
from werkzeug.test import TestResponse

from server.build.pipeline import build
from server.core.config import Settings, load_settings
from server.engine.release import Release
from server.web.app import create_app
from server.web.prerender import write_served_files
from server.web.served import GZIP_SUFFIX, RESOURCES, ROOT, SERVED, build_root

from .rdf_parse import parse_graph

PUBLIC = "https://data.example.org/cdv/"
HTML = "text/html"
# (path, Accept, the file the build wrote for it)
ANSWERS = [
    ("/catalog", HTML, "catalog.html"),
    ("/catalog", "text/turtle", "catalog.turtle"),
    ("/catalog", "application/ld+json", "catalog.jsonld"),
    ("/catalog", "application/rdf+xml", "catalog.rdfxml"),
    ("/catalog", "application/n-triples", "catalog.ntriples"),
    ("/.well-known/void", "text/turtle", "void.turtle"),
    ("/.well-known/void", "application/ld+json", "void.jsonld"),
    ("/.well-known/void", "application/rdf+xml", "void.rdfxml"),
    ("/.well-known/void", "application/n-triples", "void.ntriples"),
    ("/shapes", "text/turtle", "shapes.turtle"),
    ("/shapes", "application/ld+json", "shapes.jsonld"),
    ("/sitemap.xml", "application/xml", "sitemap"),
    ("/sitemap.xml?page=1", "application/xml", "sitemap-1"),
]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Release]:
    """The project's data built as `cdv build` builds it, for a public URL."""
    cfg = load_settings(
        {"build_dir": tmp_path_factory.mktemp("served"), "public_url": PUBLIC, "cache_bytes": 0}
    )
    return cfg, build(cfg, finish=write_served_files)


@pytest.fixture()
def copied(published: tuple[Settings, Release], tmp_path: Path) -> tuple[Settings, Path]:
    """A copy of the published build (settings serving it, its release folder), free to change."""
    cfg, release = published
    copy = tmp_path / "build"
    (copy / "releases").mkdir(parents=True)
    folder = copy / "releases" / release.path.name
    shutil.copytree(release.path, folder)
    (copy / "current").symlink_to(Path("releases") / release.path.name)
    return replace(cfg, build_dir=copy), folder


def get(app: Flask, path: str, accept: str, base_url: str = PUBLIC) -> bytes:
    response = app.test_client().get(path, headers={"Accept": accept}, base_url=base_url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.data


@pytest.mark.parametrize(
    ("public_url", "base_iri", "root"),
    [
        (None, "https://w3id.org/cdv/", "https://w3id.org/cdv/"),
        ("https://data.example.org/cdv/", "https://w3id.org/cdv/", "https://data.example.org/cdv/"),
        ("https://data.example.org", "https://w3id.org/cdv/", "https://data.example.org/"),
    ],
)
def test_the_build_writes_for_the_public_url_else_the_public_base(
    settings: Settings, public_url: str | None, base_iri: str, root: str
) -> None:
    assert build_root(replace(settings, public_url=public_url, base_iri=base_iri)) == root


def test_a_build_writes_the_answers_and_the_resource_list(published: tuple[Settings, Release]) -> None:
    _, release = published
    folder = release.path / SERVED
    assert (folder / ROOT).read_text("utf-8") == PUBLIC
    for _path, _accept, key in ANSWERS:
        assert (folder / key).stat().st_size > 0, key
    resources = (folder / RESOURCES).read_text("utf-8").splitlines()
    assert "https://w3id.org/cdv/id/le-quesnoy/avenant-2020-2022/mesure/12" in resources
    assert resources == sorted(set(resources)) and not any("#" in iri for iri in resources)


@pytest.mark.parametrize(("path", "accept", "key"), ANSWERS, ids=[f"{p}-{k}" for p, _, k in ANSWERS])
def test_the_written_answer_is_served_and_is_what_the_server_computes(
    copied: tuple[Settings, Path], path: str, accept: str, key: str
) -> None:
    cfg, folder = copied
    written = (folder / SERVED / key).read_bytes()
    assert get(create_app(cfg), path, accept) == written
    # the file is what is served: changed, the answer changes
    (folder / SERVED / key).write_bytes(b"written by the build")
    assert get(create_app(cfg), path, accept) == b"written by the build"
    # without the folder (an older build): computed on the request, the bytes the build wrote
    shutil.rmtree(folder / SERVED)
    assert get(create_app(cfg), path, accept) == written


@pytest.mark.parametrize("key", sorted({key for _, _, key in ANSWERS}))
def test_each_gzip_copy_is_the_answer_compressed(published: tuple[Settings, Release], key: str) -> None:
    _, release = published
    plain = release.path / SERVED / key
    assert gzip.decompress(plain.with_name(key + GZIP_SUFFIX).read_bytes()) == plain.read_bytes()


def gzip_get(app: Flask, path: str, accept: str, headers: dict[str, str] | None = None) -> TestResponse:
    """A GET from a client taking gzip (the test client never decodes a body)."""
    all_headers = {"Accept": accept, "Accept-Encoding": "gzip, deflate, br", **(headers or {})}
    return app.test_client().get(path, headers=all_headers, base_url=PUBLIC)


@pytest.mark.parametrize(("path", "accept", "key"), ANSWERS, ids=[f"{p}-{k}" for p, _, k in ANSWERS])
def test_a_gzip_client_gets_the_copy_as_written_with_its_own_etag(
    published: tuple[Settings, Release], path: str, accept: str, key: str
) -> None:
    cfg, release = published
    app = create_app(cfg)
    response = gzip_get(app, path, accept)
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.data == (release.path / SERVED / (key + GZIP_SUFFIX)).read_bytes()  # not compressed again
    assert response.headers["Content-Length"] == str(len(response.data))
    assert "accept-encoding" in response.headers["Vary"].lower()
    plain = app.test_client().get(path, headers={"Accept": accept}, base_url=PUBLIC)
    assert "Content-Encoding" not in plain.headers
    assert response.headers["ETag"] == plain.headers["ETag"].removesuffix('"') + ':gzip"'
    # each variant's validator answers 304 for that variant only
    for etag, variant, status in [
        (response.headers["ETag"], {"Accept-Encoding": "gzip, deflate, br"}, 304),
        (plain.headers["ETag"], {"Accept-Encoding": "identity"}, 304),
        (response.headers["ETag"], {"Accept-Encoding": "identity"}, 200),
        (plain.headers["ETag"], {"Accept-Encoding": "gzip, deflate, br"}, 200),
    ]:
        headers = {"Accept": accept, "If-None-Match": etag, **variant}
        again = app.test_client().get(path, headers=headers, base_url=PUBLIC)
        assert again.status_code == status, (etag, variant)


# (Accept-Encoding, the coding answered: the copy for gzip, Flask-Compress on the request for br, else none)
CODINGS = [
    ("gzip", "gzip"),
    ("gzip, deflate, br, zstd", "gzip"),  # browsers: equal q, the server's first choice
    ("*", "gzip"),
    ("identity;q=0, gzip", "gzip"),
    ("br;q=0.5, gzip", "gzip"),
    ("gzip;q=0.5, br", "br"),
    ("gzip;q=0.5, identity", None),
    ("deflate", None),
    ("", None),
]


@pytest.mark.parametrize(("accept_encoding", "coding"), CODINGS)
def test_the_coding_follows_the_q_values(
    published: tuple[Settings, Release], accept_encoding: str, coding: str | None
) -> None:
    cfg, release = published
    plain = (release.path / SERVED / "catalog.turtle").read_bytes()
    headers = {"Accept": "text/turtle", "Accept-Encoding": accept_encoding}
    response = create_app(cfg).test_client().get("/catalog", headers=headers, base_url=PUBLIC)
    assert response.headers.get("Content-Encoding") == coding
    assert DECODE[coding](response.data) == plain


DECODE = {"gzip": gzip.decompress, "br": brotli.decompress, None: lambda body: body}


def test_a_release_without_copies_is_compressed_on_the_request(copied: tuple[Settings, Path]) -> None:
    cfg, folder = copied
    app = create_app(cfg)
    from_copy = gzip_get(app, "/catalog", "application/ld+json")
    for twin in (folder / SERVED).glob("*" + GZIP_SUFFIX):
        twin.unlink()
    on_request = gzip_get(app, "/catalog", "application/ld+json")
    assert on_request.headers["Content-Encoding"] == "gzip"
    assert on_request.data != from_copy.data  # Flask-Compress's own, not the copy
    assert gzip.decompress(on_request.data) == gzip.decompress(from_copy.data)
    assert on_request.headers["ETag"] == from_copy.headers["ETag"]  # one variant, however it was compressed


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_range_on_the_copy_gets_the_whole_copy(published: tuple[Settings, Release], method: str) -> None:
    cfg, release = published
    headers = {"Accept": "text/turtle", "Accept-Encoding": "gzip", "Range": "bytes=0-9"}
    response = create_app(cfg).test_client().open("/catalog", method=method, headers=headers, base_url=PUBLIC)
    whole = (release.path / SERVED / ("catalog.turtle" + GZIP_SUFFIX)).read_bytes()
    assert response.status_code == 200 and "Content-Range" not in response.headers
    assert response.headers["Content-Length"] == str(len(whole))
    assert response.data == (whole if method == "GET" else b"")


def test_a_request_on_another_root_gets_its_own_links(published: tuple[Settings, Release]) -> None:
    cfg, _ = published
    app = create_app(replace(cfg, public_url=None))
    for base_url in ("http://localhost/", PUBLIC):  # another host; the written root, but not the setting
        graph = parse_graph(get(app, "/catalog", "text/turtle", base_url), "text/turtle")
        downloads = {str(u) for u in graph.objects(None, DCAT.downloadURL)}
        assert downloads and all(u.startswith(base_url + "dumps/") for u in downloads), base_url
        page = get(app, "/catalog", HTML, base_url).decode("utf-8")
        assert f'href="{base_url}dumps/cdv-graph.nq.gz"' in page
        sitemap = get(app, "/sitemap.xml", "application/xml", base_url).decode("utf-8")
        assert f"<loc>{base_url}id/le-quesnoy/avenant-2020-2022/mesure/12</loc>" in sitemap


def test_the_catalogue_as_written_is_one_graph_in_every_format(published: tuple[Settings, Release]) -> None:
    _, release = published
    folder = release.path / SERVED
    graphs = [
        parse_graph((folder / key).read_bytes(), accept)
        for path, accept, key in ANSWERS
        if path == "/catalog" and accept != HTML
    ]
    assert all(isomorphic(graphs[0], g) for g in graphs[1:])
