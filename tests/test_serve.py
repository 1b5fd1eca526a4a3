"""`cdv serve`: gunicorn settings, the command line, the process tree, reloading, the development server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from server.cli.main import main
from server.core.config import load_settings
from server.engine.release import current_release, publish
from server.web.serve import ServeOptions, gunicorn_options

from .servers import free_port, process_group, run_server


def test_gunicorn_options() -> None:
    settings = load_settings({"query_timeout": 12.0})
    options = gunicorn_options(ServeOptions("127.0.0.1", 8123, 3, 4), settings)
    assert options["bind"] == "127.0.0.1:8123"
    assert options["workers"] == 3
    assert options["worker_class"] == "gthread" and options["threads"] == 4
    assert options["limit_request_line"] == 8190
    assert options["graceful_timeout"] >= 12 and options["timeout"] > 12
    assert options["control_socket_disable"] is True
    assert options["accesslog"] is None  # the app logs one line per request itself


def test_serve_help_names_every_option(runner: CliRunner) -> None:
    result = runner.invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--workers", "--threads", "--timeout", "--query-workers", "--dev"):
        assert option in result.output
    assert "127.0.0.1" in result.output and "8000" in result.output


@contextmanager
def started(build_dir: Path, log: Path, *args: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`cdv serve` with any outcome of /health (run_server waits for a 200)."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "server",
        "--build-dir",
        str(build_dir),
        "serve",
        "--port",
        str(port),
        *args,
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(url + "/health", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        yield process, url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_without_a_build_the_server_starts_and_says_503(tmp_path: Path) -> None:
    with started(tmp_path / "empty-build", tmp_path / "server.log", "--workers", "1") as (_process, url):
        health = requests.get(url + "/health", timeout=10)
        assert health.status_code == 503 and health.json()["status"] == "unavailable"
        answer = requests.get(url + "/sparql", params={"query": "ASK {}"}, timeout=10)
        assert answer.status_code == 503
        assert "no data is published" in answer.text
    assert "Traceback" not in (tmp_path / "server.log").read_text()


def test_development_server(build_dir: Path, tmp_path: Path) -> None:
    with started(build_dir, tmp_path / "dev.log", "--dev") as (_process, url):
        assert requests.get(url + "/health", timeout=10).status_code == 200
        answer = requests.get(url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=30)
        assert answer.status_code == 200 and answer.json()["boolean"] is True
    assert "gunicorn" not in (tmp_path / "dev.log").read_text()


def test_stopping_the_master_stops_every_process(build_dir: Path, tmp_path: Path) -> None:
    with run_server(build_dir, tmp_path, ("--workers", "2")) as server:
        assert requests.get(server.url + "/sparql", params={"query": "ASK {}"}, timeout=30).status_code == 200
        pids = process_group(server.process.pid)
        assert len(pids) >= 1 + 2 + 2  # master, workers, the server's query children
        server.process.send_signal(signal.SIGTERM)  # the master only, as a service manager would
        server.process.wait(timeout=30)
        deadline = time.monotonic() + 10
        while process_group(server.process.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert process_group(server.process.pid) == set(), "no query child outlives the server"


def test_a_new_build_is_served_after_hup(build_dir: Path, tmp_path: Path) -> None:
    own = tmp_path / "build"
    shutil.copytree(build_dir, own, symlinks=True)
    first = current_release(own)
    with run_server(own, tmp_path, ("--workers", "1")) as server:
        assert requests.get(server.url + "/health", timeout=10).json()["build"] == first.build_id
        second_id = first.build_id + "-next"
        second = own / "releases" / second_id
        shutil.copytree(first.path, second)
        manifest = json.loads((second / "manifest.json").read_text())
        manifest["build_id"] = second_id
        (second / "manifest.json").write_text(json.dumps(manifest))
        publish(own, second)
        server.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(server.url + "/health", timeout=5).json()["build"] == second_id:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.3)
        assert requests.get(server.url + "/health", timeout=5).json()["build"] == second_id
        assert requests.get(server.url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=30).json()[
            "boolean"
        ]


@pytest.mark.parametrize("bad", [["--port", "70000"], ["--workers", "0"], ["--timeout", "0"]])
def test_bad_options_are_usage_errors(runner: CliRunner, bad: list[str]) -> None:
    result = runner.invoke(main, ["serve", *bad])
    assert result.exit_code == 2
    assert "Invalid value" in result.output
