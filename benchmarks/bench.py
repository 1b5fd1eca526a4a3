"""Benchmark: this SPARQL endpoint (`cdv serve`, gunicorn) against Oxigraph's own server, same store, same queries.

Not a test: it prints figures. See benchmarks/README.md.

    .venv/bin/python benchmarks/bench.py [--build-dir DIR] [--duration 10] [--concurrency 1 16] [--workers 2]

Each cell runs one query category against one server at one concurrency for a bounded time, with a pool of
keep-alive connections (requests.Session per client thread), and reports throughput, p50 and p99.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.config import load_settings  # noqa: E402
from server.queries import load_library  # noqa: E402
from server.release import current_release  # noqa: E402
from tests.servers import free_port  # noqa: E402

JSON = "application/sparql-results+json"
TURTLE = "text/turtle"
BIG_SELECT = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 1000"
SUBJECTS = "SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(isIRI(?s)) } ORDER BY ?s"


@dataclass(frozen=True)
class Request:
    """One query as a client sends it."""

    label: str
    query: str
    accept: str


@dataclass
class Cell:
    """The measures of one (server, category, concurrency) run."""

    server: str
    category: str
    concurrency: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


# --- the workload ----------------------------------------------------------------------------------------


def workload(store_path: Path, lookups: int) -> dict[str, list[Request]]:
    """The query categories: named queries with their defaults, point lookups, a 1,000-row SELECT."""
    named = [Request(q.name, q.sparql, JSON) for q in load_library(ROOT / "queries")]
    store = ox.Store.read_only(str(store_path))
    subjects = [row["s"].value for row in store.query(SUBJECTS, use_default_graph_as_union=True)]  # type: ignore[union-attr, index]
    random.Random(42).shuffle(subjects)
    describe = [Request("describe", f"DESCRIBE <{iri}>", TURTLE) for iri in subjects[:lookups]]
    big = [Request("select-1000", BIG_SELECT, JSON)]
    categories = {"named": named, "lookup": describe, "select-1000": big}
    # the mix: every named query, as many lookups, and the big SELECT once per round
    mix = list(itertools.chain.from_iterable(zip(named, itertools.cycle(describe), strict=False))) + big
    categories["mix"] = mix
    return {name: requests_ for name, requests_ in categories.items() if requests_}


def answer_sizes(url: str, work: dict[str, list[Request]]) -> dict[str, int]:
    """How many results a server gives for each query (solutions or triples)."""
    sizes = {}
    for request in {r.query: r for rs in work.values() for r in rs}.values():
        response = requests.post(
            url, data={"query": request.query}, headers={"Accept": request.accept}, timeout=60
        )
        response.raise_for_status()
        if request.accept == JSON:
            sizes[request.query] = len(response.json()["results"]["bindings"])
        else:
            sizes[request.query] = len(list(ox.parse(response.content, format=ox.RdfFormat.TURTLE)))
    return sizes


# --- the servers -------------------------------------------------------------------------------------------


def _wait(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            requests.post(url, data={"query": "ASK {}"}, timeout=10)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout} s")


@contextmanager
def server(command: list[str], url: str, log: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run a server process in its own session until the block ends."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
    try:
        _wait(url, process)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def ours(build_dir: Path, args: argparse.Namespace, log_dir: Path, query_workers: int) -> Iterator[str]:
    port = free_port()
    command = [
        sys.executable, "-m", "server", "--build-dir", str(build_dir), "serve", "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(args.workers), "--threads", str(args.threads),
        "--query-workers", str(query_workers),
    ]  # fmt: skip
    return server(command, f"http://127.0.0.1:{port}/sparql", log_dir / f"cdv-{query_workers}.log")


def oxigraph(store_copy: Path, args: argparse.Namespace, log_dir: Path) -> Iterator[str]:
    port = free_port()
    command = [
        args.oxigraph, "serve-read-only", "--location", str(store_copy), "--bind", f"127.0.0.1:{port}",
        "--union-default-graph",
    ]  # fmt: skip
    return server(command, f"http://127.0.0.1:{port}/query", log_dir / "oxigraph.log")


# --- the load ------------------------------------------------------------------------------------------


def run_cell(url: str, cell: Cell, work: Sequence[Request], duration: float, gzip: bool) -> Cell:
    """`cell.concurrency` clients, each looping over the work (from its own offset) until the time is up."""
    stop = time.monotonic() + duration
    lock = threading.Lock()
    encoding = "gzip" if gzip else "identity"

    def client(offset: int) -> None:
        session = requests.Session()
        latencies, errors = [], 0
        for i in itertools.count(offset):
            if time.monotonic() >= stop:
                break
            request = work[i % len(work)]
            started = time.perf_counter()
            try:
                response = session.post(
                    url,
                    data={"query": request.query},
                    headers={"Accept": request.accept, "Accept-Encoding": encoding},
                    timeout=60,
                )
                _ = response.content
                ok = response.status_code == 200
            except requests.RequestException:
                ok = False
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1
        with lock:
            cell.latencies.extend(latencies)
            cell.errors += errors

    started = time.monotonic()
    with ThreadPoolExecutor(cell.concurrency) as pool:
        list(pool.map(client, [i * 7 for i in range(cell.concurrency)]))
    cell.seconds = time.monotonic() - started
    return cell


# --- main -------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--build-dir", type=Path, help="a build folder (default: build the project into a temp dir)"
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per cell (default 10)")
    parser.add_argument(
        "--concurrency", type=int, nargs="+", default=[1, 16], help="client threads (default 1 16)"
    )
    parser.add_argument("--categories", nargs="+", default=["named", "lookup", "select-1000", "mix"])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of cdv serve (default 2)")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (default 8)")
    parser.add_argument("--query-workers", type=int, default=2, help="query children per worker (default 2)")
    parser.add_argument("--in-process", action="store_true", help="also measure cdv with in-process queries")
    parser.add_argument("--lookups", type=int, default=200, help="distinct resources looked up (default 200)")
    parser.add_argument(
        "--gzip", action="store_true", help="ask for gzip (Oxigraph ignores it; cdv compresses)"
    )
    default_oxigraph = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or "oxigraph"
    parser.add_argument("--oxigraph", default=default_oxigraph, help="the oxigraph command")
    return parser.parse_args(argv)


def build_into(path: Path) -> Path:
    from server.build import build

    build(load_settings({"build_dir": path}))
    return path


def report(cells: list[Cell], baseline: str = "oxigraph") -> None:
    print(
        f"\n{'server':<14}{'category':<13}{'conc':>5}{'req':>8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'err':>5}"
    )
    for c in cells:
        print(
            f"{c.server:<14}{c.category:<13}{c.concurrency:>5}{len(c.latencies):>8}{c.throughput:>10.1f}"
            f"{c.percentile(50):>9.2f}{c.percentile(99):>9.2f}{c.errors:>5}"
        )
    print("\nratio to Oxigraph server (throughput x, p99 x):")
    base = {(c.category, c.concurrency): c for c in cells if c.server == baseline}
    for c in cells:
        b = base.get((c.category, c.concurrency))
        if c.server == baseline or b is None or not b.throughput:
            continue
        print(
            f"  {c.server:<14}{c.category:<13}c={c.concurrency:<4} throughput {c.throughput / b.throughput:5.2f}"
            f"   p99 {c.percentile(99) / b.percentile(99):5.2f}"
        )
    goal = [
        (c, base.get((c.category, c.concurrency))) for c in cells if c.server == "cdv" and c.category == "mix"
    ]
    for c, b in goal:
        if b is None or c.concurrency != 16:
            continue
        met = c.throughput >= 0.5 * b.throughput and c.percentile(99) <= 2 * b.percentile(99)
        print(
            f"\ngoal at concurrency 16 on the mix (≥ 0.5x throughput, p99 ≤ 2x): {'met' if met else 'NOT met'}"
        )


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cdv-bench-") as tmp:
        work_dir = Path(tmp)
        build_dir = args.build_dir or build_into(work_dir / "build")
        release = current_release(build_dir)
        store_copy = work_dir / "oxigraph-store"
        shutil.copytree(release.store_path, store_copy)
        work = workload(release.store_path, args.lookups)
        print(
            f"build {release.build_id}: {len(ox.Store.read_only(str(release.store_path)))} quads; "
            + ", ".join(f"{k}: {len(v)} queries" for k, v in work.items())
        )
        print(
            f"cdv: {args.workers} workers x {args.threads} threads, {args.query_workers} query children each; "
            f"{os.cpu_count()} CPUs; {args.duration:g} s per cell; Accept-Encoding: {'gzip' if args.gzip else 'identity'}"
        )
        servers = [("oxigraph", lambda: oxigraph(store_copy, args, work_dir)),
                   ("cdv", lambda: ours(build_dir, args, work_dir, args.query_workers))]  # fmt: skip
        if args.in_process:
            servers.append(("cdv-inprocess", lambda: ours(build_dir, args, work_dir, 0)))
        cells: list[Cell] = []
        sizes: dict[str, dict[str, int]] = {}
        for name, start in servers:
            with start() as url:
                sizes[name] = answer_sizes(url, work)  # also warms the server up
                for category in args.categories:
                    for concurrency in args.concurrency:
                        cell = Cell(name, category, concurrency)
                        cells.append(run_cell(url, cell, work[category], args.duration, args.gzip))
                        print(
                            f"  {name:<14}{category:<13}c={concurrency:<4}{cell.throughput:9.1f} req/s"
                            f"  p50 {cell.percentile(50):7.2f} ms  p99 {cell.percentile(99):7.2f} ms",
                            flush=True,
                        )
        report(cells)
        differ = [q for q in sizes["oxigraph"] if len({s[q] for s in sizes.values()}) != 1]
        print(
            f"\nsame number of results from every server for all {len(sizes['oxigraph'])} queries"
            if not differ
            else f"\nWARNING: the servers disagree on {len(differ)} queries, e.g. {differ[0]}"
        )


if __name__ == "__main__":
    main()
