"""The published artefact on disk: build/releases/<id>/ and the build/current link to the live one."""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.core.config import Settings

CURRENT = "current"
RELEASES = "releases"
MANIFEST = "manifest.json"
STORE = "store"
DUMPS = "dumps"
METADATA = "metadata"  # the release folder holding catalog.nt, void.nt and shapes.nt
SOURCES = "sources"  # the source texts the documents cite (cdv:fichier), carried by the build
CACHES = "cache"  # <build_dir>/cache/<build-id>/: the result cache of each build (server/web/result_cache.py)


def dump_stem(graph_iri: str, settings: Settings) -> str:
    """File stem of a graph's dumps: `le-quesnoy/avenant-2020-2022` → `le-quesnoy_avenant-2020-2022`.

    Slugs never hold `_` (docs/model.md), so the name maps back to one graph.
    """
    return graph_iri.removeprefix(settings.graph_base).replace("/", "_")


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

    @property
    def sources_path(self) -> Path:
        return self.path / SOURCES


def read_release(path: Path) -> Release:
    """Read the release in `path` (a release folder)."""
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise NoRelease(f"{path} is not a published build (no {MANIFEST})")
    version = manifest_path.stat()
    return Release(
        path=path.resolve(), manifest=_manifest(str(manifest_path), version.st_mtime_ns, version.st_size)
    )


@lru_cache(maxsize=16)
def _manifest(path: str, mtime_ns: int, size: int) -> dict[str, Any]:
    """A manifest's content, parsed once per version of the file: requests read it (the catalogue's routes,
    the service description, the ontology page) and at 1,000 documents it is 2.7 MB, 33 ms to parse.
    Shared between callers, who only read it."""
    return json.loads(Path(path).read_text("utf-8"))


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


def hold(release: Release) -> int:
    """Mark `release` as in use by this process until it exits: `prune` leaves it alone meanwhile.

    A shared `flock` on its manifest, on a descriptor never closed: the kernel drops the lock when the process
    ends, however it ends (a worker still finishing requests on an older build after a new one is published,
    a worker killed by a signal). Returns the descriptor.
    """
    fd = os.open(release.path / MANIFEST, os.O_RDONLY | os.O_CLOEXEC)
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def in_use(release_dir: Path) -> bool:
    """Whether a process holds `release_dir` (see `hold`), this one included."""
    try:
        fd = os.open(release_dir / MANIFEST, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:  # no manifest: not a release anyone can have opened
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also releases the probe's own lock
    return False


def prune(build_dir: Path, keep: int = 3) -> None:
    """Remove old releases, keeping the current one, the `keep` newest, and any a running server still reads."""
    import shutil

    root = build_dir / RELEASES
    if not root.is_dir():
        return
    current = (build_dir / CURRENT).resolve() if (build_dir / CURRENT).exists() else None
    releases = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.name, reverse=True)
    for old in releases[keep:]:
        if old.resolve() != current and not in_use(old):
            shutil.rmtree(old, ignore_errors=True)
    prune_caches(build_dir)


def prune_caches(build_dir: Path) -> None:
    """Remove the result caches of builds that are gone, or that are neither current nor served by anyone.

    A kept release that comes back into service starts with an empty cache: old answers cost disk for nothing.
    """
    import shutil

    root = build_dir / CACHES
    if not root.is_dir():
        return
    current = (build_dir / CURRENT).resolve() if (build_dir / CURRENT).exists() else None
    for folder in (p for p in root.iterdir() if p.is_dir()):
        release = build_dir / RELEASES / folder.name
        if release.is_dir() and (release.resolve() == current or in_use(release)):
            continue
        shutil.rmtree(folder, ignore_errors=True)
