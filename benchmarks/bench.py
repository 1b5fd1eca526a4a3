"""Benchmark: this service (`cdv serve`, gunicorn) against Oxigraph's own server, same store, same work.

Not a test: it prints figures, as ratios to Oxigraph server measured in the same run. See benchmarks/README.md.

    .venv/bin/python benchmarks/bench.py [--build-dir DIR] [--duration 10] [--plan engine|cache|page|all]

Each cell runs one category of requests against one server configuration at one concurrency for a bounded
time, with a pool of keep-alive connections (one urllib3 connection per client thread), and reports
throughput, p50, p99 and errors; each server line also gives its start time and resident memory.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from urllib.parse import urlencode, urlsplit

import pyoxigraph as ox
import urllib3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.core.config import load_settings  # noqa: E402
from server.core.library import NamedQuery, load_library  # noqa: E402
from server.engine.query_pool import CHILD_MODULE  # noqa: E402
from server.engine.release import current_release  # noqa: E402
from tests.servers import free_port, process_group, wide_share  # noqa: E402

JSON = "application/sparql-results+json"
TURTLE = "text/turtle"
HTML = "text/html"
BIG_SELECT = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 1000"
# Typed resources, graph by graph: no DISTINCT/ORDER BY over the union of millions of triples (minutes at N = 1,000)
SUBJECTS = "SELECT ?s WHERE { GRAPH ?g { ?s a ?c } } LIMIT 20000"
MEASURE_TEXTS = "SELECT ?t WHERE { ?m a <https://w3id.org/cdv/ontology#Mesure> ; <https://w3id.org/cdv/ontology#texte> ?t }"
INDEXED_QUERY = "search-measures"  # answered from the search index by cdv, by CONTAINS on a plain endpoint


@dataclass(frozen=True)
class Call:
    """One HTTP request, relative to a server's base URL."""

    method: str
    path: str
    accept: str
    params: tuple[tuple[str, str], ...] = ()
    form: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Request:
    """One unit of work, as this service is asked for it and as Oxigraph server is asked for it."""

    label: str
    cdv: Call
    oxigraph: Call


def sparql(label: str, query: str, accept: str) -> Request:
    """The same SPARQL query POSTed to both servers' protocol endpoints."""
    form = (("query", query),)
    return Request(
        label, Call("POST", "/sparql", accept, form=form), Call("POST", "/query", accept, form=form)
    )


@dataclass
class Cell:
    """The measures of one (server, category, concurrency) run in one round."""

    server: str
    category: str
    concurrency: int
    round: int = 1
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # CPU time used during the cell, by role

    def cpu_per_request(self) -> dict[str, float]:
        """Milliseconds of CPU per answered request, by role (the server's processes and the load client)."""
        done = len(self.latencies)
        return {role: 1000 * seconds / done for role, seconds in self.cpu_seconds.items()} if done else {}

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


@dataclass
class ServerRun:
    """One server configuration's life: how long it took to answer, how much memory it held."""

    name: str
    round: int = 1
    start_seconds: float = 0.0
    rss_mib: float = 0.0
    pss_mib: float = 0.0  # proportional: pages shared by several processes counted once in all
    processes: list[tuple[str, float, float]] = field(default_factory=list)  # (role, RSS MiB, PSS MiB)


# --- the workload ----------------------------------------------------------------------------------------


def _select_rows(store: ox.Store, query: str) -> list[ox.QuerySolution]:
    return list(store.query(query, use_default_graph_as_union=True))  # type: ignore[arg-type]


def search_words(store: ox.Store, count: int) -> list[str]:
    """Frequent words (7+ letters) of the measures' texts: searches that find something."""
    words = Counter(
        w.lower()
        for row in _select_rows(store, MEASURE_TEXTS)
        for w in re.findall(r"[^\W\d_]{7,}", row["t"].value)  # type: ignore[union-attr]
    )
    return [w for w, _n in words.most_common(count)]


def contains_query(query: NamedQuery, word: str) -> str:
    """The named search query with `word` in place of its default: what a plain SPARQL endpoint runs."""
    return re.sub(r'VALUES \?texte \{ "[^"]*" \}', f'VALUES ?texte {{ "{word}" }}', query.sparql)


def workload(store_path: Path, lookups: int, skip: Sequence[str] = ()) -> dict[str, list[Request]]:
    """The categories of work; every request exists on both sides (see benchmarks/README.md)."""
    store = ox.Store.read_only(str(store_path))
    library = [q for q in load_library(ROOT / "queries") if "quality" not in q.tags and q.name not in skip]
    named = [sparql(q.name, q.sparql, JSON) for q in library if q.name != INDEXED_QUERY]
    subjects = sorted({row["s"].value for row in _select_rows(store, SUBJECTS)})  # type: ignore[union-attr]
    subjects = [s for s in subjects if "/id/" in s]
    random.Random(42).shuffle(subjects)
    describe = [sparql("describe", f"DESCRIBE <{iri}>", TURTLE) for iri in subjects[:lookups]]
    big = [sparql("select-1000", BIG_SELECT, JSON)]
    search_query = next(q for q in library if q.name == INDEXED_QUERY)
    search = [
        Request(
            "search",
            Call("GET", f"/api/queries/{INDEXED_QUERY}", "application/json", params=(("texte", word),)),
            Call("POST", "/query", JSON, form=(("query", contains_query(search_query, word)),)),
        )
        for word in search_words(store, 20)
    ]
    # The traffic of a portal: named queries through the API, resource pages, searches. Oxigraph server has
    # no pages nor API: it gets the SPARQL behind each (the named query, DESCRIBE, the CONTAINS query).
    api = [
        Request(
            q.name,
            Call("GET", f"/api/queries/{q.name}", "application/json"),
            Call("POST", "/query", JSON, form=(("query", q.sparql),)),
        )
        for q in library
        if q.name != INDEXED_QUERY
    ]
    # A fragment (`…/source#L1-L3`) has no page of its own: a browser asks for the document's page
    pages = [
        Request("page", Call("GET", "/id/" + iri.split("/id/", 1)[1], HTML), d.oxigraph)
        for iri, d in zip(subjects[:lookups], describe, strict=False)
        if "#" not in iri
    ][:40]
    # An answer that does no work on either side (cdv's liveness probe, Oxigraph server's home page, both a
    # few hundred bytes at most): what the front server and the app cost a request before any page work
    empty = [Request("empty", Call("GET", "/health", "text/plain"), Call("GET", "/", "text/html"))]
    site = list(itertools.chain.from_iterable(zip(itertools.cycle(api), pages, itertools.cycle(search))))
    # the SPARQL mix: every named query, as many lookups, and the big SELECT once per round
    mix = list(itertools.chain.from_iterable(zip(named, itertools.cycle(describe), strict=False))) + big
    categories = {
        "named": named,
        "lookup": describe,
        "select-1000": big,
        "mix": mix,
        "search": search,
        "page": pages,
        "empty": empty,
        "site": site,
    }
    return {name: work for name, work in categories.items() if work}


def answer_sizes(url: str, work: dict[str, list[Request]], side: str) -> dict[str, int]:
    """How many results a server gives for each SPARQL query (solutions or triples)."""
    sizes = {}
    calls = {getattr(r, side): r for rs in work.values() for r in rs if getattr(r, side).path in SPARQL_PATHS}
    pool = connect(url)
    for call in calls:
        try:
            response = send(pool, call)
            error = None if response.status == 200 else f"status {response.status}"
        except urllib3.exceptions.HTTPError as err:  # reported below as a disagreement, not a crash
            error = str(err)
        if error:
            print(f"  no answer to {dict(call.form)['query'][:80]!r}…: {error}")
            sizes[dict(call.form)["query"]] = -1
        elif call.accept == JSON:
            sizes[dict(call.form)["query"]] = len(response.json()["results"]["bindings"])
        else:
            sizes[dict(call.form)["query"]] = len(list(ox.parse(response.data, format=ox.RdfFormat.TURTLE)))
    return sizes


SPARQL_PATHS = {"/sparql", "/query"}


def connect(base: str, timeout: float = 120) -> urllib3.HTTPConnectionPool:
    """One keep-alive connection to a server. urllib3 itself, not requests on top of it: about 3x less client
    CPU per request, which matters as the client shares the CPUs with the server it measures (with requests,
    the client capped both servers near 550 req/s here)."""
    address = urlsplit(base)
    return urllib3.HTTPConnectionPool(
        address.hostname, address.port, maxsize=1, retries=False, timeout=timeout
    )


def send(
    pool: urllib3.HTTPConnectionPool, call: Call, encoding: str = "identity"
) -> urllib3.BaseHTTPResponse:
    """Send one call, read the body whole."""
    headers = {"Accept": call.accept, "Accept-Encoding": encoding}
    path = call.path + ("?" + urlencode(call.params) if call.params else "")
    if call.method == "POST":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return pool.request("POST", path, body=urlencode(call.form), headers=headers)
    return pool.request("GET", path, headers=headers)


# --- the servers -------------------------------------------------------------------------------------------


def _wait(base: str, path: str, process: subprocess.Popen[bytes], timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    probe = connect(base, timeout=10)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            if probe.request("POST", path, fields={"query": "ASK {}"}, encode_multipart=False).status == 200:
                return
        except urllib3.exceptions.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{base}{path} did not answer within {timeout} s")


def group_processes(pgid: int) -> Iterator[tuple[Path, list[str], str]]:
    """Each live process of a process group (the server, its workers, their query processes): its /proc
    folder, the fields of its stat file after the command name, and its role."""
    for pid in process_group(pgid):
        folder = Path("/proc", str(pid))
        try:
            fields = (folder / "stat").read_text().rsplit(")", 1)[1].split()
            command = (folder / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # it exited meanwhile
            continue
        yield folder, fields, _role(pid, pgid, command)


def group_memory(pgid: int) -> list[tuple[str, float, float]]:
    """Each process of a process group: its role, resident memory (RSS) and proportional set size (PSS: a
    page shared by k processes counts 1/k in each), in MiB."""
    processes = []
    for folder, fields, role in group_processes(pgid):
        try:
            rollup = (folder / "smaps_rollup").read_text()
        except OSError:
            continue
        pss = next((int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")), 0)
        rss = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20  # field 24: rss in pages
        processes.append((role, rss, pss / 1024))
    return sorted(processes)


def group_cpu(pgid: int) -> dict[str, float]:
    """Seconds of CPU (user + system) each role of a process group has used so far (a process that exited
    is not counted: read before and after a cell, the difference is what that cell cost)."""
    tick = os.sysconf("SC_CLK_TCK")
    used: Counter[str] = Counter()
    for _folder, fields, role in group_processes(pgid):
        used[role] += (int(fields[11]) + int(fields[12])) / tick  # fields 14 and 15: utime, stime
    return dict(used)


def measured(
    base: str, pgid: int, cell: Cell, work: Sequence[Request], side: str, duration: float, gzip: bool
) -> Cell:
    """`run_cell`, with the CPU each role of the server (and the client, this process) used meanwhile."""
    before, client = group_cpu(pgid), time.process_time()
    run_cell(base, cell, work, side, duration, gzip)
    after = group_cpu(pgid)
    cell.cpu_seconds = {role: after[role] - before.get(role, 0.0) for role in after}
    cell.cpu_seconds["client"] = time.process_time() - client
    return cell


def _role(pid: int, pgid: int, command: str) -> str:
    """What a server's process is, from its command line."""
    if CHILD_MODULE in command:
        return "query process"
    if "oxigraph" in command:
        return "oxigraph server"
    return "master" if pid == pgid else "worker"


@contextmanager
def server(
    command: list[str], base: str, probe: str, log: Path, run: ServerRun, env: dict[str, str] | None = None
) -> Iterator[tuple[str, int]]:
    """Run a server process in its own session until the block ends; time its start."""
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
    try:
        _wait(base, probe, process)
        run.start_seconds = time.monotonic() - started
        yield base, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@dataclass(frozen=True)
class Config:
    """A server to measure: Oxigraph server, or cdv with some workers, embedded or remote, with or without cache."""

    name: str
    workers: int = 2
    remote: bool = False
    cache: bool = False
    query_workers: int = 2
    allocator: str | None = None  # CDV_QUERY_ALLOCATOR; None: the server's default (mimalloc)

    @property
    def side(self) -> str:
        return "oxigraph" if self.name == "oxigraph" else "cdv"


def oxigraph_command(oxigraph: str, store: Path, port: int) -> list[str]:
    return [
        oxigraph,
        "serve-read-only",
        "--location",
        str(store),
        "--bind",
        f"127.0.0.1:{port}",
        "--union-default-graph",
    ]


@contextmanager
def start(
    config: Config, args: argparse.Namespace, build_dir: Path, store_copy: Path, log_dir: Path, run: ServerRun
) -> Iterator[tuple[str, int]]:
    """Start `config`'s server (and, for a remote-backed cdv, its Oxigraph engine)."""
    port = free_port()
    if config.side == "oxigraph":
        with server(
            oxigraph_command(args.oxigraph, store_copy, port),
            f"http://127.0.0.1:{port}",
            "/query",
            log_dir / "oxigraph.log",
            run,
            {"LD_PRELOAD": args.oxigraph_preload} if args.oxigraph_preload else None,
        ) as started:
            yield started
        return
    command = [
        sys.executable, "-m", "server", "--build-dir", str(build_dir), "serve", "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(config.workers), "--threads", str(args.threads),
        "--query-workers", str(config.query_workers),
    ]  # fmt: skip
    # The load client is one address standing for many clients: a share of as many queries as it runs at once
    # (no fewer: it would be refused; no more: each client's record costs CPU in proportion to its slots, and
    # a deployment's default is one or two), and no time budget (issue 19, item 5).
    share = {**wide_share(), "CDV_CLIENT_QUERIES": str(max(args.concurrency))}
    env = {"CDV_CACHE_BYTES": str(args.cache_mib * 2**20 if config.cache else 0), **share}
    if config.allocator:
        env["CDV_QUERY_ALLOCATOR"] = config.allocator
    if config.cache:  # a cold cache: the first pass over the work fills it
        shutil.rmtree(build_dir / "cache", ignore_errors=True)
    if not config.remote:
        with server(
            command, f"http://127.0.0.1:{port}", "/sparql", log_dir / f"{config.name}.log", run, env
        ) as started:
            yield started
        return
    engine_port = free_port()
    engine_run = ServerRun("engine")
    engine = server(
        oxigraph_command(args.oxigraph, store_copy, engine_port),
        f"http://127.0.0.1:{engine_port}",
        "/query",
        log_dir / f"{config.name}-engine.log",
        engine_run,
    )
    with engine:
        command += ["--endpoint", f"http://127.0.0.1:{engine_port}/query"]
        with server(
            command, f"http://127.0.0.1:{port}", "/sparql", log_dir / f"{config.name}.log", run, env
        ) as started:
            yield started


# --- the load ------------------------------------------------------------------------------------------


def run_cell(base: str, cell: Cell, work: Sequence[Request], side: str, duration: float, gzip: bool) -> Cell:
    """`cell.concurrency` clients, each looping over the work (from its own offset) until the time is up."""
    stop = time.monotonic() + duration
    lock = threading.Lock()
    encoding = "gzip" if gzip else "identity"

    def client(offset: int) -> None:
        pool = connect(base)
        latencies, errors = [], 0
        for i in itertools.count(offset):
            if time.monotonic() >= stop:
                break
            call: Call = getattr(work[i % len(work)], side)
            started = time.perf_counter()
            try:
                ok = send(pool, call, encoding).status == 200
            except urllib3.exceptions.HTTPError:
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


def warm(base: str, work: dict[str, list[Request]], side: str, categories: Sequence[str]) -> int:
    """Send every request of the categories once (fills caches, loads pages); return the failures."""
    failures = 0
    pool = connect(base)
    for category in categories:
        for call in dict.fromkeys(getattr(r, side) for r in work.get(category, [])):
            try:
                failures += send(pool, call).status != 200
            except urllib3.exceptions.HTTPError:
                failures += 1
    return failures


# --- plans -------------------------------------------------------------------------------------------------

Plan = list[tuple[Config, list[tuple[str, int]]]]  # each server with its (category, concurrency) cells


def plan(args: argparse.Namespace) -> Plan:
    """What to run. `engine`: issue 8's matrix; `cache`: issue 9's repeated traffic and search; `sparql`: 3's;
    `page`: resource pages alone (issue 19), cache off."""
    cells: Plan = []
    high = max(args.concurrency)
    if args.plan in {"sparql"}:
        grid = [(c, n) for c in args.categories for n in args.concurrency]
        cells.append((Config("oxigraph"), grid))
        cells.append((Config("cdv", args.workers[0]), grid))
        return cells
    if args.plan == "page":
        cells = [("empty", high), ("page", high)]
        return [(Config("oxigraph"), cells), (Config("cdv-e2-nocache", 2), cells)]
    oxigraph_cells: list[tuple[str, int]] = []
    if args.plan in {"engine", "all"}:
        oxigraph_cells.append(("mix", high))
        for k in args.workers:
            cells.append((Config(f"cdv-e{k}", k), [("mix", high)]))
        for name in args.compare_allocator:  # the same 2-worker server, its query processes on another malloc
            cells.append((Config(f"cdv-e2-{name}", 2, allocator=name), [("mix", high)]))
        if not args.no_remote:
            for k in args.workers:
                cells.append((Config(f"cdv-r{k}", k, remote=True), [("mix", high)]))
    if args.plan in {"cache", "all"}:
        # search first: requests a client gave up on at the end of a cell (a slow named query) still run
        # on the server, and would slow the next cell down
        oxigraph_cells += [("search", 1), ("page", high), ("site", high)]
        cells.append((Config("cdv-e2-nocache", 2), [("search", 1), ("page", high), ("site", high)]))
        cells.append((Config("cdv-e2-cache", 2, cache=True), [("site", high)]))
    return [(Config("oxigraph"), oxigraph_cells), *cells]


def report(cells: list[Cell], runs: list[ServerRun]) -> None:
    rounds = max((c.round for c in cells), default=1)
    print(
        f"\n{'round':>5} {'server':<16}{'category':<13}{'conc':>5}{'req':>8}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'err':>5}"
    )
    for c in cells:
        print(
            f"{c.round:>5} {c.server:<16}{c.category:<13}{c.concurrency:>5}{len(c.latencies):>8}{c.throughput:>10.1f}"
            f"{c.percentile(50):>10.2f}{c.percentile(99):>10.2f}{c.errors:>5}"
        )
    print(
        f"\n{'round':>5} {'server':<16}{'start s':>9}{'RSS MiB':>10}{'PSS MiB':>10}  each process: role RSS/PSS"
    )
    for r in runs:
        each = ", ".join(f"{role} {rss:.0f}/{pss:.0f}" for role, rss, pss in r.processes)
        print(f"{r.round:>5} {r.name:<16}{r.start_seconds:>9.2f}{r.rss_mib:>10.1f}{r.pss_mib:>10.1f}  {each}")
    ratios = paired_ratios(cells)
    print(
        "\nratios to Oxigraph server measured in the same round"
        + (f" (median of {rounds} rounds, then each round)" if rounds > 1 else "")
        + ": throughput x, p50 x, p99 x"
    )
    for (server, category, concurrency), per_round in ratios.items():
        line = (
            f"  {server:<16}{category:<13}c={concurrency:<4} throughput {median(r[0] for r in per_round):6.2f}"
            f"   p50 {median(r[1] for r in per_round):6.2f}   p99 {median(r[2] for r in per_round):6.2f}"
        )
        if rounds > 1:
            line += "   rounds: " + " ".join(f"{r[0]:.2f}" for r in per_round)
        print(line)
    base_runs = {r.round: r for r in runs if r.name == "oxigraph" and r.rss_mib}
    for r in runs:
        b = base_runs.get(r.round)
        if r.name != "oxigraph" and b is not None:
            print(
                f"  {r.name:<16}round {r.round}: start {r.start_seconds / b.start_seconds:6.2f}   memory {r.rss_mib / b.rss_mib:6.2f}"
            )
    goals(ratios, max((c.concurrency for c in cells), default=16))
    page_budget(cells, os.cpu_count() or 1)


def paired_ratios(cells: list[Cell]) -> dict[tuple[str, str, int], list[tuple[float, float, float]]]:
    """Each cdv cell against Oxigraph server's cell of the same round, category and concurrency.

    Paired by round because this machine's speed drifts between runs minutes apart (Oxigraph server alone
    measured 567 to 739 req/s on the same mix in one morning): a ratio of two cells run back to back is
    steadier than a ratio of two cells far apart, and the median over rounds steadier still.
    """
    base = {(c.round, c.category, c.concurrency): c for c in cells if c.server == "oxigraph"}
    ratios: dict[tuple[str, str, int], list[tuple[float, float, float]]] = {}
    for c in cells:
        b = base.get((c.round, c.category, c.concurrency))
        if c.server == "oxigraph" or b is None or not b.throughput:
            continue
        ratios.setdefault((c.server, c.category, c.concurrency), []).append(
            (
                c.throughput / b.throughput,
                c.percentile(50) / b.percentile(50),
                c.percentile(99) / b.percentile(99),
            )
        )
    return ratios


def goals(ratios: dict[tuple[str, str, int], list[tuple[float, float, float]]], high: int) -> None:
    """The goals of issues 9 and 19, where this run measured them (medians of the paired ratios)."""
    checks: list[tuple[str, bool]] = []
    mix = ratios.get(("cdv-e2", "mix", high))
    if mix:
        throughput, p99 = median(r[0] for r in mix), median(r[2] for r in mix)
        checks += [
            (
                f"embedded, 2 workers, mix, c={high}: throughput >= 0.6x Oxigraph server (floor)",
                throughput >= 0.6,
            ),
            (
                f"embedded, 2 workers, mix, c={high}: throughput >= 0.8x Oxigraph server (goal)",
                throughput >= 0.8,
            ),
            (f"embedded, 2 workers, mix, c={high}: p99 <= 1.5x Oxigraph server's", p99 <= 1.5),
        ]
    page = ratios.get(("cdv-e2-nocache", "page", high))
    if page:
        checks.append((f"HTML pages, cache off, c={high}: >= 0.3x Oxigraph server's DESCRIBE",
                       median(r[0] for r in page) >= 0.3))  # fmt: skip
    site = ratios.get(("cdv-e2-cache", "site", high))
    if site:
        checks.append((f"cache, repeated site traffic, c={high}: throughput >= 2x Oxigraph server",
                       median(r[0] for r in site) >= 2))  # fmt: skip
    search = ratios.get(("cdv-e2-nocache", "search", 1))
    if search:
        checks.append(("search index p50 at least 20x faster than CONTAINS on Oxigraph server (goal at N = 1,000)",
                       median(r[1] for r in search) <= 1 / 20))  # fmt: skip
    if checks:
        print("\ngoals:")
    for text, met in checks:
        print(f"  {'met    ' if met else 'NOT met'}  {text}")


def page_budget(cells: list[Cell], cpus: int, floor: float = 0.3) -> None:
    """What the pages' floor leaves a page to spend, round by round: at `floor` times Oxigraph server's
    DESCRIBE rate, the machine's CPUs shared by the load client and the server give each page
    cpus / rate - (client's CPU per page) of server CPU; an answer that does no work (`empty`) already takes
    its part. The rest is what the page's store queries, view and HTML may cost together."""
    found = {(c.server, c.category, c.round): c for c in cells}
    lines = []
    for (server, category, round_), cell in sorted(found.items(), key=lambda item: item[0][2]):
        oxigraph, empty = found.get(("oxigraph", "page", round_)), found.get((server, "empty", round_))
        if category != "page" or server == "oxigraph" or oxigraph is None or empty is None:
            continue
        spent = {role: ms for role, ms in cell.cpu_per_request().items() if role != "client"}
        budget = 1000 * cpus / (floor * oxigraph.throughput) - cell.cpu_per_request().get("client", 0.0)
        bare = sum(ms for role, ms in empty.cpu_per_request().items() if role != "client")
        lines.append(
            f"  {server:<16}round {round_}: a page may take {budget:.2f} ms of server CPU at {floor}x; an empty "
            f"answer takes {bare:.2f}, leaving {budget - bare:.2f} for the page's work, which takes {sum(spent.values()) - bare:.2f}"
        )
    if lines:
        print(f"\npage budget ({cpus} CPUs shared by the client and the server):", *lines, sep="\n")


# --- main -------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--build-dir", type=Path, help="a build folder (default: build the project into a temp dir)"
    )
    parser.add_argument(
        "--plan",
        choices=["sparql", "engine", "cache", "page", "all"],
        default="all",
        help="what to measure (default all)",
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per cell (default 10)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run the whole plan this many times; ratios pair each cell with Oxigraph's of the same round",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=[1, 16],
        help="client threads (default 1 16; plans engine/cache use the highest)",
    )
    parser.add_argument(
        "--categories",
        nargs="+",
        default=["named", "lookup", "select-1000", "mix"],
        help="plan sparql: which SPARQL categories",
    )
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1, 2, 4],
        help="gunicorn workers of cdv serve (default 1 2 4)",
    )
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (default 8)")
    parser.add_argument(
        "--no-remote", action="store_true", help="skip cdv serve --endpoint (remote-backed) runs"
    )
    parser.add_argument(
        "--cache-mib", type=int, default=256, help="result cache size of the cached runs (default 256)"
    )
    parser.add_argument(
        "--skip", nargs="+", default=[], metavar="QUERY", help="named queries to leave out of the work"
    )
    parser.add_argument("--lookups", type=int, default=200, help="distinct resources looked up (default 200)")
    parser.add_argument(
        "--gzip", action="store_true", help="ask for gzip (Oxigraph ignores it; cdv compresses)"
    )
    parser.add_argument(
        "--compare-allocator",
        nargs="+",
        default=[],
        metavar="NAME",
        help="plan engine: also the 2-worker server with this CDV_QUERY_ALLOCATOR (e.g. system)",
    )
    parser.add_argument(
        "--oxigraph-preload",
        metavar="LIBRARY",
        help="run Oxigraph server with this library preloaded (e.g. libmimalloc.so.2: the same malloc as cdv's "
        "query processes)",
    )
    default_oxigraph = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or "oxigraph"
    parser.add_argument("--oxigraph", default=default_oxigraph, help="the oxigraph command")
    return parser.parse_args(argv)


def build_into(path: Path) -> Path:
    from server.build.pipeline import build

    build(load_settings({"build_dir": path}))
    return path


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cdv-bench-") as tmp:
        work_dir = Path(tmp)
        build_dir = args.build_dir or build_into(work_dir / "build")
        release = current_release(build_dir)
        store_copy = work_dir / "oxigraph-store"  # Oxigraph server reads its own copy of the published store
        shutil.copytree(release.store_path, store_copy)
        work = workload(release.store_path, args.lookups, args.skip)
        print(
            f"build {release.build_id}: {release.manifest.get('triples')} triples in {len(release.manifest.get('graphs', {}))} graphs; "
            + ", ".join(f"{k}: {len(v)} requests" for k, v in work.items())
        )
        print(f"{os.cpu_count()} CPUs; {args.duration:g} s per cell; {args.threads} threads per cdv worker")
        cells: list[Cell] = []
        runs: list[ServerRun] = []
        sizes: dict[str, dict[str, int]] = {}
        for round_ in range(1, args.rounds + 1):
            if args.rounds > 1:
                print(f"round {round_} of {args.rounds}", flush=True)
            for config, grid in plan(args):
                run = ServerRun(config.name, round_)
                with start(config, args, build_dir, store_copy, work_dir, run) as (base, pgid):
                    categories = list(dict.fromkeys(category for category, _n in grid))
                    if round_ == 1:  # the answers do not change between rounds
                        sizes[config.name] = answer_sizes(
                            base, {c: work[c] for c in categories if c in work}, config.side
                        )
                    failed = warm(base, work, config.side, categories)
                    if failed:
                        print(f"  {config.name}: {failed} request(s) failed during the warm-up pass")
                    for category, concurrency in grid:
                        cell = measured(
                            base,
                            pgid,
                            Cell(config.name, category, concurrency, round_),
                            work[category],
                            config.side,
                            args.duration,
                            args.gzip,
                        )
                        cells.append(cell)
                        print(
                            f"  {config.name:<16}{category:<13}c={concurrency:<4}{cell.throughput:9.1f} req/s"
                            f"  p50 {cell.percentile(50):8.2f} ms  p99 {cell.percentile(99):8.2f} ms  errors {cell.errors}"
                            "  CPU ms/request: "
                            + ", ".join(
                                f"{role} {ms:.3f}" for role, ms in sorted(cell.cpu_per_request().items())
                            ),
                            flush=True,
                        )
                    run.processes = group_memory(pgid)
                    run.rss_mib = sum(p[1] for p in run.processes)
                    run.pss_mib = sum(p[2] for p in run.processes)
                runs.append(run)
        report(cells, runs)
        reference = sizes.get("oxigraph", {})
        differ = [q for q in reference if any(q in s and s[q] != reference[q] for s in sizes.values())]
        print(
            f"\nsame number of results from every server for all {len(reference)} SPARQL queries"
            if not differ
            else f"\nWARNING: the servers disagree on {len(differ)} queries, e.g. {differ[0][:200]}"
        )


if __name__ == "__main__":
    main()
