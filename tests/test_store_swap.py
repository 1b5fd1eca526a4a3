"""Publishing a new build under a running server: every answer names its build (X-Cdv-Build), the workers
reload by themselves, no client sees a failed request or an answer mixing two builds, and a release a
running process still reads is never pruned."""

from __future__ import annotations

import contextlib
import json
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from flask.testing import FlaskClient

from server.build.pipeline import build
from server.core.config import PROJECT_ROOT, load_settings
from server.engine.release import (
    RELEASES,
    Release,
    current_release,
    hold,
    in_use,
    prune,
    publish,
    read_release,
)
from server.web.app import create_app
from server.web.serve import published_target
from server.web.system import BUILD_HEADER

from .documents import copy_document
from .load import COUNT_MEASURES, DOC, Call, LoadReport, count_of, descendants, is_query_process, run_load
from .load import workers as server_workers
from .servers import run_server

SWAP_CLIENTS = 6

# --- X-Cdv-Build ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/health", {}, 200),
        ("/sparql?query=ASK%7B%7D", {"Accept": "application/sparql-results+json"}, 200),
        ("/sparql?query=SELEKT", {}, 400),
        ("/id/le-quesnoy/avenant-2020-2022", {"Accept": "text/turtle"}, 200),
        ("/id/nothing/here", {"Accept": "text/html"}, 404),
        ("/api/queries/signatories", {}, 200),
        ("/catalog", {}, 200),
        ("/", {}, 200),
    ],
)
def test_every_answer_names_its_build(
    client: FlaskClient, release: Release, path: str, headers: dict[str, str], status: int
) -> None:
    response = client.get(path, headers=headers)
    assert response.status_code == status
    assert response.headers[BUILD_HEADER] == release.build_id


def test_browsers_may_read_the_build_header(client: FlaskClient) -> None:
    response = client.get("/health", headers={"Origin": "https://example.org"})
    assert BUILD_HEADER.lower() in response.headers["Access-Control-Expose-Headers"].lower()


def test_no_build_header_before_anything_is_published(tmp_path: Path) -> None:
    response = create_app({"build_dir": tmp_path / "empty"}).test_client().get("/health")
    assert response.status_code == 503
    assert BUILD_HEADER not in response.headers


# --- prune keeps what a process still reads --------------------------------------------------------------


def _fake_releases(build_dir: Path, count: int) -> list[Path]:
    paths = []
    for number in range(count):
        path = build_dir / "releases" / f"2026010{number}T000000000000Z-{number:010d}"
        path.mkdir(parents=True)
        (path / "manifest.json").write_text(json.dumps({"build_id": path.name}))
        paths.append(path)
    return paths


def test_prune_keeps_a_release_a_process_holds(tmp_path: Path) -> None:
    oldest, second, *_, newest = _fake_releases(tmp_path, 5)
    (tmp_path / "current").symlink_to(newest.relative_to(tmp_path))
    fd = hold(read_release(oldest))
    try:
        assert in_use(oldest) and not in_use(second)
        prune(tmp_path, keep=1)
        assert oldest.is_dir() and newest.is_dir()
        assert sorted(p.name for p in (tmp_path / "releases").iterdir()) == [oldest.name, newest.name]
    finally:
        import os

        os.close(fd)  # as when the process that held it exits
    assert not in_use(oldest)
    prune(tmp_path, keep=1)
    assert [p.name for p in (tmp_path / "releases").iterdir()] == [newest.name]


def test_published_target_is_the_complete_current_release(tmp_path: Path) -> None:
    assert published_target(tmp_path) is None
    (release,) = _fake_releases(tmp_path, 1)
    (tmp_path / "current").symlink_to(release.relative_to(tmp_path))
    assert published_target(tmp_path) == release.resolve()
    (release / "manifest.json").unlink()
    assert published_target(tmp_path) is None


# --- the swap under load ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data_b(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's data plus a copy of the Le Quesnoy document as another territory (its own IRIs)."""
    root = tmp_path_factory.mktemp("data-b")
    shutil.copytree(PROJECT_ROOT / "data", root / "data")
    for document in (PROJECT_ROOT / "data" / "le-quesnoy").iterdir():
        copy_document(document, root / "data" / "le-quesnoy-bis" / document.name, "le-quesnoy-bis")
    return root / "data"


@pytest.fixture(scope="module")
def built_b(data_b: Path, tmp_path_factory: pytest.TempPathFactory) -> Release:
    """Build B, built beforehand in a folder of its own: the test publishes it mid-run the way `cdv build`
    ends (the release folder renamed into the served build folder, then `current` swapped, then prune)."""
    return build(load_settings({"build_dir": tmp_path_factory.mktemp("build-b")}), data_dirs=[data_b])


def measures_in(release: Release) -> int:
    """The answer to COUNT_MEASURES, read from the release's store directly (not through the server)."""
    store = ox.Store.read_only(str(release.store_path))
    solutions = store.query(COUNT_MEASURES, use_default_graph_as_union=True)
    return int(next(iter(solutions))["n"].value)


def swap_mix() -> list[Call]:
    json_results = {"Accept": "application/sparql-results+json"}
    return [
        Call(
            "sparql-count-get",
            "GET",
            "/sparql",
            {"query": COUNT_MEASURES},
            headers=json_results,
            check=count_of,
        ),
        Call(
            "sparql-count-post",
            "POST",
            "/sparql",
            data={"query": COUNT_MEASURES},
            headers=json_results,
            check=count_of,
        ),
        Call("page", "GET", "/id/le-quesnoy/avenant-2020-2022/mesure/12", headers={"Accept": "text/html"}),
        Call(
            "api-query",
            "GET",
            "/api/queries/signatories",
            {"avenant": DOC},
            headers={"Accept": "application/json"},
        ),
    ]


def _wait_for(condition: Callable[[], bool], timeout: float) -> float:
    """The time `condition` first holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return time.monotonic()
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s")


def _wait_for_build(url: str, build_id: str, timeout: float) -> float:
    """The time /health first answers from `build_id`."""
    deadline = time.monotonic() + timeout
    with requests.Session() as session:
        while time.monotonic() < deadline:
            try:
                if session.get(url + "/health", timeout=5).json().get("build") == build_id:
                    return time.monotonic()
            except requests.RequestException:
                pass
            time.sleep(0.1)
    raise AssertionError(f"the server did not serve build {build_id} within {timeout} s")


def _query_stores(master: int) -> list[Path]:
    """The store each query process of server `master` has open (the last but one argument of its command)."""
    stores = []
    for pid in descendants(master):
        if is_query_process(pid):
            with contextlib.suppress(OSError, IndexError):
                stores.append(Path(Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[-3].decode()))
    return sorted(stores)


@pytest.mark.live
def test_clients_see_no_failure_and_no_mixed_answer_through_a_swap(
    build_dir: Path, built_b: Release, tmp_path: Path, artifacts_dir: Path
) -> None:
    own = tmp_path / "build"
    shutil.copytree(build_dir, own, symlinks=True)
    release_a = current_release(own)
    with run_server(own, tmp_path, ("--workers", "2")) as server:
        old_workers = set(server_workers(server.process.pid))
        stop = threading.Event()
        reports: list[LoadReport] = []
        load = threading.Thread(
            target=lambda: reports.append(run_load(server.url, swap_mix(), SWAP_CLIENTS, 120, stop=stop))
        )
        load.start()
        idle = requests.Session()  # a kept-alive connection to an old worker, idle through the swap
        try:
            time.sleep(3)  # answers from A first
            assert idle.get(server.url + "/health", timeout=30).headers[BUILD_HEADER] == release_a.build_id
            built_b.path.rename(own / RELEASES / built_b.path.name)  # in whole, as `cdv build` does
            release_b = read_release(own / RELEASES / built_b.path.name)
            publish(own, release_b.path)
            published = time.monotonic()
            prune(own)
            switched = _wait_for_build(server.url, release_b.build_id, 60)
            after_swap = idle.get(server.url + "/health", timeout=30)  # idle for longer than keep-alive
            old_gone = _wait_for(lambda: not old_workers & set(server_workers(server.process.pid)), 60)
            # the old build's query pool stops after its workers: only B's processes remain, as many as before
            pools_swapped = _wait_for(
                lambda: _query_stores(server.process.pid) == [(release_b.path / "store").resolve()] * 2, 30
            )
            time.sleep(3)  # answers from B only
            late_idle = idle.get(server.url + "/health", timeout=30)
        finally:
            stop.set()
            load.join(120)
            idle.close()
        log = server.log()
    (report,) = reports
    expected = {release_a.build_id: measures_in(release_a), release_b.build_id: measures_in(release_b)}
    text = report.text("store swap") + (
        f"\n  answers of A with Connection: close: "
        f"{sum(1 for s in report.samples if s.closed and s.build == release_a.build_id)}"
        f"\n  publish -> /health on B: {switched - published:.2f} s, old workers gone: {old_gone - published:.2f} s; "
        f"answers per build: { {b: sum(1 for s in report.samples if s.build == b) for b in expected} }"
    )
    print("\n" + text)
    (artifacts_dir / "store-swap.txt").write_text(text + "\n", "utf-8")

    assert pools_swapped >= old_gone
    assert expected[release_a.build_id] != expected[release_b.build_id]  # else mixing could not be seen
    assert report.errors() == [], text
    assert {s.build for s in report.samples} == set(expected), "every answer names build A or B"
    counts = [s for s in report.samples if s.value is not None]
    assert counts and all(s.value == expected[s.build] for s in counts), "an answer from another build"
    late = [s for s in report.samples if s.started > old_gone]
    assert late and {s.build for s in late} == {release_b.build_id}
    assert sum(1 for s in report.samples if s.build == release_a.build_id) > 0
    assert "new build published" in log and "Traceback" not in log
    assert after_swap.status_code == 200 and after_swap.headers[BUILD_HEADER] in expected
    # Stopping old workers answered the requests that came on their kept-alive connections, then closed them.
    assert any(s.closed for s in report.samples if s.build == release_a.build_id)
    assert late_idle.status_code == 200 and late_idle.headers[BUILD_HEADER] == release_b.build_id
    assert release_a.path.is_dir(), "the release the old workers read is kept"
