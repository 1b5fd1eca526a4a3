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

from .load import is_query_process
from .servers import free_port, maps_library, process_group, run_server


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
        # master, workers, the server's query children; a worker may still be importing the app
        deadline = time.monotonic() + 30
        while len(pids := process_group(server.process.pid)) < 1 + 2 + 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(pids) >= 1 + 2 + 2
        # the master maps neither pyoxigraph nor jinja's markupsafe (the web stack); the workers do
        libraries = {pid: _mapped(pid, ("pyoxigraph", "markupsafe")) for pid in pids}
        assert libraries.pop(server.process.pid) == set()
        assert {"pyoxigraph", "markupsafe"} in libraries.values()
        # mimalloc (the default CDV_QUERY_ALLOCATOR) in the query processes, and in them only
        with_mimalloc = {pid for pid in pids if maps_library(pid, "libmimalloc")}
        assert with_mimalloc == {pid for pid in pids if is_query_process(pid)} and len(with_mimalloc) == 2
        server.process.send_signal(signal.SIGTERM)  # the master only, as a service manager would
        server.process.wait(timeout=30)
        deadline = time.monotonic() + 10
        while process_group(server.process.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert process_group(server.process.pid) == set(), "no query child outlives the server"


def _mapped(pid: int, names: tuple[str, ...]) -> set[str]:
    """Which of `names` appear in the paths of the files process `pid` maps (its native libraries)."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return {name for name in names if f"/{name}/" in maps}


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


# What gunicorn's master runs, in a fresh interpreter, from the command line up to the arbiter's start (the
# app's run()); it then prints which of the web stack and the engine it has imported.
MASTER = """
import sys
from gunicorn.app.base import BaseApplication
from server.cli.main import main

def report(app):
    print("run", " ".join(m for m in {heavy!r} if m in sys.modules))

BaseApplication.run = report
main(sys.argv[1:])
"""
HEAVY = ("flask", "werkzeug", "jinja2", "rdflib", "pyoxigraph", "server.web.app")


def test_the_master_imports_neither_the_web_stack_nor_the_engine(build_dir: Path) -> None:
    code = MASTER.format(heavy=HEAVY)
    args = ["--build-dir", str(build_dir), "serve", "--port", str(free_port())]
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["run"], f"the master loaded {done.stdout}"  # each worker imports them


# Two gunicorn workers, as gunicorn makes them: forked from the master, each builds its app (load) and
# counts a query of one client; the client may run one at a time.
WORKERS = """
import os, sys
from server.core.config import load_settings
from server.core.errors import TooManyRequests
from server.web.serve import GunicornApp, ServeOptions, gunicorn_options

settings = load_settings({"build_dir": sys.argv[1], "client_queries": 1})
master = GunicornApp(settings, gunicorn_options(ServeOptions(), settings))

def worker():
    from server.web.fair_share import EXTENSION
    try:
        master.wsgi().extensions[EXTENSION].admit("192.0.2.1")
    except TooManyRequests:
        return 1
    return 0

for _ in range(2):
    pid = os.fork()
    if pid == 0:
        os._exit(worker())
    print("refused" if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) else "admitted")
print(master._fair_share.usage("192.0.2.1")[0], "in flight")
"""


def test_every_worker_counts_on_the_table_of_the_master(build_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", WORKERS, str(build_dir)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    # one table and one secret: the second worker sees the first one's query of the same client
    assert done.stdout.splitlines() == ["admitted", "refused", "1 in flight"], done.stdout + done.stderr
