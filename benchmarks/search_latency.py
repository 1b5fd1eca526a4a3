"""Search latency: the build's full-text index in-process, against the portable CONTAINS query on Oxigraph server.

    .venv/bin/python benchmarks/search_latency.py --build-dir build [--queries 200] [--contains 20] [--oxigraph]

Prints p50/p90 (milliseconds) of: the index alone (one page of 20 hits with snippets and facets), `/search`
through the Flask app (test client, JSON), the named query `search-measures` answered from the index, and with
`--oxigraph` the same named query's SPARQL (CONTAINS over normalised text) POSTed to `oxigraph
serve-read-only --union-default-graph` started on a copy of the release's store, on a loopback port.
The words are the most frequent long words of the measures' texts: searches that find something.
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.core.config import load_settings  # noqa: E402
from server.core.library import find, load_library  # noqa: E402
from server.core.search_syntax import parse_search  # noqa: E402
from server.engine.named_queries import run  # noqa: E402
from server.engine.release import current_release  # noqa: E402
from server.engine.search_index import FILENAME, SearchIndex  # noqa: E402
from server.engine.store import EmbeddedStore  # noqa: E402
from server.web.app import create_app  # noqa: E402

MEASURE_TEXTS = """PREFIX cdv: <https://w3id.org/cdv/ontology#>
SELECT ?t WHERE { ?m a cdv:Mesure ; cdv:texte ?t } LIMIT 5000"""


def words(store: ox.Store, count: int) -> list[str]:
    """The most frequent words of 7+ letters of the measures' texts."""
    rows = store.query(MEASURE_TEXTS, use_default_graph_as_union=True)
    found = Counter(w.lower() for row in rows for w in re.findall(r"[^\W\d_]{7,}", row["t"].value))  # type: ignore[index]
    return [w for w, _n in found.most_common(count)]


def timed(calls: list[Callable[[], object]]) -> list[float]:
    """Milliseconds of each call."""
    out = []
    for call in calls:
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    return out


def report(name: str, ms: list[float]) -> float:
    p50 = statistics.median(ms)
    p90 = statistics.quantiles(ms, n=10)[-1] if len(ms) > 1 else ms[0]
    print(f"{name:<44} n={len(ms):<4} p50={p50:9.3f} ms  p90={p90:9.3f} ms")
    return p50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def oxigraph_contains(store_path: Path, sparqls: list[str], oxigraph: str) -> list[float]:
    """POST each query to Oxigraph server on a copy of the store; milliseconds of each answer."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "store"
        shutil.copytree(store_path, copy)
        port = free_port()
        command = [oxigraph, "serve-read-only", "--location", str(copy), "--bind", f"127.0.0.1:{port}"]
        server = subprocess.Popen([*command, "--union-default-graph"], stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}/query"
            for _ in range(100):
                try:
                    requests.post(url, data={"query": "ASK {}"}, timeout=1)
                    break
                except requests.ConnectionError:
                    time.sleep(0.1)
            accept = {"Accept": "application/sparql-results+json"}
            requests.post(url, data={"query": sparqls[0]}, headers=accept, timeout=600)  # warm-up
            return timed(
                [
                    lambda q=q: requests.post(
                        url, data={"query": q}, headers=accept, timeout=600
                    ).raise_for_status()
                    for q in sparqls
                ]
            )
        finally:
            server.terminate()
            server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--contains", type=int, default=20, help="CONTAINS queries sent to Oxigraph server")
    parser.add_argument("--oxigraph", action="store_true")
    parser.add_argument(
        "--oxigraph-bin", default=shutil.which("oxigraph", path=str(Path(sys.executable).parent))
    )
    args = parser.parse_args()

    release = current_release(args.build_dir)
    store = EmbeddedStore(ox.Store.read_only(str(release.store_path)), release.build_id, release.store_path)
    index = SearchIndex(release.path / FILENAME)
    vocabulary = words(store.raw, 20)
    sample = [vocabulary[i % len(vocabulary)] for i in range(args.queries)]
    print(
        f"build {release.build_id}: {release.manifest['triples']} triples; words: {', '.join(vocabulary[:8])}…"
    )

    # cache_bytes=0: time the search, not the shared result cache in front of it
    client = create_app(load_settings({"build_dir": args.build_dir, "cache_bytes": 0})).test_client()
    named = find(load_library(ROOT / "queries"), "search-measures")
    for word in vocabulary:  # warm-up: page cache, connections
        index.search(parse_search(word))
        client.get("/search", query_string={"q": word, "format": "json"})
    report(
        "index (20 hits, snippets, facets)",
        timed([lambda w=w: index.search(parse_search(w)) for w in sample]),
    )
    report(
        "GET /search?format=json (Flask, no result cache)",
        timed([lambda w=w: client.get("/search", query_string={"q": w, "format": "json"}) for w in sample]),
    )
    ours = report(
        "named query search-measures (index)",
        timed([lambda w=w: run(store, named, {"texte": w}) for w in sample]),
    )
    if args.oxigraph:
        contains = [
            re.sub(r'VALUES \?texte \{ "[^"]*" \}', f'VALUES ?texte {{ "{w}" }}', named.sparql)
            for w in sample[: args.contains]
        ]
        theirs = report(
            "search-measures CONTAINS on Oxigraph server",
            oxigraph_contains(release.store_path, contains, args.oxigraph_bin),
        )
        print(f"ratio CONTAINS on Oxigraph server / named query from the index: {theirs / ours:.1f}x")


if __name__ == "__main__":
    main()
