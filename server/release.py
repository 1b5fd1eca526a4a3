"""The published artefact on disk: build/releases/<id>/ and the build/current link to the live one."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CURRENT = "current"
RELEASES = "releases"
MANIFEST = "manifest.json"
STORE = "store"
DUMPS = "dumps"


class NoRelease(RuntimeError):
    """No valid build has been published yet."""


@dataclass(frozen=True)
class Release:
    """One published build: its folder and its manifest."""

    path: Path
    manifest: dict[str, Any]

    @property
    def build_id(self) -> str:
        return str(self.manifest["build_id"])

    @property
    def store_path(self) -> Path:
        return self.path / STORE

    @property
    def dumps_path(self) -> Path:
        return self.path / DUMPS


def read_release(path: Path) -> Release:
    """Read the release in `path` (a release folder)."""
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise NoRelease(f"{path} is not a published build (no {MANIFEST})")
    return Release(path=path.resolve(), manifest=json.loads(manifest_path.read_text("utf-8")))


def current_release(build_dir: Path) -> Release:
    """The release that build_dir/current points to."""
    link = build_dir / CURRENT
    if not link.exists():
        raise NoRelease(f"nothing published in {build_dir}: run `cdv build` first")
    return read_release(link.resolve())


def publish(build_dir: Path, release_dir: Path) -> None:
    """Point build_dir/current at release_dir atomically (rename of a symlink)."""
    tmp_link = build_dir / f".{CURRENT}.{os.getpid()}"
    if tmp_link.is_symlink():
        tmp_link.unlink()
    tmp_link.symlink_to(release_dir.relative_to(build_dir), target_is_directory=True)
    os.replace(tmp_link, build_dir / CURRENT)


def prune(build_dir: Path, keep: int = 3) -> None:
    """Remove old releases, keeping the current one and the `keep` newest."""
    import shutil

    root = build_dir / RELEASES
    if not root.is_dir():
        return
    current = (build_dir / CURRENT).resolve() if (build_dir / CURRENT).exists() else None
    releases = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.name, reverse=True)
    for old in releases[keep:]:
        if old.resolve() != current:
            shutil.rmtree(old, ignore_errors=True)
