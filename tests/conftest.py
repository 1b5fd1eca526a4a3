"""Shared fixtures: one build of the project's data per test session, the app, clients, a live server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from server.build.pipeline import build
from server.core.config import PROJECT_ROOT, Settings, load_settings
from server.engine.release import Release
from server.web.app import create_app

from .oxigraph_guide import run_oxigraph_by_the_guide
from .servers import ONE_CLIENT_AS_MANY, LiveServer, run_server
from .virtuoso import Place, run_virtuoso

ARTIFACTS = PROJECT_ROOT / "test-artifacts"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="run the long load and soak tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        marker = item.get_closest_marker("embedded_only")
        params = getattr(getattr(item, "callspec", None), "params", {})
        if marker is not None and params.get("app") in ENGINES:
            item.add_marker(pytest.mark.skip(reason="embedded engine only: " + marker.kwargs["reason"]))
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="long test: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A build folder holding one published build of the project's data."""
    path = tmp_path_factory.mktemp("build")
    build(load_settings({"build_dir": path}))
    return path


@pytest.fixture(scope="session")
def settings(build_dir: Path) -> Settings:
    # No result cache in the shared app: tests count the store queries a page costs and patch views between
    # requests; tests/test_result_cache.py turns it on in apps and servers of its own.
    # Nor each client's share (server/web/fair_share.py): the test client is one client (127.0.0.1) sending
    # every test's queries; tests/test_fair_share.py checks the shares in apps of its own.
    return load_settings({"build_dir": build_dir, "cache_bytes": 0, **ONE_CLIENT_AS_MANY})


@pytest.fixture(scope="session")
def release(settings: Settings) -> Release:
    from server.engine.release import current_release

    return current_release(settings.build_dir)


RECORDED_FIGURES = ("union_triples", "term_uses")  # what `cdv build` counts so that pages need no query


@pytest.fixture()
def unrecorded_release(release: Release, tmp_path: Path) -> Release:
    """The same build as a release made before `cdv build` recorded RECORDED_FIGURES (without its dumps)."""
    import json

    from server.engine.release import MANIFEST, read_release

    older = tmp_path / release.path.name
    shutil.copytree(release.path, older, ignore=shutil.ignore_patterns("dumps"))
    manifest = json.loads((older / MANIFEST).read_text("utf-8"))
    for key in RECORDED_FIGURES:
        del manifest[key]
    (older / MANIFEST).write_text(json.dumps(manifest), "utf-8")
    return read_release(older)


@pytest.fixture(scope="session")
def engine(release: Release, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Oxigraph server loaded and started by docs/deploy.md (union default graph): its query URL."""
    with run_oxigraph_by_the_guide(release, tmp_path_factory.mktemp("engine")) as url:
        yield url


@pytest.fixture(scope="session")
def virtuoso_place(release: Release, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Place]:
    """Debian's Virtuoso on loopback ports of its own, the build loaded by docs/deploy.md."""
    with run_virtuoso(release, tmp_path_factory.mktemp("virtuoso")) as place:
        yield place


@pytest.fixture(scope="session")
def virtuoso(virtuoso_place: Place) -> str:
    """The SPARQL URL of the test Virtuoso."""
    return virtuoso_place.endpoint


BACKENDS = ["embedded", "remote", "virtuoso"]
ENGINES = {"remote": "engine", "virtuoso": "virtuoso"}  # the backend → the fixture of its engine's URL


@pytest.fixture(scope="session", params=BACKENDS)
def app(request: pytest.FixtureRequest, settings: Settings) -> Flask:
    """The app over each backend: the embedded store, and the same build in Oxigraph server and Virtuoso."""
    if request.param in ENGINES:
        settings = replace(settings, endpoint=request.getfixturevalue(ENGINES[request.param]))
    application = create_app(settings)
    application.testing = True
    application.config["CDV_BACKEND"] = request.param  # for the few checks where an engine differs
    return application


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests leave files worth looking at (screenshots, logs)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def live_server(build_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real server process (gunicorn, 2 workers) on a free loopback port, shared by the session."""
    with run_server(build_dir, tmp_path_factory.mktemp("live"), ("--workers", "2")) as server:
        yield server
