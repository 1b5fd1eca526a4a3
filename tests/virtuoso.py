"""Virtuoso (Debian's `virtuoso-opensource`) as a remote SPARQL engine for the tests, set up by docs/deploy.md.

The Virtuoso section of docs/deploy.md is run as written: its shell block that prepares the database folder
and `virtuoso.ini` (through bash), its start command (here under Popen, so the test owns the process), and its
SQL blocks (through `isql-vt`). Only the folders, the ports and the password are changed, so a step that is
wrong in the docs fails here. The package is installed when missing, as scripts/test does for Chromium.
"""

from __future__ import annotations

import re
import secrets
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from server.core.config import PROJECT_ROOT
from server.engine.release import Release

from .servers import _stop, _wait_engine, free_port

DEPLOY = PROJECT_ROOT / "docs" / "deploy.md"
SECTION = "### Virtuoso (open source 7)"
DOC_PASSWORD = "change-this-password"
# The docs' cap (1,000,000 rows) is too many rows for a test to exceed quickly: the tests lower it to
# Debian's default, above every answer of the build (6,860 quads), so that a test can reach it in milliseconds.
TEST_MAX_ROWS = 10000


@dataclass(frozen=True)
class DeploySteps:
    """The Virtuoso section of docs/deploy.md, block by block."""

    prepare: str  # sh: database folder, virtuoso.ini, the build's files in the load folder
    start: str  # sh: the server's command line
    load: str  # sql: password, bulk load, checkpoint
    replace: str  # sql: clear the build's graphs and the load list, load again


def fenced_blocks(markdown: str) -> list[tuple[str, str]]:
    """The (language, text) of every fenced code block."""
    return [(m[1], m[2]) for m in re.finditer(r"^```(\w*)\n(.*?)^```", markdown, flags=re.M | re.S)]


def deploy_steps(markdown: str) -> DeploySteps:
    """The steps of the Virtuoso section of the deployment guide."""
    section = markdown.split(SECTION, 1)[1]
    section = re.split(r"^##+ ", section, maxsplit=1, flags=re.M)[0]
    blocks = fenced_blocks(section)
    shell = [text for lang, text in blocks if lang == "sh"]
    sql = [text for lang, text in blocks if lang == "sql"]
    prepare = next(text for text in shell if "inifile" in text)
    start = next(text for text in shell if text.startswith("virtuoso-t "))
    return DeploySteps(prepare, start, sql[0], sql[1])


@dataclass(frozen=True)
class Place:
    """Where this test's Virtuoso lives: folders, ports, password."""

    root: Path
    sql_port: int
    http_port: int
    password: str
    release: Release

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/sparql"

    def localise(self, text: str) -> str:
        """A step of the docs with this test's folders, ports and password."""
        for doc, here in (
            ("/srv/virtuoso", str(self.root / "virtuoso")),
            ("/srv/cdv", str(self.root / "cdv")),
            ("127.0.0.1:1111", f"127.0.0.1:{self.sql_port}"),
            ("127.0.0.1:8890", f"127.0.0.1:{self.http_port}"),
            ("releases/<build-id>/", str(self.release.path) + "/"),
            (DOC_PASSWORD, self.password),
        ):
            text = text.replace(doc, here)
        return text


def ensure_installed() -> None:
    """Install Debian's virtuoso-opensource when `virtuoso-t` is missing (scripts/debian-packages)."""
    if shutil.which("virtuoso-t") is None:
        subprocess.run(
            [str(PROJECT_ROOT / "scripts" / "debian-packages"), "virtuoso-t:virtuoso-opensource"], check=True
        )


def isql(place: Place, sql: str, password: str) -> str:
    """Run SQL statements with isql-vt; its output, or RuntimeError naming the failed statement."""
    result = subprocess.run(
        ["isql-vt", f"127.0.0.1:{place.sql_port}", "dba", password],
        input=sql,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    if result.returncode != 0 or "*** Error" in output:
        raise RuntimeError(f"isql-vt failed:\n{output}")
    return output


def run_steps(steps: DeploySteps, place: Place, log_dir: Path) -> Iterator[str]:
    """Prepare, start and load Virtuoso by the docs; yields its SPARQL endpoint while it runs."""
    subprocess.run(["bash", "-euo", "pipefail", "-c", place.localise(steps.prepare)], check=True)
    ini = place.root / "virtuoso" / "virtuoso.ini"
    cap = ["+section", "SPARQL", "+key", "ResultSetMaxRows", "+value", str(TEST_MAX_ROWS)]
    subprocess.run(["inifile", "+inifile", str(ini), *cap], check=True)
    log_path = log_dir / f"virtuoso-{place.http_port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            shlex.split(place.localise(steps.start)),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=place.root / "virtuoso",
        )
    try:
        _wait_engine(place.endpoint, process, log_path, 120.0)
        output = isql(place, place.localise(steps.load), "dba")
        if re.search(r"\.nq(\.gz)?\s+2\s+NULL", output) is None or re.search(r"\.nq(\.gz)?\s+[^2\s]", output):
            raise RuntimeError(f"the bulk load did not load every file:\n{output}")
        yield place.endpoint
    finally:
        _stop(process)


@contextmanager
def run_virtuoso(release: Release, root: Path) -> Iterator[Place]:
    """Debian's Virtuoso on loopback ports of its own, a database in `root`, the build loaded by the docs."""
    ensure_installed()
    place = Place(root, free_port(), free_port(), secrets.token_hex(12), release)
    steps = deploy_steps(DEPLOY.read_text("utf-8"))
    runner = run_steps(steps, place, root)
    next(runner)
    try:
        yield place
    finally:
        runner.close()
