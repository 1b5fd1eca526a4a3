"""Where an HTML resource page's time goes, stage by stage, in one process (no HTTP server, no result cache).

    .venv/bin/python benchmarks/page_cost.py --build-dir /tmp/n1/build [--passes 20] [--sample N]

Calls the Flask app (the WSGI callable, as gunicorn would) for the 40 resource pages of `bench.py --plan page`
(or N drawn from all the build's, `--sample`), once to warm up, then `--passes` times, and prints milliseconds of wall time per page: the whole request, each
stage of the page (each a function of server/web/pages.py, timed where the view calls it), and the store's
queries alone (pyoxigraph's `Store.query`, including reading their rows). Stages nest (`_resource_html` holds
`context`, `label_triples`, `resource_page`, `render_template`); the store's line overlaps the stages that
query. Not a test: it prints figures, for whoever works on the pages' cost (issue 19's item 3).
"""

from __future__ import annotations

import argparse
import io
import logging
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench  # noqa: E402
import pyoxigraph as ox  # noqa: E402
from werkzeug.test import EnvironBuilder  # noqa: E402

import server.web.pages as pages  # noqa: E402
from server.engine.store import EmbeddedStore  # noqa: E402
from server.web.app import create_app  # noqa: E402
from server.web.catalog import resource_pages  # noqa: E402
from server.web.context import settings  # noqa: E402

KINDS_SHOWN = 12
STAGES = ("describe", "_resource_html", "context", "label_triples", "resource_page", "render_template")


def timed(function: Callable[..., Any], label: str, spent: Counter[str]) -> Callable[..., Any]:
    """`function`, adding its wall time to `spent[label]` at each call."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - started

    return wrapper


class TimedRows:
    """A query's answer whose reading is timed too (pyoxigraph evaluates as the rows are read); anything else
    (`variables`) is the answer's own."""

    def __init__(self, result: Any, spent: Counter[str]) -> None:
        self._result, self._spent = result, spent

    def __iter__(self) -> Iterator[Any]:
        rows = iter(self._result)
        while True:
            started = time.perf_counter()
            try:
                row = next(rows)
            except StopIteration:
                return
            finally:
                self._spent["store queries"] += time.perf_counter() - started
            yield row

    def __getattr__(self, name: str) -> Any:
        return getattr(self._result, name)


def store_query(spent: Counter[str]) -> Callable[..., Any]:
    """EmbeddedStore.query, timed with the reading of its rows."""
    original = EmbeddedStore.query

    def query(self: EmbeddedStore, sparql: str, **kwargs: Any) -> Any:
        started = time.perf_counter()
        result = original(self, sparql, **kwargs)
        spent["store queries"] += time.perf_counter() - started
        return result if isinstance(result, ox.QueryBoolean) else TimedRows(result, spent)

    return query


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", type=Path, required=True)
    parser.add_argument("--passes", type=int, default=20)
    parser.add_argument(
        "--sample",
        type=int,
        help="N resource pages drawn from all the build's (seed 1) instead of bench.py's 40",
    )
    args = parser.parse_args(argv)
    app = create_app({"build_dir": str(args.build_dir), "cache_bytes": 0, "query_workers": 0})
    logging.getLogger("cdv").handlers[:] = [logging.NullHandler()]  # no access log on the terminal
    logging.getLogger("cdv").propagate = False
    if args.sample:
        with app.app_context():
            base = settings().id_base
            iris = resource_pages(base)
        random.Random(1).shuffle(iris)
        paths = ["/id/" + iri.removeprefix(base) for iri in iris[: args.sample]]
    else:
        paths = [r.cdv.path for r in bench.workload(args.build_dir / "current" / "store", 200)["page"]]
    spent: Counter[str] = Counter()
    for name in STAGES:
        setattr(pages, name, timed(getattr(pages, name), name, spent))
    EmbeddedStore.query = store_query(spent)  # type: ignore[method-assign]

    def request(path: str) -> float:
        environ = EnvironBuilder(path=path, headers={"Accept": "text/html"}).get_environ()
        environ["wsgi.input"] = io.BytesIO()
        status = []
        started = time.perf_counter()
        b"".join(app(environ, lambda s, h, e=None: status.append(s)))
        if not status[0].startswith("200"):
            raise SystemExit(f"{path}: {status[0]}")
        return time.perf_counter() - started

    for path in paths:
        request(path)
    spent.clear()
    by_kind: dict[str, list[float]] = {}
    for _ in range(args.passes):
        for path in paths:
            by_kind.setdefault(kind(path), []).append(request(path))
    count = args.passes * len(paths)
    whole = sum(sum(times) for times in by_kind.values())
    print(f"{len(paths)} pages x {args.passes} passes, ms of wall time per page")
    print(f"  {'whole request (WSGI app)':<28}{1000 * whole / count:7.3f}")
    for label, seconds in spent.most_common():
        print(f"  {label:<28}{1000 * seconds / count:7.3f}")
    print("by kind of page (its path without the document and numbers): pages, ms per page")
    for name, times in sorted(by_kind.items(), key=lambda item: -sum(item[1]))[:KINDS_SHOWN]:
        print(f"  {name:<44}{len(times) // args.passes:5d}{1000 * sum(times) / len(times):9.2f}")


def kind(path: str) -> str:
    """Pure: a page's kind, its path without the document's name and numbers (`mesure`, `axe`,
    `contribution/<partner>/liste`, the document itself); for a resource of no document, its first part
    (`organisation`)."""
    parts = path.removeprefix("/id/").split("/")
    if len(parts) < 2 or not parts[1].startswith("avenant"):
        return parts[0]
    return "/".join(p for p in parts[2:] if not p.isdigit()) or "(the document)"


if __name__ == "__main__":
    main()
