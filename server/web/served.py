"""The catalogue's answers the build wrote for its own site root, read back at request time.

At 1,000 documents computing the catalogue takes seconds (parsing 490,000 triples, mapping its access links,
serialising) and the sitemap's query over every quad tens of seconds; a release never changes, so the build
writes them once (`server/web/prerender.py`) into `<release>/served/`, for one root: `Settings.public_url`
when set, else the public base itself. A request on that root (and its mount point) gets those bytes; any
other root, or a release without the folder (an older build, `--endpoint` without local files), is computed
as before, by the same functions that wrote them.

Beside each answer the build writes its gzip copy (`<file>.gz`): a client Flask-Compress would gzip for gets
those bytes with `Content-Encoding: gzip`, and Flask-Compress leaves an encoded answer alone (gzip of a
49 MB JSON-LD catalogue took 1 s at each request). A release without the copies (an older build) is served
its plain files, compressed on the request as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from flask import Response, current_app, request

from server.core.config import Settings
from server.core.iris import iri_map, site_root
from server.core.negotiation import Format
from server.web.context import serving_release, settings
from server.web.http_cache import compress_coding

SERVED = "served"  # the release folder holding the precomputed answers
ROOT = "root"  # the site root they were written for, one line
RESOURCES = "resources.txt"  # every resource page's IRI, one a line, in order (root-independent)
GZIP = "gzip"  # the one coding written ahead: Flask-Compress's first choice, and what browsers take
GZIP_SUFFIX = ".gz"


@dataclass(frozen=True)
class Written:
    """An answer's body as the build wrote it, and its content coding (None: the plain file)."""

    body: bytes
    coding: str | None = None


def build_root(cfg: Settings) -> str:
    """The root a build writes its answers for: the public URL when set, else the public base's own."""
    return site_root(cfg.public_url, cfg.base_iri, absolute=True)


def served_key(name: str, fmt: Format) -> str:
    """The file of a metadata document (`catalog.nt`, `void.nt`, `shapes.nt`) in one format."""
    return f"{name.removesuffix('.nt')}.{fmt.name}"


def sitemap_key(page: int | None) -> str:
    """The file of the sitemap (`page` None) or of one of its parts."""
    return "sitemap" if page is None else f"sitemap-{page}"


def _folder() -> Path:
    return serving_release().path / SERVED


def _on_build_root(written_for: str) -> bool:
    """Whether this request's links are those of the root the answers were written for, mount point too."""
    root = iri_map(settings().base_iri, settings().public_url, request.url_root, absolute=True).root
    return root == written_for and request.script_root == urlsplit(written_for).path.rstrip("/")


def written_path(key: str) -> Path | None:
    """The plain file the build wrote for `key` when this request is on its root; None to compute it."""
    folder = _folder()
    written_for = _read(folder / ROOT)
    if written_for is None or not _on_build_root(written_for.decode("utf-8")):
        return None
    path = folder / key
    return path if path.is_file() else None


def precomputed(key: str) -> Written | None:
    """What the build wrote for `key` when this request is on its root (gzipped for a client Flask-Compress
    would gzip for, when the build wrote that copy); None to compute it."""
    path = written_path(key)
    if path is None:
        return None
    if compress_coding(current_app.config, request.headers.get("Accept-Encoding", "")) == GZIP:
        body = _read_whole(path.with_name(path.name + GZIP_SUFFIX))
        if body is not None:
            return Written(body, GZIP)
    body = _read_whole(path)
    return None if body is None else Written(body)


def answer(key: str, content_type: str, compute: Callable[[], bytes]) -> Response:
    """A response with what the build wrote for `key` (encoded as written), else with `compute()`'s bytes."""
    written = precomputed(key) or Written(compute())
    response = Response(written.body, content_type=content_type)
    if written.coding is not None:
        response.headers["Content-Encoding"] = written.coding
    return response


def _read_whole(path: Path) -> bytes | None:
    """A file's bytes, read each time, not kept: a catalogue is tens of MB at 1,000 documents, in every worker."""
    try:
        return path.read_bytes()
    except OSError:
        return None


def served_resources() -> list[str] | None:
    """The resource IRIs the build listed for the sitemap, or None when it listed none."""
    path = _folder() / RESOURCES
    body = _read(path)
    return None if body is None else _lines(str(path), body)


def _read(path: Path) -> bytes | None:
    """A file's bytes (kept per version of the file: these never change within a release), or None."""
    try:
        version = path.stat()
    except OSError:
        return None
    return _cached(str(path), version.st_mtime_ns, version.st_size)


@lru_cache(maxsize=32)
def _cached(path: str, mtime_ns: int, size: int) -> bytes:
    return Path(path).read_bytes()


@lru_cache(maxsize=4)
def _lines(path: str, body: bytes) -> list[str]:
    return body.decode("utf-8").splitlines()
