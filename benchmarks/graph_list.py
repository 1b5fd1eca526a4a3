"""What keeping queries to the build's graphs costs: the graph list, Virtuoso's exclusion, and nothing.

Not a test: it prints figures and asserts nothing. `cdv serve --endpoint` must keep each query that names no
dataset to the build's graphs (server/engine/remote.py). Three ways, measured on Oxigraph server and on
Virtuoso loaded with the same build (started as the tests start them: tests/servers.py, and the Virtuoso
section of docs/deploy.md run as written by tests/virtuoso.py): the build's graphs sent as
`default-graph-uri` and `named-graph-uri` (at 1,000 documents 1,002 graphs, twice); Virtuoso's
`define input:default-graph-exclude` / `named-graph-exclude` pragmas for each graph outside the build
(what `cdv serve` sends Virtuoso once it knows them); and the engine's union as it is (nothing). The three
requests are measured one after the other, query by query, and the report gives each one's median and the
ratios to nothing; a side that fails (an engine's time limit) says so. It also times the search for the
engine's own graphs that `cdv serve` runs once per build.

    .venv/bin/python benchmarks/graph_list.py --build-dir /tmp/n1000/build [--rounds 7] [--only virtuoso]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pyoxigraph as ox
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.core.config import load_settings  # noqa: E402
from server.core.library import find, load_library  # noqa: E402
from server.engine.release import Release, current_release  # noqa: E402
from server.engine.remote import (  # noqa: E402
    GRAPH_TYPE,
    HELD_GRAPHS,
    LISTED_GRAPHS,
    RESULTS_TYPE,
    RemoteStore,
    protocol_fields,
)
from tests.servers import run_engine  # noqa: E402
from tests.virtuoso import run_virtuoso  # noqa: E402

TIMEOUT = 300.0  # seconds: the union COUNT takes a while at 1,000 documents
NAMED_QUERY = "measures-per-axis"


def queries(release: Release) -> dict[str, str]:
    """The representative queries: a named query, a DESCRIBE, a COUNT over the union, a 1,000-row SELECT."""
    store = ox.Store.read_only(str(release.store_path))
    avenant = next(
        iter(
            store.query(
                "SELECT ?a WHERE { GRAPH ?g { ?a a <https://w3id.org/cdv/ontology#Avenant> } } LIMIT 1"
            )
        )
    )["a"]
    named = find(load_library(ROOT / "queries"), NAMED_QUERY)
    return {
        f"named query `{NAMED_QUERY}`": named.sparql,
        "DESCRIBE an avenant": f"DESCRIBE {avenant}",
        "COUNT over the union": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
        "1,000-row SELECT": "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 1000",
    }


@contextmanager
def engines(release: Release, scratch: Path, only: str | None) -> Iterator[dict[str, str]]:
    """Oxigraph server on a copy of the release's store and Virtuoso loaded by the guide: their URLs."""
    urls: dict[str, str] = {}
    with ExitStack() as stack:
        if only in (None, "oxigraph"):
            store = scratch / "oxigraph" / "store"
            shutil.copytree(release.store_path, store)
            urls["Oxigraph server"] = stack.enter_context(run_engine(store, store.parent, TIMEOUT, 600.0))
        if only in (None, "virtuoso"):
            (scratch / "virtuoso").mkdir()
            started = time.monotonic()
            urls["Virtuoso"] = stack.enter_context(run_virtuoso(release, scratch / "virtuoso")).endpoint
            print(
                f"Virtuoso loaded the build by docs/deploy.md in {time.monotonic() - started:.0f} s",
                flush=True,
            )
        yield urls


def timed(session: requests.Session, url: str, fields: list[tuple[str, str]], accept: str) -> float:
    """Seconds for one request, the answer read whole; RuntimeError when the engine fails."""
    started = time.perf_counter()
    response = session.post(url, data=fields, headers={"Accept": accept}, timeout=TIMEOUT)
    body = response.content
    if response.status_code != 200:
        raise RuntimeError(f"{response.status_code}: {body[:300]!r}")
    return time.perf_counter() - started


def median_time(
    session: requests.Session, url: str, fields: list[tuple[str, str]], accept: str, rounds: int
) -> str:
    """The median of `rounds` timings in ms after a warm-up, or the engine's error."""
    try:
        timed(session, url, fields, accept)  # warm-up: the first run fills the engine's caches
        return (
            f"{statistics.median(timed(session, url, fields, accept) for _ in range(rounds)) * 1000:.1f} ms"
        )
    except (RuntimeError, requests.RequestException) as err:
        return "fails: " + " ".join(str(err).split())[:90]


def ratio(side: str, base: str) -> str:
    """side / base for two medians in ms; a dash when either failed."""
    if side.endswith(" ms") and base.endswith(" ms"):
        return f"{float(side.split()[0]) / float(base.split()[0]):.1f}x"
    return "—"


def measure(url: str, remote: RemoteStore, work: dict[str, str], rounds: int) -> Iterator[tuple[str, ...]]:
    """(query, list, exclusion, nothing, list/nothing, exclusion/nothing, request bytes with the list) per query.

    The sides are measured one after the other for each query, so the machine's drift between them is that
    of a few seconds.
    """
    graphs = remote.graphs  # the build's graphs: read from the engine's metadata graph
    pragmas = remote.scope.pragmas  # what `cdv serve` sends: Virtuoso's graphs outside the build excluded
    session = requests.Session()
    for name, query in work.items():
        accept = GRAPH_TYPE if query.startswith("DESCRIBE") else RESULTS_TYPE
        with_list = protocol_fields(query, graphs, graphs)
        excluded = protocol_fields(pragmas + query, None, None)
        nothing = protocol_fields(query, None, None)
        listed, pragma, plain = (
            median_time(session, url, fields, accept, rounds) for fields in (with_list, excluded, nothing)
        )
        yield (
            name,
            listed,
            pragma if pragmas else "—",
            plain,
            ratio(listed, plain),
            ratio(pragma, plain) if pragmas else "—",
            f"{len(urlencode(with_list)):,} B",
        )


def listing_times(url: str) -> Iterator[tuple[str, str, str]]:
    """(query, time, graphs listed) of the ways to list an engine's graphs, each run once, cold."""
    session = requests.Session()
    for query in (HELD_GRAPHS, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s a ?t } }", LISTED_GRAPHS):
        started = time.perf_counter()
        response = session.post(url, data={"query": query}, headers={"Accept": RESULTS_TYPE}, timeout=TIMEOUT)
        took = f"{(time.perf_counter() - started) * 1000:,.0f} ms"
        if response.status_code != 200:
            yield query, took, f"fails: {response.status_code}"
            continue
        rows = [row for row in response.json()["results"]["bindings"] if row]
        yield query, took, f"{len(rows):,}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--only", choices=("oxigraph", "virtuoso"))
    args = parser.parse_args()
    release = current_release(args.build_dir)
    work = queries(release)
    with (
        tempfile.TemporaryDirectory(prefix="cdv-graph-list-") as tmp,
        engines(release, Path(tmp), args.only) as urls,
    ):
        for engine, url in urls.items():
            remote = RemoteStore(
                url, TIMEOUT, args.build_dir, load_settings({"build_dir": args.build_dir}).graph_base
            )
            print(f"\n### {engine}: {len(remote.graphs)} graphs in the build, {args.rounds} rounds\n")
            print("| listing the engine's graphs | time | graphs |\n|---|---|---|")
            for row in listing_times(url):
                print(f"| `{row[0]}` | {row[1]} | {row[2]} |", flush=True)
            scope = remote.scope
            if remote.finding is not None:
                remote.finding.join()
                scope = remote.scope
            sends = "the exclusion pragmas" if scope.pragmas else "the list" if scope.graphs else "nothing"
            print(f"\n`cdv serve --endpoint` sends {sends} with a query that names no dataset.\n")
            print(
                "| query | list (median) | exclusion (median) | nothing (median) | list / nothing "
                "| exclusion / nothing | request with the list |"
            )
            print("|---|---|---|---|---|---|---|")
            for row in measure(url, remote, work, args.rounds):
                print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
