"""A small load generator for the live tests: client threads, each with its own `requests.Session`, send a mix
of requests for a fixed time and record every answer (status, latency, build, error).

By hand rather than Locust or similar: the tests need each answer's headers and body checked (which build it
came from, what it counted) and its timing relative to a fault they inject, inside one pytest process, for a
few seconds; a load-testing framework would add a second process model, a web UI and its own reports.
Figures from a 2-core machine shared with other runs are noisy: tests assert on errors, never on latency.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from server.engine.query_pool import CHILD_MODULE

BUILD_HEADER = "X-Cdv-Build"
ID = "https://w3id.org/cdv/id/"
DOC = ID + "le-quesnoy/avenant-2020-2022"
COUNT_MEASURES = (
    "PREFIX cdv: <https://w3id.org/cdv/ontology#> "
    "SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE { GRAPH ?g { ?m a cdv:Mesure } }"
)
LIST_MEASURES = (
    "PREFIX cdv: <https://w3id.org/cdv/ontology#> "
    "SELECT DISTINCT ?m ?numero WHERE { ?m a cdv:Mesure ; cdv:numero ?numero } ORDER BY ?m LIMIT 50"
)

Check = Callable[[requests.Response], Any]  # returns a value worth keeping, raises AssertionError if wrong


@dataclass(frozen=True)
class Call:
    """One kind of request of the mix, and how to tell its answer is right."""

    name: str
    method: str
    path: str
    params: Mapping[str, str] | None = None
    data: bytes | Mapping[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    check: Check | None = None


@dataclass(frozen=True)
class Sample:
    """One request as the client saw it; `started` and `ended` on the time.monotonic() clock."""

    call: str
    client: int
    started: float
    ended: float
    status: int | None
    build: str | None
    value: Any = None
    error: str | None = None
    closed: bool = False  # the answer said `Connection: close`

    @property
    def latency(self) -> float:
        return self.ended - self.started


@dataclass
class LoadReport:
    """Every sample of a run, and its figures."""

    samples: list[Sample]
    duration: float
    clients: int

    def errors(self) -> list[Sample]:
        return [s for s in self.samples if s.error is not None]

    def figures(self) -> dict[str, Any]:
        """Requests, errors, throughput, and p50/p99 latency (ms) in all and per kind of call."""
        figures: dict[str, Any] = {
            "clients": self.clients,
            "duration_s": round(self.duration, 1),
            **_figures(self.samples, self.duration),
        }
        names = sorted({s.call for s in self.samples})
        figures["per_call"] = {
            n: _figures([s for s in self.samples if s.call == n], self.duration) for n in names
        }
        return figures

    def text(self, title: str) -> str:
        """The figures as a few readable lines."""
        f = self.figures()
        lines = [
            f"{title}: {f['requests']} requests in {f['duration_s']} s by {f['clients']} clients, "
            f"{f['errors']} errors, {f['throughput']} req/s, p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, "
            f"max {f['max_ms']} ms"
        ]
        for name, g in f["per_call"].items():
            lines.append(
                f"  {name:<22} {g['requests']:>6} req  {g['errors']:>3} err  p50 {g['p50_ms']:>8} ms  "
                f"p99 {g['p99_ms']:>8} ms"
            )
        for sample in self.errors()[:10]:
            lines.append(f"  error: {sample.call} status={sample.status} {sample.error}")
        return "\n".join(lines)


def _figures(samples: Sequence[Sample], duration: float) -> dict[str, Any]:
    latencies = sorted(s.latency * 1000 for s in samples)
    return {
        "requests": len(samples),
        "errors": sum(1 for s in samples if s.error is not None),
        "throughput": round(len(samples) / duration, 1) if duration else 0.0,
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(latencies[-1], 1) if latencies else 0.0,
    }


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile of sorted `values` (0 when empty)."""
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] if p < 100 else values[-1]


def send(session: requests.Session, base_url: str, call: Call, client: int, timeout: float) -> Sample:
    """Send one request and judge its answer: an error is a failed exchange, a status >= 400 or a failed check."""
    started = time.monotonic()
    try:
        response = session.request(
            call.method,
            base_url + call.path,
            params=call.params,
            data=call.data,
            headers=dict(call.headers),
            timeout=timeout,
        )
    except requests.RequestException as err:
        return Sample(
            call.name, client, started, time.monotonic(), None, None, error=f"{type(err).__name__}: {err}"
        )
    ended = time.monotonic()
    build = response.headers.get(BUILD_HEADER)
    closed = response.headers.get("Connection", "").lower() == "close"
    if response.status_code >= 400:
        return Sample(
            call.name, client, started, ended, response.status_code, build, error=response.text[:200]
        )
    try:
        value = call.check(response) if call.check else None
    except (AssertionError, ValueError, KeyError) as err:
        return Sample(call.name, client, started, ended, response.status_code, build, error=f"check: {err!r}")
    return Sample(call.name, client, started, ended, response.status_code, build, value, closed=closed)


def run_load(
    base_url: str,
    calls: Sequence[Call],
    clients: int,
    duration: float,
    *,
    timeout: float = 60.0,
    stop: threading.Event | None = None,
) -> LoadReport:
    """`clients` threads send `calls` in turn (each from another offset) for `duration` seconds, or until `stop`."""
    stop = stop or threading.Event()
    samples: list[Sample] = []
    lock = threading.Lock()
    deadline = time.monotonic() + duration

    def client(number: int) -> None:
        own: list[Sample] = []
        with requests.Session() as session:
            turn = number
            while time.monotonic() < deadline and not stop.is_set():
                own.append(send(session, base_url, calls[turn % len(calls)], number, timeout))
                turn += 1
        with lock:
            samples.extend(own)

    began = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,), name=f"load-{n}") for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration + timeout + 30)
    samples.sort(key=lambda s: s.started)
    return LoadReport(samples, time.monotonic() - began, clients)


# --- the standard mix --------------------------------------------------------------------------------------


def count_of(response: requests.Response) -> int:
    """The ?n of a one-row SPARQL JSON answer."""
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def _json_rows(response: requests.Response) -> int:
    rows = response.json()
    assert isinstance(rows, list | dict) and rows, "an empty JSON answer"
    return len(rows)


def _csv_rows(response: requests.Response) -> int:
    lines = response.text.strip().splitlines()
    assert lines and lines[0].startswith("m,"), f"not the expected CSV header: {lines[:1]}"
    return len(lines) - 1


def _contains(*needles: str) -> Check:
    def check(response: requests.Response) -> None:
        for needle in needles:
            assert needle in response.text, f"{needle!r} not in the answer"

    return check


def standard_mix(routes: set[str]) -> list[Call]:
    """SPARQL (GET and POST, JSON and CSV), pages (HTML and Turtle), the named-query API, the catalogue, and
    `/search` when the app has that route (`routes`: the rules of its url_map)."""
    json_results = {"Accept": "application/sparql-results+json"}
    calls = [
        Call(
            "sparql-get-json",
            "GET",
            "/sparql",
            {"query": COUNT_MEASURES},
            headers=json_results,
            check=count_of,
        ),
        Call(
            "sparql-post-csv",
            "POST",
            "/sparql",
            data=LIST_MEASURES.encode(),
            headers={"Content-Type": "application/sparql-query", "Accept": "text/csv"},
            check=_csv_rows,
        ),
        Call(
            "sparql-post-form",
            "POST",
            "/sparql",
            data={"query": COUNT_MEASURES},
            headers=json_results,
            check=count_of,
        ),
        Call(
            "page-html",
            "GET",
            "/id/le-quesnoy/avenant-2020-2022/mesure/12",
            headers={"Accept": "text/html"},
            check=_contains("<html"),
        ),
        Call(
            "page-turtle",
            "GET",
            "/id/le-quesnoy/avenant-2020-2022",
            headers={"Accept": "text/turtle"},
            check=_contains(DOC),
        ),
        Call(
            "api-query",
            "GET",
            "/api/queries/signatories",
            {"avenant": DOC},
            headers={"Accept": "application/json"},
            check=_json_rows,
        ),
        Call("catalog", "GET", "/catalog", headers={"Accept": "text/turtle"}, check=_contains("dcat:")),
    ]
    if "/search" in routes:
        calls.append(
            Call(
                "search",
                "GET",
                "/search",
                {"q": "santé"},
                headers={"Accept": "application/json"},
                check=_json_rows,
            )
        )
    return calls


# --- processes and memory ----------------------------------------------------------------------------------


def parents() -> dict[int, int]:
    """Every process's parent, from one pass over /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                table[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):  # gone meanwhile
                continue
    return table


def children(pid: int, table: dict[int, int] | None = None) -> list[int]:
    """The direct children of process `pid`."""
    table = parents() if table is None else table
    return sorted(child for child, parent in table.items() if parent == pid)


def descendants(pid: int, table: dict[int, int] | None = None) -> list[int]:
    """Every process below `pid`."""
    table = parents() if table is None else table
    found, todo = [], [pid]
    while todo:
        for child in children(todo.pop(), table):
            found.append(child)
            todo.append(child)
    return sorted(found)


def rss_kib(pid: int) -> int:
    """Resident memory of a process (KiB); 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def is_query_process(pid: int) -> bool:
    """Whether process `pid` is a query child (server/engine/query_pool.py starts them as `python -c …`)."""
    try:
        return CHILD_MODULE.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def workers(master: int, table: dict[int, int] | None = None) -> list[int]:
    """The gunicorn workers of server `master`: its children other than the query pool's."""
    return [pid for pid in children(master, table) if not is_query_process(pid)]


def tree_rss(master: int) -> dict[str, int]:
    """RSS (KiB) of the master, its workers, and the query processes (the master's pool, and any below a
    worker, e.g. a worker's own pool)."""
    table = parents()
    front = workers(master, table)
    below = [pid for pid in descendants(master, table) if pid not in front]
    return {
        "master": rss_kib(master),
        "workers": sum(rss_kib(pid) for pid in front),
        "query_processes": sum(rss_kib(pid) for pid in below),
        "processes": 1 + len(front) + len(below),
    }


def write_figures(path: Path, figures: Mapping[str, Any]) -> None:
    """Save figures as JSON next to the other test artefacts."""
    path.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", "utf-8")


def established_connections(pid: int, port: int) -> int:
    """How many established TCP connections on local `port` process `pid` holds (from /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().name
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local_port, state, inode = int(fields[1].rsplit(":", 1)[1], 16), fields[3], fields[9]
            if local_port == port and state == "01" and inode in inodes:  # 01: ESTABLISHED
                count += 1
    return count
