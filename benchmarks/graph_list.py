"""What sending the build's graph list costs: each query with the list as its dataset, and without it.

Not a test: it prints figures and asserts nothing. `cdv serve --endpoint` sends every query that names no
dataset with the build's graphs as `default-graph-uri` and `named-graph-uri` (server/engine/remote.py), so
that an engine's own graphs never show; at 1,000 documents that is 1,002 graphs, twice. This measures, on
Oxigraph server and on Virtuoso loaded with the same build (started as the tests start them:
tests/servers.py, and the Virtuoso section of docs/deploy.md run as written by tests/virtuoso.py), each query
sent as the server sends it (with the list) and as the engine's union (without), paired: the two requests
are measured one after the other, query by query, and the report gives each side's median and their\nratio; a side that fails (an engine's time limit) says so.

    .venv/bin/python benchmarks/graph_list.py --build-dir /tmp/n1000/build [--rounds 7]
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
from server.engine.remote import GRAPH_TYPE, RESULTS_TYPE, RemoteStore, protocol_fields  # noqa: E402
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


def measure(url: str, build_dir: Path, work: dict[str, str], rounds: int) -> Iterator[tuple[str, ...]]:
    """(query, with the list, without, ratio, request bytes with, without) for each query.

    The two sides are measured one after the other for each query, so the machine's drift between them is
    that of a few seconds.
    """
    remote = RemoteStore(url, TIMEOUT, build_dir, load_settings({"build_dir": build_dir}).graph_base)
    graphs = remote.graphs  # what `cdv serve --endpoint` sends: read from the engine's metadata graph
    session = requests.Session()
    for name, query in work.items():
        accept = GRAPH_TYPE if query.startswith("DESCRIBE") else RESULTS_TYPE
        with_list = protocol_fields(query, graphs, graphs)
        without = protocol_fields(query, None, None)
        sides = [median_time(session, url, fields, accept, rounds) for fields in (with_list, without)]
        both = [float(side.split()[0]) for side in sides if side.endswith(" ms")]
        ratio = f"{both[0] / both[1]:.2f}" if len(both) == 2 else "—"
        yield name, *sides, ratio, f"{len(urlencode(with_list)):,} B", f"{len(urlencode(without)):,} B"


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
            sends = (
                "the list" if remote.dataset(None, None)[0] else "no list (the engine holds the build only)"
            )
            print(f"\n### {engine}: {len(remote.graphs)} graphs in the list, {args.rounds} paired rounds\n")
            print(f"`cdv serve --endpoint` sends {sends} with a query that names no dataset.\n")
            print(
                "| query | with the list (median) | without (median) | ratio | request with | request without |"
            )
            print("|---|---|---|---|---|---|")
            for row in measure(url, args.build_dir, work, args.rounds):
                print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
