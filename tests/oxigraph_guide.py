"""Oxigraph server as a remote SPARQL engine for the tests, set up by docs/deploy.md as written.

The shell block of the guide's Oxigraph server section is run line by line in the release folder: its
`oxigraph load` and the copy of the release folder through bash, its `serve-read-only` under Popen (so the
test owns the process). Only the folders and the port change, so a step that is wrong in the guide fails here.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from server.engine.release import Release

from .servers import _stop, _wait_engine, free_port, oxigraph_binary
from .virtuoso import DEPLOY, fenced_blocks

SECTION = "### Oxigraph server"


def guide_lines(markdown: str) -> list[str]:
    """The command lines of the Oxigraph server section's shell block."""
    section = markdown.split(SECTION, 1)[1]
    section = re.split(r"^##+ ", section, maxsplit=1, flags=re.M)[0]
    block = next(text for lang, text in fenced_blocks(section) if lang == "sh")
    return [line for line in block.splitlines() if line.strip()]


def localise(line: str, root: Path, release: Release, port: int) -> str:
    """A line of the guide with this test's folders, port and build id."""
    for doc, here in (
        ("/srv/", f"{root}/"),
        ("<build-id>", release.path.name),
        ("127.0.0.1:7878", f"127.0.0.1:{port}"),
    ):
        line = line.replace(doc, here)
    return line


@contextmanager
def run_oxigraph_by_the_guide(release: Release, root: Path) -> Iterator[str]:
    """Oxigraph server loaded and started by docs/deploy.md on a free loopback port: its query URL."""
    port = free_port()
    lines = [localise(line, root, release, port) for line in guide_lines(DEPLOY.read_text("utf-8"))]
    serve = next(line for line in lines if " serve-read-only " in line)
    for line in lines[: lines.index(serve)]:  # load, copy the release folder
        command = (
            line.replace("oxigraph ", f"{oxigraph_binary()} ", 1) if line.startswith("oxigraph ") else line
        )
        subprocess.run(["bash", "-euo", "pipefail", "-c", command], check=True, cwd=release.path)
    log_path = root / f"oxigraph-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [oxigraph_binary(), *shlex.split(serve)[1:]],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/query"
    try:
        _wait_engine(url, process, log_path, 60.0)
        yield url
    finally:
        _stop(process)
