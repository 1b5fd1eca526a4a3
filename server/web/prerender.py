"""Write into a release the catalogue's answers for the build's own root (read back by `served.py`).

The answers are made by the very functions the views call on a request (`server/web/catalog.py`), in a
request context on the build's root, so the written bytes are what a request there would compute. Each is
written with its gzip copy (`<file>.gz`), which `served.py` sends to gzip clients instead of compressing
tens of MB at each request.
"""

from __future__ import annotations

import gzip
import os
import shutil
from dataclasses import replace
from pathlib import Path

from server.core.config import Settings
from server.core.negotiation import HTML
from server.engine.release import METADATA, STORE
from server.web import catalog
from server.web.app import create_app
from server.web.context import engine
from server.web.served import GZIP_SUFFIX, RESOURCES, ROOT, SERVED, build_root, served_key, sitemap_key

DOCUMENTS = {
    "catalog.nt": catalog.CATALOG_OFFERED,
    "void.nt": catalog.RDF_OFFERED,
    "shapes.nt": catalog.RDF_OFFERED,
}
# Written once, sent many times: the best ratio (5 % smaller than Flask-Compress's level 6 on the catalogue
# of 1,000 documents, for 0.8 s instead of 0.35 s at build time).
GZIP_LEVEL = 9


def write_served_files(release_dir: Path, cfg: Settings) -> Path:
    """Write `<release>/served/`: the catalogue, VoID, shapes and sitemap for the build's root, each with its
    gzip copy, and the resource list; replaces an older folder whole (written beside it, then renamed)."""
    root = build_root(cfg)
    app = create_app(replace(cfg, store_path=release_dir / STORE, endpoint=None, cache_bytes=0))
    staging = release_dir / f".{SERVED}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    with app.test_request_context("/catalog", base_url=root):
        resources = catalog.subject_pages(engine().query(catalog.SITEMAP_QUERY), cfg.id_base)
        (staging / RESOURCES).write_text("".join(iri + "\n" for iri in resources), "utf-8")
        files = _documents(release_dir) | _sitemap(resources)
        for key, body in files.items():
            write_answer(staging / key, body)
        (staging / ROOT).write_text(root, "utf-8")
    final = release_dir / SERVED
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    return final


def write_answer(path: Path, body: bytes) -> None:
    """Write an answer and its gzip copy (no timestamp in it: the same answer gives the same bytes)."""
    path.write_bytes(body)
    gzipped = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
    path.with_name(path.name + GZIP_SUFFIX).write_bytes(gzipped)


def _documents(release_dir: Path) -> dict[str, bytes]:
    """Each metadata document of the release in each format it is offered in, the catalogue's page too."""
    files = {}
    for name, offered in DOCUMENTS.items():
        if not (release_dir / METADATA / name).is_file():
            continue
        for fmt in offered:
            body = catalog.catalog_html() if fmt is HTML else catalog.metadata_body(name, fmt)
            files[served_key(name, fmt)] = body
    return files


def _sitemap(resources: list[str]) -> dict[str, bytes]:
    """The sitemap (an index past 50,000 URLs) and each of its parts."""
    urls = catalog.sitemap_urls(resources)
    files = {sitemap_key(None): catalog.sitemap_body(urls, None)}
    for page in range(1, catalog.sitemap_parts(urls) + 1):
        files[sitemap_key(page)] = catalog.sitemap_body(urls, page)
    return files
