"""Start real server processes on free loopback ports, for live tests: `cdv serve` (gunicorn), and Oxigraph
server as a remote SPARQL engine."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter

# Live tests send many queries at once from one address: each client's share (server/web/fair_share.py) is
# opened wide unless a test sets it (tests/test_fair_share.py sets its own).
ONE_CLIENT_AS_MANY = {"client_queries": 256, "client_budget": 86_400.0}


def process_group(pgid: int) -> set[int]:
    """The pids of the live processes of a process group (a server started with start_new_session)."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    pids.add(int(entry.name))
            except OSError:
                continue
    return pids


def maps_library(pid: int, library: str) -> bool:
    """Whether process `pid` has the native library `library` (a file name's start, e.g. libmimalloc) mapped."""
    return f"/{library}" in Path(f"/proc/{pid}/maps").read_text()


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    """A running server: its base URL and process."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")


@contextmanager
def run_server(
    build_dir: Path,
    log_dir: Path,
    args: tuple[str, ...] = (),
    env: Mapping[str, str] | None = None,
    startup_timeout: float = 60.0,
) -> Iterator[LiveServer]:
    """Run `cdv serve` on a free port until the block ends; wait until /health answers 200."""
    port = free_port()
    log_path = log_dir / f"server-{port}.log"
    command = [
        sys.executable,
        "-m",
        "server",
        "--build-dir",
        str(build_dir),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *args,
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **wide_share(), **(env or {})},
            start_new_session=True,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", process, log_path)
    try:
        _wait_healthy(server, startup_timeout)
        yield server
    finally:
        _stop(process)


def wide_share() -> dict[str, str]:
    """ONE_CLIENT_AS_MANY as CDV_* environment variables."""
    return {f"CDV_{name.upper()}": str(value) for name, value in ONE_CLIENT_AS_MANY.items()}


def _wait_healthy(server: LiveServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}:\n{server.log()}")
        try:
            if requests.get(server.url + "/health", timeout=2).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):  # a worker still booting may answer late
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server not healthy after {timeout}s:\n{server.log()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    import signal

    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def oxigraph_binary() -> str:
    """The `oxigraph` CLI of this environment (PyPI package `oxigraph`, a test dependency)."""
    return shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or "oxigraph"


@contextmanager
def run_engine(
    store: Path, log_dir: Path, timeout: float = 30.0, startup_timeout: float = 60.0
) -> Iterator[str]:
    """Run `oxigraph serve-read-only` on `store` (union default graph, engine-side time limit `timeout`)
    until the block ends; its query URL."""
    port = free_port()
    log_path = log_dir / f"oxigraph-{port}.log"
    command = [
        oxigraph_binary(),
        "serve-read-only",
        "--location",
        str(store),
        "--union-default-graph",
        "--timeout-s",
        str(round(timeout)),
        "--bind",
        f"127.0.0.1:{port}",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/query"
    try:
        _wait_engine(url, process, log_path, startup_timeout)
        yield url
    finally:
        _stop(process)


def _wait_engine(url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"oxigraph exited with {process.returncode}:\n{log_path.read_text('utf-8')}")
        try:
            if requests.get(url, params={"query": "ASK {}"}, timeout=2).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"oxigraph not ready after {timeout}s:\n{log_path.read_text('utf-8')}")


class SourceAddress(HTTPAdapter):
    """Connections from another loopback address (Linux answers on all of 127.0.0.0/8): another client."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: object, **kwargs: object) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)  # type: ignore[arg-type]
