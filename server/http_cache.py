"""App-wide HTTP caching: validators derived from the build, conditional requests, compression, discovery.

Between two builds nothing the server says changes, so a response's identity is (build id, path and query,
negotiated variant): that is its `ETag`, and the build's time is its `Last-Modified`. Three `after_request`
steps run in this order (Flask runs app-wide hooks in reverse order of registration):

1. `_add_validators`: `ETag`, `Last-Modified` and `Cache-Control: public, no-cache` (always revalidate, so a
   new build is seen at once; revalidation is a 304 without body) on GET/HEAD 200 responses that are not
   streamed (streamed SPARQL results and file downloads are left alone; dumps set their own validators);
2. Flask-Compress: gzip (or brotli) of text responses the client accepts, suffixing a strong ETag with the
   coding (`"…:gzip"`), since a compressed body is another representation;
3. `_evaluate`: werkzeug's `Response.make_conditional` answers `If-None-Match` / `If-Modified-Since` with
   304 (and `If-Match` with 412), on the ETag as finally sent.

Streamed responses are not compressed (`COMPRESS_STREAMS = False`): compressing a stream buffers it, which
would delay SPARQL results and break `Content-Length` and ranges on downloads; the dumps have `.gz` twins,
and `/dumps/` serves an uncompressed dump from its twin with `Content-Encoding: gzip` when the client takes it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, request
from flask_compress import Compress

from .metadata import built_at

F = TypeVar("F", bound=Callable[..., Any])

TEXT_TYPES = [
    "text/html",
    "text/css",
    "text/plain",
    "text/xml",
    "text/csv",
    "text/tab-separated-values",
    "text/turtle",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/xml",
    "application/ld+json",
    "application/n-triples",
    "application/n-quads",
    "application/rdf+xml",
    "application/trig",
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "application/xhtml+xml",
    "image/svg+xml",
]
_EXEMPT = "_cdv_no_validators"


def exempt(view: F) -> F:
    """Mark a view whose 200 answers must not get build-derived validators (e.g. answers that vary in time)."""
    setattr(view, _EXEMPT, True)
    return view


def etag_for(build_id: str, path: str, query: bytes | str, variant: str) -> str:
    """The entity tag of a response: a digest of the build, the request target and the variant."""
    raw = query.decode("latin-1") if isinstance(query, bytes) else query
    return hashlib.sha256("\0".join((build_id, path, raw, variant)).encode()).hexdigest()[:32]


def current_build_id() -> str | None:
    """The build the serving store comes from, or None when no store can be opened."""
    from . import backend

    try:
        return backend().build_id
    except Exception:  # no published build: answers carry no validators, whatever the reason
        return None


def init_http_cache(app: Flask) -> None:
    """Install validators, compression and conditional requests on every response of `app`."""
    app.config.setdefault("COMPRESS_MIMETYPES", TEXT_TYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["gzip", "br"])
    app.config.setdefault("COMPRESS_STREAMS", False)
    app.config.setdefault("COMPRESS_EVALUATE_CONDITIONAL_REQUEST", False)  # done by _evaluate, below
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    app.after_request(_evaluate)  # registered first: runs last
    Compress(app)
    app.after_request(_add_validators)  # registered last: runs first
    app.after_request(_discovery_links)


def _cacheable(response: Response) -> bool:
    """Whether build-derived validators are true for this response."""
    if request.method not in ("GET", "HEAD") or response.status_code != 200 or response.is_streamed:
        return False
    if response.cache_control.no_store:
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return not getattr(view, _EXEMPT, False)


def _add_validators(response: Response) -> Response:
    """ETag, Last-Modified and Cache-Control from the build (step 1)."""
    if not _cacheable(response):
        return response
    build_id = current_build_id()
    if build_id is None:
        return response
    if response.get_etag()[0] is None:
        variant = f"{response.content_type}|{response.headers.get('Content-Language', '')}"
        response.set_etag(etag_for(build_id, request.path, request.query_string, variant))
    if response.last_modified is None:
        response.last_modified = built_at(build_id)
    if not response.headers.get("Cache-Control"):
        response.cache_control.public = True
        response.cache_control.no_cache = True
    return response


def _evaluate(response: Response) -> Response:
    """Answer conditional requests on the final validators (step 3)."""
    evaluable = request.method in ("GET", "HEAD") and response.status_code == 200
    has_validator = response.get_etag()[0] is not None or response.last_modified is not None
    if evaluable and has_validator and not response.is_streamed:
        response.make_conditional(request)
    return response


def _discovery_links(response: Response) -> Response:
    """The home page names its machine-readable descriptions: the DCAT catalogue and the VoID."""
    if request.path == "/" and request.method in ("GET", "HEAD") and response.status_code in (200, 304):
        root = request.script_root.rstrip("/")
        response.headers.add("Link", f'<{root}/catalog>; rel="describedby"; type="text/turtle"')
        response.headers.add("Link", f'<{root}/.well-known/void>; rel="describedby"; type="text/turtle"')
    return response
