"""The real server under load, with a worker killed, and over a soak: no errors, recovery without help,
bounded memory. Short runs in the suite; the long ones (60 s load, 5 min soak) with --run-slow. Figures are
printed (pytest -s) and written to test-artifacts/; latency is reported, never asserted (shared machine)."""

from __future__ import annotations

import os
import signal
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from server.web.app import create_app

from .load import (
    LoadReport,
    descendants,
    established_connections,
    run_load,
    standard_mix,
    tree_rss,
    write_figures,
)
from .load import (
    workers as server_workers,
)
from .servers import LiveServer, process_group, run_server

pytestmark = pytest.mark.live

CLIENTS = 32
WORKERS = 2
THREADS = 8  # per worker: the most requests one worker runs at a time


@pytest.fixture(scope="module")
def load_server(build_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of its own (2 workers), so the load does not slow other tests' server."""
    args = ("--workers", str(WORKERS), "--threads", str(THREADS))
    with run_server(build_dir, tmp_path_factory.mktemp("load"), args) as server:
        yield server


@pytest.fixture(scope="module")
def routes(build_dir: Path) -> set[str]:
    """The URL rules of the app: /search joins the mix once the app has it."""
    return {rule.rule for rule in create_app({"build_dir": build_dir}).url_map.iter_rules()}


def _report(report: LoadReport, title: str, artifacts_dir: Path, name: str, **extra: Any) -> str:
    text = report.text(title)
    for key, value in extra.items():
        text += f"\n  {key}: {value}"
    print("\n" + text)
    write_figures(artifacts_dir / f"{name}.json", {**report.figures(), **extra})
    return text


def _healthy(url: str) -> bool:
    try:
        return requests.get(url + "/health", timeout=10).status_code == 200
    except requests.RequestException:
        return False


# --- load ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "name"),
    [
        pytest.param(10, "load-short", id="10s"),
        pytest.param(60, "load-long", id="60s", marks=pytest.mark.slow),
    ],
)
def test_load_without_errors(
    load_server: LiveServer, routes: set[str], artifacts_dir: Path, seconds: int, name: str
) -> None:
    mix = standard_mix(routes)
    report = run_load(load_server.url, mix, CLIENTS, seconds)
    text = _report(
        report, f"load {seconds} s x {CLIENTS} clients", artifacts_dir, name, calls=[c.name for c in mix]
    )
    assert report.errors() == [], text
    assert {s.call for s in report.samples} == {c.name for c in mix}, "every kind of call was sent"
    assert load_server.process.poll() is None and _healthy(load_server.url)
    assert "Traceback" not in load_server.log()


# --- a worker killed mid-load ----------------------------------------------------------------------------


def _wait(condition: Any, timeout: float, what: str) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return time.monotonic()
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout} s")


def test_a_killed_worker_fails_only_its_in_flight_requests(
    build_dir: Path, routes: set[str], tmp_path: Path, artifacts_dir: Path
) -> None:
    args = ("--workers", str(WORKERS), "--threads", str(THREADS))
    with run_server(build_dir, tmp_path, args) as server:
        master = server.process.pid
        workers = server_workers(master)
        assert len(workers) == WORKERS
        stop = threading.Event()
        reports: list[LoadReport] = []
        load = threading.Thread(
            target=lambda: reports.append(run_load(server.url, standard_mix(routes), CLIENTS, 120, stop=stop))
        )
        load.start()
        try:
            time.sleep(3)
            victim = workers[0]
            os.kill(victim, signal.SIGSTOP)  # frozen: it takes no more connections while they are counted
            held = established_connections(victim, int(server.url.rsplit(":", 1)[1]))
            killed = time.monotonic()
            os.kill(victim, signal.SIGKILL)
            respawned = _wait(
                lambda: victim not in server_workers(master) and len(server_workers(master)) == WORKERS,
                30,
                "the master starts a new worker",
            )
            time.sleep(6)  # load on the new worker too
        finally:
            # no orphan left in the server's group (the query pool is the master's: the killed worker had none)
            load.join(120)
        # the killed worker's query children and fork server go too: no orphan left in the server's group
        _wait(
            lambda: process_group(master) == {master, *descendants(master)}, 20, "no orphaned query process"
        )
        assert server.process.poll() is None and _healthy(server.url)
        log = server.log()
    (report,) = reports
    failed = report.errors()
    text = _report(
        report,
        f"worker killed under load ({CLIENTS} clients)",
        artifacts_dir,
        "worker-kill",
        failed=len(failed),
        connections_of_killed_worker=held,
        failed_started_after_kill_signal=sum(1 for s in failed if s.started > killed),
        respawn_s=round(respawned - killed, 2),
        failures=sorted({(s.call, s.error or "") for s in failed})[:10],
    )
    # Only requests in flight in the killed worker fail: at most one per connection it held. Not bounded by its
    # threads: a gthread worker accepts more connections than it has threads and queues their requests.
    assert len(failed) <= held, text
    assert all(s.status is None for s in failed), "failures are cut connections, never an error status"
    after = [s for s in report.samples if s.started > respawned]
    assert after and all(s.error is None for s in after), "every request sent after the respawn succeeds"
    assert f"Worker (pid:{victim}) was sent SIGKILL" in log


# --- soak: memory over time ------------------------------------------------------------------------------


def _soak(
    server: LiveServer, routes: set[str], seconds: int, clients: int
) -> tuple[LoadReport, list[tuple[float, dict[str, int]]]]:
    """Steady load for `seconds`, the process tree's RSS sampled every second."""
    rss: list[tuple[float, dict[str, int]]] = []
    done = threading.Event()

    def sample() -> None:
        began = time.monotonic()
        while not done.wait(1.0):
            rss.append((time.monotonic() - began, tree_rss(server.process.pid)))

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        report = run_load(server.url, standard_mix(routes), clients, seconds)
    finally:
        done.set()
        sampler.join()
    return report, rss


def _total(sample: dict[str, int]) -> int:
    return sample["master"] + sample["workers"] + sample["query_processes"]


def rss_growth(rss: list[tuple[float, dict[str, int]]]) -> dict[str, Any]:
    """Median total RSS (MiB) over the second tenth of the samples (warmed up) and over their last tenth."""
    tenth = max(len(rss) // 10, 1)
    warm = [_total(s) for _, s in rss[tenth : 2 * tenth]]
    last = [_total(s) for _, s in rss[-tenth:]]
    start, end = statistics.median(warm) / 1024, statistics.median(last) / 1024
    return {
        "rss_warm_mib": round(start, 1),
        "rss_end_mib": round(end, 1),
        "growth_mib": round(end - start, 1),
        "growth_pct": round((end - start) / start * 100, 1),
        "rss_end_by_kind_mib": {k: round(v / 1024, 1) for k, v in rss[-1][1].items() if k != "processes"},
        "processes": rss[-1][1]["processes"],
    }


SOAK_BOUND = (1.5, 64)  # a soak's end RSS may be at most 1.5x the warmed-up RSS + 64 MiB


@pytest.mark.parametrize(
    ("seconds", "name"),
    [
        pytest.param(30, "soak-short", id="30s"),
        pytest.param(300, "soak-long", id="5min", marks=[pytest.mark.slow, pytest.mark.timeout(600)]),
    ],
)
def test_soak_memory(
    build_dir: Path, routes: set[str], tmp_path: Path, artifacts_dir: Path, seconds: int, name: str
) -> None:
    args = ("--workers", str(WORKERS), "--threads", str(THREADS))
    with run_server(build_dir, tmp_path, args) as server:
        report, rss = _soak(server, routes, seconds, 16)
        assert server.process.poll() is None and _healthy(server.url)
    assert len(rss) >= 10, "RSS sampled at least 10 times"
    growth = rss_growth(rss)
    text = _report(report, f"soak {seconds} s x 16 clients", artifacts_dir, name, **growth)
    assert report.errors() == [], text
    factor, slack = SOAK_BOUND  # every soak, short or long, holds the bound: a leak fails the short one too
    assert growth["rss_end_mib"] <= growth["rss_warm_mib"] * factor + slack, text
