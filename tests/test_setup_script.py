"""scripts/debian-packages: each command the suite needs is checked on its own, and only missing ones installed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from server.core.config import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "debian-packages"
PAIRS = ("chromium:chromium", "chromedriver:chromium-driver")


def _fake(folder: Path, name: str, body: str = "exit 0") -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


@pytest.mark.parametrize(
    ("present", "installed"),
    [
        ((), "chromium chromium-driver"),
        (("chromium",), "chromium-driver"),  # a desktop with the browser but not its driver
        (("chromedriver",), "chromium"),
        (("chromium", "chromedriver"), None),
    ],
)
def test_only_missing_packages_are_installed(
    tmp_path: Path, present: tuple[str, ...], installed: str | None
) -> None:
    """A PATH of stand-ins: apt-get records its arguments (installing for real is what the set-up does)."""
    log = tmp_path / "apt.log"
    for name in present:
        _fake(tmp_path, name)
    _fake(tmp_path, "apt-get", f'echo "$@" >> {log}')
    _fake(tmp_path, "id", "echo 0")  # as root, as in CI: no sudo
    (tmp_path / "env").symlink_to("/usr/bin/env")
    done = subprocess.run(
        ["/bin/bash", str(SCRIPT), *PAIRS], env={"PATH": str(tmp_path)}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines() if log.exists() else []
    assert calls == ([] if installed is None else ["update -qq", f"install -y -qq {installed}"])
