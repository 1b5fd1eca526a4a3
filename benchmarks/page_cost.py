"""Where an HTML resource page's time goes, stage by stage, in one process (no HTTP server, no result cache).

    .venv/bin/python benchmarks/page_cost.py --build-dir /tmp/n1/build [--passes 20]

Calls the Flask app (the WSGI callable, as gunicorn would) for the 40 resource pages of `bench.py --plan page`,
once to warm up, then `--passes` times, and prints milliseconds of wall time per page: the whole request, each
stage of the page (each a function of server/web/pages.py, timed where the view calls it), and the store's
queries alone (pyoxigraph's `Store.query`, including reading their rows). Stages nest (`_resource_html` holds
`context`, `label_triples`, `resource_page`, `render_template`); the store's line overlaps the stages that
query. Not a test: it prints figures, for whoever works on the pages' cost (issue 19's item 3).
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench  # noqa: E402
from werkzeug.test import EnvironBuilder  # noqa: E402

import server.web.pages as pages  # noqa: E402
from server.engine.store import EmbeddedStore  # noqa: E402
from server.web.app import create_app  # noqa: E402

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


def store_query(spent: Counter[str]) -> Callable[..., Any]:
    """EmbeddedStore.query, timed with the reading of its rows (pyoxigraph evaluates lazily)."""
    original = EmbeddedStore.query

    def query(self: EmbeddedStore, sparql: str, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return list(original(self, sparql, **kwargs))
        finally:
            spent["store queries"] += time.perf_counter() - started

    return query


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", type=Path, required=True)
    parser.add_argument("--passes", type=int, default=20)
    args = parser.parse_args(argv)
    app = create_app({"build_dir": str(args.build_dir), "cache_bytes": 0, "query_workers": 0})
    logging.getLogger("cdv").handlers[:] = [logging.NullHandler()]  # no access log on the terminal
    logging.getLogger("cdv").propagate = False
    calls = [r.cdv for r in bench.workload(args.build_dir / "current" / "store", 200)["page"]]
    spent: Counter[str] = Counter()
    for name in STAGES:
        setattr(pages, name, timed(getattr(pages, name), name, spent))
    EmbeddedStore.query = store_query(spent)  # type: ignore[method-assign]

    def request(path: str, accept: str) -> None:
        environ = EnvironBuilder(path=path, headers={"Accept": accept}).get_environ()
        environ["wsgi.input"] = io.BytesIO()
        status = []
        body = app(environ, lambda s, h, e=None: status.append(s))
        b"".join(body)
        if not status[0].startswith("200"):
            raise SystemExit(f"{path}: {status[0]}")

    for call in calls:
        request(call.path, call.accept)
    spent.clear()
    started = time.perf_counter()
    for _ in range(args.passes):
        for call in calls:
            request(call.path, call.accept)
    count = args.passes * len(calls)
    print(f"{len(calls)} pages x {args.passes} passes, ms of wall time per page")
    print(f"  {'whole request (WSGI app)':<28}{1000 * (time.perf_counter() - started) / count:7.3f}")
    for label, seconds in spent.most_common():
        print(f"  {label:<28}{1000 * seconds / count:7.3f}")


if __name__ == "__main__":
    main()
