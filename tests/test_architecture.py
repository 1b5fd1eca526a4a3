"""The house rules of server/ (docs/architecture.md): import-linter contracts, a light extractor, parts that say
what they hold, and pyoxigraph's Store opened by the engine and the build only."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from server.core.config import PROJECT_ROOT

SERVER = PROJECT_ROOT / "server"
PARTS = ("cli", "web", "build", "extract", "engine", "core")
PYOXIGRAPH_ALLOWED = ("server/engine/", "server/build/", "server/core/rdf.py")


def test_the_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 kept, 0 broken" in done.stdout, done.stdout


@pytest.mark.parametrize(
    ("module", "absent"),
    [
        ("server.extract", ("flask", "werkzeug", "gunicorn", "pyshacl")),
        ("server", ("flask", "pyoxigraph", "rdflib")),
        ("server.core.negotiation", ("flask", "pyoxigraph")),
        ("server.cli.main", ("flask", "gunicorn", "rdflib", "pyoxigraph")),
        # what gunicorn's master imports (tests/test_serve.py follows it up to the arbiter's start)
        ("server.web.serve", ("flask", "werkzeug", "jinja2", "rdflib", "pyoxigraph", "server.web.app")),
        ("server.engine.release", ("pyoxigraph",)),
    ],
)
def test_importing_a_part_loads_nothing_it_does_not_need(module: str, absent: tuple[str, ...]) -> None:
    code = f"import {module}, sys; print(' '.join(m for m in {absent!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"import {module} loaded {done.stdout.strip()}"


@pytest.mark.parametrize("part", PARTS)
def test_each_part_says_what_it_holds_and_what_it_may_use(part: str) -> None:
    doc = ast.get_docstring(ast.parse((SERVER / part / "__init__.py").read_text("utf-8")))
    assert doc and "May use" in doc, part


def _imports_pyoxigraph(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "pyoxigraph" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "pyoxigraph":
            return True
    return False


def test_pyoxigraph_is_imported_by_the_engine_and_the_build_only() -> None:
    importers = sorted(
        str(p.relative_to(PROJECT_ROOT)) for p in SERVER.rglob("*.py") if _imports_pyoxigraph(p)
    )
    assert importers, "no module imports pyoxigraph: the check itself is broken"
    assert [p for p in importers if not p.startswith(PYOXIGRAPH_ALLOWED)] == []
