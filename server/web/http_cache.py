"""App-wide HTTP caching: validators derived from the build, conditional requests, compression, discovery.

Between two builds nothing the server says changes, so a response's identity is (build id, path and query,
negotiated variant): that is its `ETag`, and the build's time is its `Last-Modified`. Three `after_request`
steps run in this order (Flask runs app-wide hooks in reverse order of registration):

1. `_add_validators`: `ETag`, `Last-Modified` and `Cache-Control: public, no-cache` (always revalidate, so a
   new build is seen at once; revalidation is a 304 without body) on GET/HEAD 200 responses that are not
   streamed (streamed SPARQL results and file downloads are left alone; dumps set their own validators).
   The same test, whatever the method, tells the shared result cache (server/web/result_cache.py) that the
   answer is a function of the build and the request (`STABLE_ENVIRON_KEY`);
2. Flask-Compress: gzip (or brotli) of text responses the client accepts, suffixing a strong ETag with the
   coding (`"…:gzip"`), since a compressed body is another representation; an answer the view sends
   already encoded (the catalogue's gzip copies written by the build, server/web/served.py) is left as it
   is, its ETag suffixed the same way by step 1;
3. `_evaluate`: werkzeug's `Response.make_conditional` answers `If-None-Match` / `If-Modified-Since` with
   304 (and `If-Match` with 412), on the ETag as finally sent.

Streamed responses are not compressed (`COMPRESS_STREAMS = False`): compressing a stream buffers it, which
would delay SPARQL results and break `Content-Length` and ranges on downloads; the dumps have `.gz` twins,
and `/dumps/` serves an uncompressed dump from its twin with `Content-Encoding: gzip` when the client takes it.

A view whose answers vary in time is marked `exempt`, or answers `Cache-Control: no-store` (a SPARQL query
calling NOW(), RAND()…, see `varies_in_time`): no validators, never stored by the result cache.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import Flask, Response, current_app, request
from flask_compress import Compress
from werkzeug.http import http_date, parse_accept_header
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response as BaseResponse

try:  # Flask-Compress's own choice of coding (private, lru-cached): what the served answers and the keys follow
    from flask_compress.flask_compress import _choose_algorithm
except ImportError:  # pragma: no cover - then no coding is known: keyed on the header, nothing precompressed
    _choose_algorithm = None

from server.core.build_ids import built_at
from server.web.assets import assets_fingerprint
from server.web.context import settings

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
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
STABLE_ENVIRON_KEY = "cdv.stable"  # set on answers that only depend on the build and the request

# SPARQL whose answer changes from one run to the next: the functions of SPARQL 1.1 that read the clock or a
# random source (§17.4), a federated SERVICE, and CONSTRUCT templates with blank nodes (pyoxigraph mints new
# random labels at each run). A text match, not a parse: a false alarm (the word in a string or a comment)
# only costs a cached answer, and the check runs before any parsing, on every request.
_VARIES = re.compile(r"\b(?:NOW|RAND|UUID|STRUUID|BNODE)\s*\(|\bSERVICE\b", re.IGNORECASE)
_CONSTRUCT = re.compile(r"\bCONSTRUCT\b", re.IGNORECASE)
_VARIES_WORDS = ("now", "rand", "uuid", "bnode", "service")  # what `_VARIES` needs, lower-case


def exempt(view: F) -> F:
    """Mark a view whose 200 answers must not get build-derived validators (e.g. answers that vary in time)."""
    setattr(view, _EXEMPT, True)
    return view


def varies_in_time(query: str) -> bool:
    """Whether two runs of a SPARQL query on the same data may answer differently (see `_VARIES`)."""
    # A substring test first: most queries hold none of the words, and it costs a tenth of the
    # case-insensitive search it spares (every query request runs this).
    lowered = query.lower()
    if any(word in lowered for word in _VARIES_WORDS) and _VARIES.search(query):
        return True
    return "construct" in lowered and bool(_CONSTRUCT.search(query)) and ("_:" in query or "[" in query)


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    """A query string's arguments, decoded, sorted by name (values of one name keep their order), re-encoded.

    `?b=2&a=1` and `?a=1&b=2` ask the same thing: no view reads the order of two different names.
    """
    return urlencode(sorted(pairs, key=lambda pair: pair[0]))


def etag_for(build_id: str, path: str, query: bytes | str, variant: str) -> str:
    """The entity tag of a response: a digest of the build, the request target and the variant."""
    raw = query.decode("latin-1") if isinstance(query, bytes) else query
    return hashlib.sha256("\0".join((build_id, path, raw, variant)).encode()).hexdigest()[:32]


def without_refused_codings(header: str) -> str:
    """Accept-Encoding without the codings it refuses (`;q=0`), the others as they were (pure).

    By hand because Flask-Compress 1.25 reads the coding names and not their weight: `gzip;q=0` (RFC 9110
    §12.5.3: not acceptable) still got gzip. werkzeug parses the header; only the refusals are dropped.
    """
    accepted = parse_accept_header(header)
    kept = [(coding, quality) for coding, quality in accepted if quality > 0]
    if len(kept) == len(accepted):
        return header
    return ", ".join(coding if quality == 1 else f"{coding};q={quality:g}" for coding, quality in kept)


class RefusalsHonoured:
    """Outermost WSGI layer: every part (Flask-Compress, the result cache, the served copies, the dumps)
    reads an Accept-Encoding that names only acceptable codings."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        header = environ.get("HTTP_ACCEPT_ENCODING")
        if header and "q=0" in header.replace(" ", "").lower():  # a cheap test first: most have no weights
            environ["HTTP_ACCEPT_ENCODING"] = without_refused_codings(header)
        return self.app(environ, start_response)


def compress_coding(config: Mapping[str, Any], accept_encoding: str) -> str:
    """The content coding Flask-Compress chooses for this Accept-Encoding ('' for none, q-values respected).

    Without Flask-Compress's chooser, the header itself (prefixed, never a coding's name): a key that is
    still right, and an answer left to Flask-Compress.
    """
    if _choose_algorithm is None:  # pragma: no cover
        return "header:" + accept_encoding.replace(" ", "").lower()
    algorithms = config.get("COMPRESS_ALGORITHM", ())
    algorithms = (algorithms,) if isinstance(algorithms, str) else tuple(algorithms)
    return _choose_algorithm(algorithms, accept_encoding) or ""


def current_build_id(app: Flask | None = None) -> str | None:
    """The build the serving store comes from (of `app`, outside a request), or None when none can be opened."""
    from server.web.context import engine_of

    try:
        return engine_of(app or current_app).build_id
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
    app.wsgi_app = RefusalsHonoured(app.wsgi_app)  # type: ignore[method-assign]
    app.after_request(_add_validators)  # registered last: runs first
    app.after_request(_discovery_links)


def _add_validators(response: Response) -> Response:
    """ETag, Last-Modified and Cache-Control from the build (step 1)."""
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, _EXEMPT, False):
        return response
    build_id = current_build_id()
    if build_id is not None and validators(response, request, build_id, settings().project_root):
        request.environ[STABLE_ENVIRON_KEY] = build_id
    return response


def validators(response: BaseResponse, req: Request, build_id: str, project_root: Path) -> bool:
    """Give a GET/HEAD answer its build-derived validators; whether the answer is stable (any method).

    Stable: the whole answer depends on nothing but the build and the request (a 200, not streamed, not
    marked no-store). Used by Flask's hook above and by the SPARQL path below Flask (server/web/sparql_fast.py).
    """
    if response.status_code != 200 or response.is_streamed or response.cache_control.no_store:
        return False
    if req.method not in ("GET", "HEAD"):
        return True
    if response.get_etag()[0] is None:
        # A page's front-end assets are part of its variant; no other answer reads them (3 stat calls spared)
        assets = assets_fingerprint(project_root) if response.mimetype == "text/html" else ""
        variant = f"{response.content_type}|{response.headers.get('Content-Language', '')}|{assets}"
        query = canonical_query(req.args.items(multi=True))
        tag = etag_for(build_id, req.path, query, variant)
        # A body the view sends already encoded (a build-written .gz copy, server/web/served.py) is tagged
        # as Flask-Compress tags the same variant compressed on the fly: one ETag per variant, either way.
        coding = response.headers.get("Content-Encoding")
        response.set_etag(f"{tag}:{coding}" if coding else tag)
    headers = response.headers
    if "Last-Modified" not in headers:
        modified = _http_date_of_build(build_id)
        if modified is not None:
            headers["Last-Modified"] = modified
    if not headers.get("Cache-Control"):
        headers["Cache-Control"] = "public, no-cache"  # what werkzeug's cache_control would write
    return True


@lru_cache(maxsize=16)
def _http_date_of_build(build_id: str) -> str | None:
    """The build's time as an HTTP date, once per build (parsing and formatting it cost 30 µs a request)."""
    made = built_at(build_id)
    return http_date(made) if made is not None else None


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
