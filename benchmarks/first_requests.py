"""Benchmark: the first request of every route family on a fresh `cdv serve`, and the second one.

Not a test: it prints a markdown table and asserts nothing. See benchmarks/README.md.

    .venv/bin/python benchmarks/first_requests.py --build-dir DIR [--timeout S] [--public-url URL]

`--public-url` serves as behind a proxy at that address (CDV_PUBLIC_URL): the catalogue's answers are then
those the build wrote when it was built with the same setting.

It finds a few resources of the build (a measure, the organisation named in most documents, a source text)
by opening the store read-only in this process, then starts `cdv serve --workers 1` (one worker, so the
second request of a route meets the caches the first one filled; the result cache off, so the second one
measures the work again, only warmer) and requests each route once in a fixed order, then each once more.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import pyoxigraph as ox
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.engine.release import current_release  # noqa: E402
from tests.servers import run_server  # noqa: E402

HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CDV = "https://w3id.org/cdv/ontology#"
# Each finder stops at its first rows (LIMIT) so that finding costs little whatever the build's size.
MEASURE = f"SELECT ?r WHERE {{ ?r a <{CDV}Mesure> }} LIMIT 1"
SOURCE = f"SELECT ?r ?f WHERE {{ ?r <{CDV}fichier> ?f }} LIMIT 1"
SHARED = """SELECT ?r (COUNT(?g) AS ?n) WHERE {
  { SELECT ?g WHERE { GRAPH ?g { ?a a <https://w3id.org/cdv/ontology#Avenant> } } LIMIT 10 }
  GRAPH ?g { ?r a <http://www.w3.org/ns/org#Organization> }
} GROUP BY ?r ORDER BY DESC(?n) ?r LIMIT 1"""


def first(store: ox.Store, sparql: str) -> list[str]:
    """The values of the first row of a query on the union of the graphs."""
    row = next(iter(store.query(sparql, use_default_graph_as_union=True)))
    return [term.value for term in row]


def routes(build_dir: Path) -> list[tuple[str, str, str]]:
    """(label, path, Accept) of each route family, in the order they are requested."""
    release = current_release(build_dir)
    store = ox.Store.read_only(str(release.store_path))
    base = "https://w3id.org/cdv/"
    measure = first(store, MEASURE)[0].removeprefix(base)
    shared = first(store, SHARED)[0].removeprefix(base)
    source, file = first(store, SOURCE)
    del store
    partner = base + shared
    lookup = "/api/queries/measures-naming-organisation/parameters/organisation?" + urlencode({"q": "caisse"})
    return [
        ("home", "/", HTML),
        ("a document's resource, HTML", f"/{measure}", HTML),
        ("a document's resource, Turtle", f"/{measure}", "text/turtle"),
        ("a shared resource, HTML", f"/{shared}", HTML),
        ("a shared resource, Turtle", f"/{shared}", "text/turtle"),
        ("a document's source page", "/" + source.removeprefix(base), HTML),
        ("a source text", f"/sources/{quote(file)}", HTML),
        ("/catalog HTML", "/catalog", HTML),
        ("/catalog Turtle", "/catalog", "text/turtle"),
        ("/catalog JSON-LD", "/catalog", "application/ld+json"),
        ("VoID", "/.well-known/void", "text/turtle"),
        ("/api/queries", "/api/queries", "application/json"),
        ("/api/openapi.json", "/api/openapi.json", "application/json"),
        ("a named query (defaults)", "/api/queries/signatories", "application/json"),
        (
            "a named query (a partner)",
            "/api/queries/measures-naming-organisation?organisation=" + quote(partner),
            "application/json",
        ),
        ("a parameter lookup", lookup, "application/json"),
        ("/queries list", "/queries", HTML),
        ("a query form", "/queries/measures-naming-organisation", HTML),
        ("/ontology", "/ontology", HTML),
        ("/sparql service description", "/sparql", "text/turtle"),
        (
            "a SPARQL SELECT",
            "/sparql?" + urlencode({"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 10"}),
            "application/sparql-results+json",
        ),
        ("/search", "/search?" + urlencode({"q": "emploi"}), HTML),
        ("sitemap", "/sitemap.xml", "application/xml"),
    ]


def timed(url: str, accept: str, timeout: float) -> tuple[str, float]:
    """Status (or the error) and wall time of one GET, body read whole."""
    began = time.perf_counter()
    try:
        response = requests.get(url, headers={"Accept": accept}, timeout=timeout)
        status = str(response.status_code)
    except requests.RequestException as err:
        status = type(err).__name__
    return status, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, required=True)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds a request may take")
    parser.add_argument("--public-url", help="CDV_PUBLIC_URL for the server (the build's written root)")
    args = parser.parse_args()
    plan = routes(args.build_dir)
    env = {"CDV_CACHE_BYTES": "0", **({"CDV_PUBLIC_URL": args.public_url} if args.public_url else {})}
    with (
        tempfile.TemporaryDirectory() as logs,
        run_server(args.build_dir, Path(logs), ("--workers", "1"), env=env, startup_timeout=300) as server,
    ):
        firsts = [timed(server.url + path, accept, args.timeout) for _label, path, accept in plan]
        seconds = [timed(server.url + path, accept, args.timeout) for _label, path, accept in plan]
    served_at = f", CDV_PUBLIC_URL={args.public_url}" if args.public_url else ""
    print(f"First requests on `cdv serve --workers 1`, build {args.build_dir}{served_at}\n")
    print("| route | status | first request | second request |")
    print("|---|---|---|---|")
    for (label, _path, _accept), (status, once), (_s, twice) in zip(plan, firsts, seconds, strict=True):
        print(f"| {label} | {status} | {once * 1000:,.0f} ms | {twice * 1000:,.0f} ms |")


if __name__ == "__main__":
    main()
