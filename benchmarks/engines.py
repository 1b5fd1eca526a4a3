"""Two engines, one answer: each request family on the embedded store, Oxigraph server and Virtuoso.

Not a test: it prints a markdown table and asserts nothing (tests/test_engine_families.py requires the same
outcomes). The backends are started the way the tests start them (tests/oxigraph_guide.py, tests/virtuoso.py:
the sections of docs/deploy.md run as written); the families and their comparison are the tests' own
(tests/engine_families.py).

    .venv/bin/python benchmarks/engines.py [--build-dir DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path

from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.build.pipeline import build  # noqa: E402
from server.core.config import Settings, load_settings  # noqa: E402
from server.engine.release import current_release  # noqa: E402
from server.web.app import create_app  # noqa: E402
from tests.engine_families import BACKENDS, DIFFERENCES, Family, families, same_as_embedded  # noqa: E402
from tests.oxigraph_guide import run_oxigraph_by_the_guide  # noqa: E402
from tests.virtuoso import run_virtuoso  # noqa: E402


@contextmanager
def clients(settings: Settings, scratch: Path) -> Iterator[dict[str, FlaskClient]]:
    """An app per backend over the same build, with the tests' short time limit."""
    release = current_release(settings.build_dir)
    with ExitStack() as stack:
        (scratch / "oxigraph").mkdir()
        oxigraph = stack.enter_context(run_oxigraph_by_the_guide(release, scratch / "oxigraph"))
        virtuoso = stack.enter_context(run_virtuoso(release, scratch / "virtuoso")).endpoint
        endpoints = {"embedded": None, "remote": oxigraph, "virtuoso": virtuoso}
        by_backend = {
            name: create_app(replace(settings, endpoint=endpoint)).test_client()
            for name, endpoint in endpoints.items()
        }
        for client in by_backend.values():  # the first query starts the embedded query processes
            client.post("/sparql", data={"query": "ASK {}"})
        yield by_backend


def cell(family: Family, backend: str, status: int, same: bool) -> str:
    """One cell of the table: the status, and identical or the documented difference."""
    if backend == "embedded":
        return f"{status} (reference)"
    if same:
        return f"{status} identical"
    reason = DIFFERENCES.get((family.name, backend), "undocumented")
    return f"{status} **not identical** [{sorted(set(DIFFERENCES.values())).index(reason) + 1 if reason in DIFFERENCES.values() else '?'}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", type=Path, help="an existing build (default: build the project)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cdv-engines-") as tmp:
        scratch = Path(tmp)
        (scratch / "virtuoso").mkdir()
        build_dir = args.build_dir or scratch / "build"
        if args.build_dir is None:
            build(load_settings({"build_dir": build_dir}))
        settings = load_settings({"build_dir": build_dir, "cache_bytes": 0, "query_timeout": 2.0})
        with clients(settings, scratch) as by_backend:
            print("| family | request | compared as | " + " | ".join(BACKENDS.values()) + " |")
            print("|---|---|---|" + "---|" * len(BACKENDS))
            for family in families():
                cells = same_as_embedded(family, by_backend)
                print(
                    f"| {family.group} | {family.name} | {family.compare.value} | "
                    + " | ".join(cell(family, name, *cells[name]) for name in BACKENDS)
                    + " |",
                    flush=True,
                )
            print()
            for number, reason in enumerate(sorted(set(DIFFERENCES.values())), 1):
                print(f"[{number}] {reason}")


if __name__ == "__main__":  # the embedded query processes are started by forkserver: they re-import this
    main()
