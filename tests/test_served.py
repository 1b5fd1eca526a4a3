"""The catalogue's answers the build writes for its root: written, served as written, computed elsewhere."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT

from server.build.pipeline import build
from server.core.config import Settings, load_settings
from server.engine.release import Release
from server.web.app import create_app
from server.web.prerender import write_served_files
from server.web.served import RESOURCES, ROOT, SERVED, build_root

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
    published: tuple[Settings, Release], tmp_path: Path, path: str, accept: str, key: str
) -> None:
    cfg, release = published
    copy = tmp_path / "build"
    (copy / "releases").mkdir(parents=True)
    folder = copy / "releases" / release.path.name
    shutil.copytree(release.path, folder)
    (copy / "current").symlink_to(Path("releases") / release.path.name)
    written = (folder / SERVED / key).read_bytes()
    assert get(create_app(replace(cfg, build_dir=copy)), path, accept) == written
    # the file is what is served: changed, the answer changes
    (folder / SERVED / key).write_bytes(b"written by the build")
    assert get(create_app(replace(cfg, build_dir=copy)), path, accept) == b"written by the build"
    # without the folder (an older build): computed on the request, the bytes the build wrote
    shutil.rmtree(folder / SERVED)
    assert get(create_app(replace(cfg, build_dir=copy)), path, accept) == written


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
