"""The shared result cache: whole answers of one build, kept on disk and served again without computing them.

Between two builds the graph never changes, so an answer is a function of (build, request). This thin WSGI
middleware sits between the access log and Flask: a hit is served before Flask routes anything, from a
`diskcache` store (SQLite, safe across gunicorn's worker processes and threads, bounded in size with eviction)
in `<build_dir>/cache/<build-id>/`: a new build starts empty, and `release.prune` removes the folders of
builds that are gone.

What is stored is the response exactly as Flask sent it (status, headers, body: after compression, CORS,
validators), so a hit is the same bytes as the miss that stored it, with `X-Cache: hit` instead of `miss`
and a fresh `Date`; a conditional request on a hit gets its 304 from werkzeug's `make_conditional`, the
call the app makes on a miss (server/web/http_cache.py). Only answers the app itself calls stable are stored
(`http_cache.STABLE_ENVIRON_KEY`: 200, whole, not exempt, not `no-store`), of the build the key names, with
a `Content-Length` within the entry bound, for GET (HEAD reads them) and SPARQL query POSTs.

The key is taken before the app runs, so it holds what the negotiation reads rather than its outcome: the
normalised `Accept` (whitespace only) and the content coding Flask-Compress would choose. Keying on the
chosen media type would mean routing and negotiating first, the work a hit must skip; clients send few
distinct `Accept` values, so the cost is a few duplicate entries, never a wrong variant.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import diskcache
from flask import Flask
from werkzeug.http import http_date
from werkzeug.wrappers import Response

from server.core.config import Settings
from server.engine.release import CACHES
from server.web.assets import assets_fingerprint
from server.web.http_cache import (
    STABLE_ENVIRON_KEY,
    canonical_query,
    compress_coding,
    current_build_id,
    varies_in_time,
)
from server.web.system import BUILD_HEADER, LOG_ENVIRON_KEY

log = logging.getLogger("cdv.cache")

HEADER = "X-Cache"  # hit | miss | bypass: how this answer was found (the only header a hit changes)
MAX_ENTRY_BYTES = 8 * 1024 * 1024  # a bigger answer is not stored (nor any above 1/16 of the cache)
MAX_FIELDS = 1000  # query-string and form fields read to key a request
SPARQL_PATH = "/sparql"
NEVER_CACHED = frozenset({"/health"})  # a liveness probe must be answered by the worker itself
MEMO_SIZE = 4096  # requests per process known to get answers that are never stored (skip the lock)
FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE")
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_CACHE_ERRORS = (sqlite3.Error, OSError, diskcache.Timeout)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Entry = tuple[str, list[tuple[str, str]], bytes]  # status line, headers, body: one answer as sent


class Bypass(Exception):
    """A request the cache must leave to the app (cannot be keyed, or its answer varies in time)."""


@dataclass(frozen=True)
class Lookup:
    """Where one request's answer is kept: the build's cache and the key inside it."""

    build_id: str
    key: str


def cache_folder(build_dir: Path, build_id: str) -> Path:
    """The folder of a build's cache; a build id that is not a plain name is hashed into one."""
    name = build_id if _SAFE_ID.fullmatch(build_id) else hashlib.sha256(build_id.encode()).hexdigest()[:32]
    return build_dir / CACHES / name


def entry_limit(cache_bytes: int) -> int:
    """The largest answer stored in a cache of `cache_bytes`."""
    return min(MAX_ENTRY_BYTES, cache_bytes // 16)


def decoded_pairs(raw: bytes) -> list[tuple[str, str]]:
    """The fields of a query string or form body, decoded as strict UTF-8; Bypass if they are not."""
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, max_num_fields=MAX_FIELDS)
        return [(name.decode(), value.decode()) for name, value in pairs]
    except (UnicodeDecodeError, ValueError):  # the app answers these with a 400 (or replaces bad bytes)
        raise Bypass from None


def normalised_accept(value: str) -> str:
    """An Accept header without the whitespace that does not change its meaning."""
    return ",".join(";".join(p.strip() for p in part.split(";")) for part in value.split(",") if part.strip())


def request_key(build_id: str, parts: Iterable[str]) -> str:
    """The key of a request's answer in the cache of `build_id`."""
    return hashlib.sha256("\0".join((build_id, *parts)).encode()).hexdigest()


def request_parts(environ: dict[str, Any], fields: list[tuple[str, str]], coding: str) -> tuple[str, ...]:
    """What the answer depends on: method class, site root, path, arguments, Accept, coding, CORS.

    The site root (scheme, host, script name) is there because pages and descriptions write absolute links
    from it when Settings.public_url is not set.
    """
    method = "POST" if environ["REQUEST_METHOD"] == "POST" else "GET"  # HEAD reads the GET answer
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}"
    return (
        method,
        f"{environ.get('wsgi.url_scheme', 'http')}://{host.lower()}{environ.get('SCRIPT_NAME', '')}",
        environ.get("PATH_INFO", ""),
        canonical_query(fields),
        normalised_accept(environ.get("HTTP_ACCEPT", "")),
        coding,
        "origin" if "HTTP_ORIGIN" in environ else "",
    )


def sparql_query(fields: list[tuple[str, str]]) -> str:
    """The SPARQL text of a request's fields ('' when none)."""
    return "\n".join(value for name, value in fields if name == "query")


def read_body(environ: dict[str, Any], limit: int) -> bytes:
    """The body of a POST, put back for the app to read; Bypass when it has no length or is over `limit`."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        raise Bypass from None  # chunked or malformed: the app decides
    if length < 0 or length > limit:
        raise Bypass
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def post_fields(environ: dict[str, Any], limit: int) -> list[tuple[str, str]]:
    """The fields of a SPARQL query POST (form fields, or the query body as `query`); Bypass otherwise."""
    content_type = environ.get("CONTENT_TYPE", "")
    mimetype, _, params = content_type.partition(";")
    mimetype = mimetype.strip().lower()
    if mimetype == FORM:
        return decoded_pairs(read_body(environ, limit))
    if mimetype == SPARQL_QUERY:
        charset = re.search(r"charset\s*=\s*\"?([^\";\s]+)", params, re.IGNORECASE)
        if charset and charset.group(1).lower() not in ("utf-8", "utf8", "us-ascii", "ascii"):
            raise Bypass
        try:
            return [("query", read_body(environ, limit).decode())]
        except UnicodeDecodeError:
            raise Bypass from None
    raise Bypass


def storable(status: str, headers: list[tuple[str, str]], build_id: str, limit: int) -> bool:
    """Whether an answer the app called stable (for `build_id`) can be stored: 200, whole, small enough."""
    if not status.startswith("200 "):
        return False
    names = {name.lower(): value for name, value in headers}
    if "set-cookie" in names or "content-range" in names or names.get(BUILD_HEADER.lower()) != build_id:
        return False
    length = names.get("content-length", "")
    return length.isdigit() and int(length) <= limit


def is_conditional(environ: dict[str, Any]) -> bool:
    """Whether the request carries a validator the answer must be compared with."""
    return any(name in environ for name in CONDITIONAL)


class ResultCache:
    """WSGI middleware: answer from the shared cache, or let the app answer and keep the answer."""

    def __init__(self, flask_app: Flask, wsgi_app: WsgiApp) -> None:
        self.flask_app = flask_app
        self.wsgi_app = wsgi_app
        self._caches: dict[str, diskcache.Cache] = {}
        self._pid = os.getpid()
        self._open_lock = threading.Lock()
        self._unstored: OrderedDict[str, None] = OrderedDict()  # keys of 200s never stored (streams, files…)

    @property
    def settings(self) -> Settings:
        return self.flask_app.config["CDV"]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        cfg = self.settings
        method = environ.get("REQUEST_METHOD")
        path = environ.get("PATH_INFO")
        eligible = method in ("GET", "HEAD") or (method == "POST" and path == SPARQL_PATH)
        if cfg.cache_bytes <= 0 or cfg.store_path is not None or not eligible or path in NEVER_CACHED:
            return self.wsgi_app(environ, start_response)
        try:
            lookup = self._lookup(environ, cfg)
            cache = self._cache(lookup.build_id, cfg)
            entry = cache.get(lookup.key)
        except Bypass:
            return self.wsgi_app(environ, _with_header(start_response, "bypass"))
        except _CACHE_ERRORS as err:  # a broken cache must not break the service
            log.warning("result cache unavailable: %s", err)
            return self.wsgi_app(environ, start_response)
        if entry is not None:
            return serve(entry, environ, start_response)
        if method == "HEAD" or is_conditional(environ) or lookup.key in self._unstored:
            # a HEAD has no body to keep, a 304 neither; an answer known not to be kept needs no lock
            return self.wsgi_app(environ, _with_header(start_response, "miss"))
        return self._compute(cache, lookup, environ, start_response)

    def _lookup(self, environ: dict[str, Any], cfg: Settings) -> Lookup:
        """The build and key of this request; Bypass when the answer must not come from the cache."""
        build_id = self._build_id(cfg)
        if build_id is None:
            raise Bypass
        fields = decoded_pairs(environ.get("QUERY_STRING", "").encode("latin-1"))
        if environ["REQUEST_METHOD"] == "POST":
            fields += post_fields(environ, cfg.max_body_bytes)
        if environ.get("PATH_INFO") == SPARQL_PATH and varies_in_time(sparql_query(fields)):
            raise Bypass
        coding = self._coding(environ.get("HTTP_ACCEPT_ENCODING", ""))
        parts = (*request_parts(environ, fields, coding), assets_fingerprint(cfg.project_root))
        return Lookup(build_id, request_key(build_id, parts))

    def _build_id(self, cfg: Settings) -> str | None:
        """The build this process serves now (asked of the backend: a remote one names its own); None if unknown."""
        with self.flask_app.app_context():
            build_id = current_build_id()
        if build_id is not None and getattr(cfg, "endpoint", None):
            from server.engine.remote import UNVERSIONED

            if build_id == UNVERSIONED:  # an engine that names no build: its answers may change at any time
                return None
        return build_id

    def _coding(self, accept_encoding: str) -> str:
        """The content coding Flask-Compress will choose for this Accept-Encoding ('' for none): one entry per
        coding, not per header."""
        return compress_coding(self.flask_app.config, accept_encoding)

    def _remember_unstored(self, key: str) -> None:
        """Note a request whose 200 answer is not kept (streamed, a file, too big, varies in time)."""
        self._unstored[key] = None
        while len(self._unstored) > MEMO_SIZE:
            self._unstored.popitem(last=False)

    def _cache(self, build_id: str, cfg: Settings) -> diskcache.Cache:
        """This build's cache, opened once per process (SQLite connections must not cross a fork)."""
        if self._pid != os.getpid():
            self._caches, self._pid = {}, os.getpid()
        cache = self._caches.get(build_id)
        if cache is None:
            with self._open_lock:
                cache = self._caches.get(build_id)
                if cache is None:
                    for old in self._caches.values():  # a worker serves one build at a time
                        old.close()
                    cache = open_cache(cache_folder(cfg.build_dir, build_id), cfg.cache_bytes)
                    self._caches = {build_id: cache}
        return cache

    def _compute(
        self,
        cache: diskcache.Cache,
        lookup: Lookup,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
    ) -> Iterable[bytes]:
        """Let the app answer a miss, once across workers (others wait for its answer), and store it."""
        held = ["lock:" + lookup.key]  # emptied once the lock is freed
        timeout = self.settings.query_timeout + 5
        try:
            if not cache.add(held[0], os.getpid(), expire=timeout):
                entry = wait_for(cache, lookup.key, held[0], timeout)
                if entry is not None:
                    return serve(entry, environ, start_response)
                held.clear()  # the other computation kept nothing: compute without the lock
            else:
                # Another worker may have stored the answer and freed its lock between our first look and
                # our lock: look again before computing (double-checked), else the answer is computed twice.
                entry = cache.get(lookup.key)
                if entry is not None:
                    cache.delete(held.pop())
                    return serve(entry, environ, start_response)
        except _CACHE_ERRORS as err:
            log.warning("result cache unavailable: %s", err)
            return self.wsgi_app(environ, start_response)
        try:
            return self._compute_and_store(cache, lookup, held, environ, start_response)
        finally:
            if held:
                _quietly(cache.delete, held[0])

    def _compute_and_store(
        self,
        cache: diskcache.Cache,
        lookup: Lookup,
        held: list[str],
        environ: dict[str, Any],
        start_response: Callable[..., Any],
    ) -> Iterable[bytes]:
        """The app's answer, passed on; kept (and the lock in `held` freed) when stable and small enough."""
        sent: list[Any] = []

        def _start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            sent[:] = [status, list(headers)]
            return start_response(status, [*headers, (HEADER, "miss")], exc_info)

        body = self.wsgi_app(environ, _start)
        file_wrapper = environ.get("wsgi.file_wrapper")
        if (
            not sent
            or environ.get(STABLE_ENVIRON_KEY) != lookup.build_id
            or (isinstance(file_wrapper, type) and isinstance(body, file_wrapper))
            or not storable(sent[0], sent[1], lookup.build_id, entry_limit(self.settings.cache_bytes))
        ):
            if sent and sent[0].startswith("200 "):  # errors may pass (a time-out): only 200s are remembered
                self._remember_unstored(lookup.key)
            return body
        try:
            data = b"".join(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        _quietly(keep, cache, lookup.key, (sent[0], sent[1], data), held)
        return [data]


def open_cache(folder: Path, size_bytes: int) -> diskcache.Cache:
    """A diskcache store in `folder`, bounded to `size_bytes`.

    Evicts the least recently *stored* answers: least-recently-used would write to SQLite on every hit.
    """
    return diskcache.Cache(
        str(folder), size_limit=size_bytes, eviction_policy="least-recently-stored", statistics=False
    )


def keep(cache: diskcache.Cache, key: str, entry: Entry, held: list[str]) -> None:
    """Store an answer and free its lock in one SQLite transaction (one commit for both)."""
    with cache.transact():
        cache.set(key, entry)
        if held:
            cache.delete(held[0])
    held.clear()


def wait_for(cache: diskcache.Cache, key: str, lock_key: str, timeout: float) -> Entry | None:
    """The answer another worker is computing, once stored; None if it stores nothing (or never ends).

    By polling reads rather than diskcache.Lock, which spins on writes.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.005)
        entry = cache.get(key)
        if entry is not None:
            return entry
        if lock_key not in cache:
            return cache.get(key)
    return None


def serve(entry: Entry, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """A stored answer, as the app sent it, with a fresh Date; a 304 (or 412) if the request says so."""
    status, stored, body = entry
    headers = [(name, http_date() if name.lower() == "date" else value) for name, value in stored]
    headers.append((HEADER, "hit"))
    log_fields = environ.setdefault(LOG_ENVIRON_KEY, {})
    log_fields["cache"] = "hit"
    if is_conditional(environ):
        response = Response(body, status=status, headers=headers)
        response.make_conditional(environ)
        return response(environ, start_response)
    start_response(status, headers)
    return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]


def _with_header(start_response: Callable[..., Any], value: str) -> Callable[..., Any]:
    """start_response adding `X-Cache: value`."""

    def _start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return start_response(status, [*headers, (HEADER, value)], exc_info)

    return _start


def _quietly(action: Callable[..., Any], *args: Any) -> None:
    """Run a cache write; a failure is logged, never raised (the answer is served anyway)."""
    try:
        action(*args)
    except _CACHE_ERRORS as err:
        log.warning("result cache write failed: %s", err)


def init_result_cache(app: Flask) -> None:
    """Put the cache in front of the Flask app (inside the access log, which system.init_app adds later)."""
    app.wsgi_app = ResultCache(app, app.wsgi_app)  # type: ignore[method-assign]
