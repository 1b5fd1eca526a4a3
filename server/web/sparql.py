"""Blueprint: the SPARQL 1.1 Protocol at /sparql, and nothing else.

Queries by GET `?query=`, POST `application/x-www-form-urlencoded` or POST `application/sparql-query`, with
`default-graph-uri` / `named-graph-uri`; results negotiated by Accept or `format=`; run by the executor
(child processes under a time limit). Without a query, `/sparql` answers its service description to RDF
clients and the query editor to browsers.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from urllib.parse import parse_qsl

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.sansio.utils import get_current_url, get_host
from werkzeug.wrappers import Request

from server.core import rdf as ox
from server.core import service_description as sd
from server.core import sparql_formats as formats
from server.core.config import Settings
from server.core.errors import (
    ClientError,
    DomainError,
    NotAcceptable,
    PayloadTooLarge,
    Unavailable,
    UnsupportedMediaType,
)
from server.core.iris import site_root
from server.core.negotiation import HTML, Format, best_match, by_name
from server.core.sparql_guard import UPDATE_REFUSED, QueryRefused
from server.engine import Engine
from server.engine.executor import Result
from server.engine.query_process import Job, Unacceptable
from server.engine.release import NoRelease
from server.web.context import engine, engine_of, serving_manifest, settings
from server.web.fair_share import EXTENSION as FAIR_SHARE
from server.web.fair_share import hold_until_sent, take
from server.web.http_cache import varies_in_time
from server.web.share_table import FairShare
from server.web.sparql_editor import editor_page
from server.web.system import LOG_ENVIRON_KEY

bp = Blueprint("sparql", __name__)

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
DESCRIPTION_FORMATS: tuple[Format, ...] = (*formats.GRAPH_FORMATS, HTML)  # RDF first: `*/*` gets Turtle
FORM_NAMES = {formats.SOLUTIONS: "SELECT", formats.BOOLEAN: "ASK", formats.GRAPH: "CONSTRUCT and DESCRIBE"}
VARY = {"Vary": "Accept"}
MAX_FORM_FIELDS = 1000


@dataclass(frozen=True)
class ProtocolRequest:
    """What a protocol request asks: the query (None: no query given), its dataset, the format names."""

    query: str | None
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    format_names: tuple[str, ...] = ()  # values of `format=` (or `output=`), in order


def read_protocol(
    method: str, mimetype: str, args: MultiDict, form: MultiDict, body: str | None
) -> ProtocolRequest:
    """Read a request by the SPARQL 1.1 Protocol (§2.1); ClientError naming the problem otherwise."""
    if (method == "POST" and mimetype == SPARQL_UPDATE) or "update" in args or "update" in form:
        raise QueryRefused(UPDATE_REFUSED)
    if method == "POST" and mimetype not in (FORM, SPARQL_QUERY):
        received = f"Content-Type {mimetype}" if mimetype else "no Content-Type"
        raise UnsupportedMediaType(
            f"a SPARQL query by POST needs Content-Type {FORM} (query=… in the body) or {SPARQL_QUERY} "
            f"(the query as the body); the request has {received}."
        )
    params = MultiDict([*args.items(multi=True), *form.items(multi=True)])
    queries = params.getlist("query")
    if body is not None:
        if queries:
            raise ClientError(
                f"the query is given twice: in the {SPARQL_QUERY} body and as a query= parameter."
            )
        queries = [body]
    if len(queries) > 1:
        raise ClientError(f"the query parameter is given {len(queries)} times; give exactly one query.")
    if not queries:
        if method == "POST":
            raise ClientError("the request has no query: send query=… (form) or a SPARQL query body.")
        query = None
    else:
        query = queries[0]
        if not query.strip():
            raise ClientError("the query is empty.")
    return ProtocolRequest(
        query,
        tuple(_graph_iris(params, "default-graph-uri")),
        tuple(_graph_iris(params, "named-graph-uri")),
        tuple(params.getlist("format") or params.getlist("output")),
    )


def _graph_iris(params: MultiDict, name: str) -> list[str]:
    """The values of a graph parameter, each an absolute IRI; ClientError otherwise."""
    values = params.getlist(name)
    for value in values:
        try:
            ox.NamedNode(value)
        except ValueError:
            raise ClientError(f"{name} must be an absolute IRI, not {value[:200]!r}.") from None
        if ":" not in value:
            raise ClientError(f"{name} must be an absolute IRI, not {value[:200]!r}.")
    return values


def choose(form: str, accept: str | None, format_names: Sequence[str]) -> Format:
    """The format to answer a query form in: the first `format=` value naming one, else the Accept header."""
    offered = formats.offered(form)
    if format_names:
        for name in format_names:
            try:
                return by_name(name, offered)
            except NotAcceptable:
                continue
        raise NotAcceptable(
            f"format={format_names[0]!r} cannot be produced for {FORM_NAMES[form]} queries; "
            "available: " + ", ".join(dict.fromkeys(f.name for f in offered)) + ".",
        )
    try:
        return best_match(accept, offered)
    except NotAcceptable:
        raise NotAcceptable(
            f"none of the media types in the Accept header can be produced for {FORM_NAMES[form]} queries; "
            "available: " + ", ".join(f.media_type for f in offered) + ".",
        ) from None


def choices(accept: str | None, format_names: Sequence[str]) -> Mapping[str, Format | str]:
    """Each query form's format or why it has none (the form is known once parsed); 406 if none has one."""
    return _choices(accept, tuple(format_names))


@lru_cache(maxsize=512)  # pure, and clients send few distinct Accept headers: negotiate each once
def _choices(accept: str | None, format_names: tuple[str, ...]) -> Mapping[str, Format | str]:
    chosen: dict[str, Format | str] = {}
    for form in formats.FORMS:
        try:
            chosen[form] = choose(form, accept, format_names)
        except NotAcceptable as err:
            chosen[form] = err.message
    if all(isinstance(c, str) for c in chosen.values()):
        raise NotAcceptable(
            "none of the requested formats can be produced. SELECT and ASK results: "
            + ", ".join(f.media_type for f in formats.RESULT_FORMATS)
            + "; CONSTRUCT and DESCRIBE results: "
            + ", ".join(f.media_type for f in formats.GRAPH_FORMATS)
            + ".",
        )
    return MappingProxyType(chosen)


def published_engine(app: Flask | None = None) -> Engine:
    """The engine of this process (of `app`, outside a request context); 503 while no build is published."""
    try:
        return engine() if app is None else engine_of(app)
    except NoRelease as err:
        raise Unavailable(f"no data is published yet ({err}).") from None


@bp.route("/sparql", methods=["GET", "POST"])
def endpoint() -> Response:
    """The SPARQL 1.1 Protocol query operation; the service description or the editor without a query.

    Most query requests never get here: server/web/sparql_fast.py answers them below Flask with `answer`.
    """
    protocol = read_request(request, settings().max_body_bytes)
    if protocol.query is None:
        return description(protocol.format_names)
    if request.method == "GET" and not protocol.format_names and wants_editor(request.headers.get("Accept")):
        # A browser following a "query this" link gets the editor with the query in it, not a download.
        return _editor_response(protocol.query)
    share = current_app.extensions[FAIR_SHARE]
    return answer(request, protocol, settings(), published_engine(), endpoint_url(), share)


def read_request(req: Request, max_body_bytes: int) -> ProtocolRequest:
    """What a request asks by the SPARQL 1.1 Protocol, its body read within `max_body_bytes`."""
    return read_protocol(
        req.method, req.mimetype, req.args, _form(req, max_body_bytes), _body(req, max_body_bytes)
    )


def answer(
    req: Request, protocol: ProtocolRequest, cfg: Settings, store: Engine, base_iri: str, share: FairShare
) -> Response:
    """Run the query of a protocol request and answer its results in the negotiated format, within the
    share of its client (429 past it)."""
    assert protocol.query is not None
    log_fields = req.environ.setdefault(LOG_ENVIRON_KEY, {})
    log_fields["query"] = " ".join(protocol.query.split())[:300]
    if len(protocol.query) > cfg.max_query_length:
        raise PayloadTooLarge(
            f"the query is {len(protocol.query)} characters long; the limit is {cfg.max_query_length}."
        )
    chosen = choices(req.headers.get("Accept"), protocol.format_names)
    job = Job(
        protocol.query,
        _media_type(chosen[formats.SOLUTIONS]),
        _media_type(chosen[formats.GRAPH]),
        protocol.default_graphs,
        protocol.named_graphs,
        base_iri=base_iri,
    )
    ticket = take(share, req)
    started = time.monotonic()
    try:
        result = store.run(job, started + cfg.query_timeout)
    except Unacceptable as err:
        share.release(ticket)
        raise NotAcceptable(str(chosen[err.form])) from None
    except BaseException as err:
        share.release(ticket)
        if isinstance(err, DomainError):
            log_fields["error"] = err.message[:200]
        raise
    finally:
        log_fields["run_ms"] = round((time.monotonic() - started) * 1000, 1)
    fmt = chosen[result.form]
    assert isinstance(fmt, Format)
    log_fields.update(form=result.form, format=fmt.name)
    response = _results_response(result, fmt)
    hold_until_sent(response, share, ticket)
    if varies_in_time(protocol.query):  # NOW(), RAND()…: no build-derived ETag, never stored by any cache
        response.cache_control.no_store = True
    return response


def _media_type(choice: Format | str) -> str | None:
    """The media type of a chosen format; None when the choice is a refusal."""
    return choice.media_type if isinstance(choice, Format) else None


def _results_response(result: Result, fmt: Format) -> Response:
    """The results, whole (with Content-Length) or streamed (chunked) as they come from the child."""
    body = result.body if result.body is not None else result.chunks
    response = Response(body, content_type=fmt.content_type)
    response.headers.update(VARY)
    response.headers["X-Content-Type-Options"] = "nosniff"  # results hold user data: never sniffed as HTML
    return response


def _form(req: Request, limit: int) -> MultiDict:
    """The fields of a form POST, decoded as UTF-8 (the body is not read otherwise)."""
    if req.method != "POST" or req.mimetype != FORM:
        return MultiDict()
    text = _utf8(_raw_body(req, limit), "form body")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:
        raise ClientError(f"the form has more than {MAX_FORM_FIELDS} fields.") from None
    return MultiDict(pairs)


def _body(req: Request, limit: int) -> str | None:
    """The query of a POST `application/sparql-query` body, as UTF-8 text."""
    if req.method != "POST" or req.mimetype != SPARQL_QUERY:
        return None
    charset = req.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8", "us-ascii", "ascii"):
        raise UnsupportedMediaType(f"a {SPARQL_QUERY} body must be UTF-8, not {charset}.")
    return _utf8(_raw_body(req, limit), "query body")


def _raw_body(req: Request, limit: int) -> bytes:
    """The request body within `limit` bytes (Settings.max_body_bytes); PayloadTooLarge beyond."""
    req.max_content_length = limit
    try:
        data = req.get_data(cache=False)
    except RequestEntityTooLarge:
        raise _too_large(limit) from None
    # A chunked body (no Content-Length) is cut at the limit by werkzeug without an error: a body that
    # reaches the limit is taken as too large rather than read truncated.
    if req.content_length is None and len(data) >= limit:
        raise _too_large(limit)
    return data


def _utf8(data: bytes, what: str) -> str:
    """Decode UTF-8 strictly; a 400 naming the first bad byte otherwise."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ClientError(f"the {what} is not valid UTF-8 (byte {err.start}).") from None


def _too_large(limit: int) -> PayloadTooLarge:
    """The 413 of a body over the limit."""
    return PayloadTooLarge(f"the request body is over the limit of {limit} bytes.")


# --- without a query: service description or editor ---------------------------------------------------------


def description(format_names: Sequence[str]) -> Response:
    """The service description (RDF clients) or the query editor (browsers)."""
    if format_names:
        fmt = by_name(format_names[0], DESCRIPTION_FORMATS)
    else:
        fmt = best_match(request.headers.get("Accept"), DESCRIPTION_FORMATS)
    if fmt == HTML:
        return _editor_response(None)
    else:
        body = sd.serialise(_description_triples(), formats.serialiser(formats.GRAPH, fmt.media_type))  # type: ignore[arg-type]
        response = Response(body, content_type=fmt.content_type)
    response.headers.update(VARY)
    return response


def wants_editor(accept: str | None) -> bool:
    """True when the client prefers HTML to every results format: a browser, not a SPARQL client."""
    offered = (*formats.BROWSER_RIVALS, HTML)
    return bool(accept) and best_match(accept, offered) == HTML


def _editor_response(query: str | None) -> Response:
    """The query editor, holding `query` when given."""
    response = Response(editor_page(endpoint_url(), query), content_type=HTML.content_type)
    response.headers.update(VARY)
    return response


def endpoint_url(req: Request | None = None, cfg: Settings | None = None) -> str:
    """The absolute URL of /sparql as clients reach it (Settings.public_url when set)."""
    req, cfg = req or request, cfg or settings()
    if cfg.public_url:
        return site_root(cfg.public_url, "", absolute=True) + "sparql"
    trusted = tuple(req.trusted_hosts) if req.trusted_hosts else None
    return _endpoint_url(req.scheme, req.headers.get("host"), req.server, req.root_path, trusted)


@lru_cache(
    maxsize=256
)  # werkzeug's `url_root` from the same inputs; it decodes IDNA and ports at each request
def _endpoint_url(
    scheme: str,
    host: str | None,
    server: tuple[str, int | None] | None,
    root_path: str,
    trusted_hosts: tuple[str, ...] | None,
) -> str:
    root = get_current_url(scheme, get_host(scheme, host, server, trusted_hosts), root_path)
    return site_root(None, root, absolute=True) + "sparql"


def _dataset_figures(store: Engine) -> sd.DatasetFigures:
    """As the build recorded them in its manifest, else counted by queries (an older build, or a remote
    engine whose build files are not on this server)."""
    recorded = sd.recorded_figures(serving_manifest())
    return recorded if recorded is not None else sd.dataset_figures(store)


def _description_triples() -> list[ox.Triple]:
    """The service description for this request's host; the dataset figures counted once per build."""
    store = published_engine()
    cache = current_app.extensions.setdefault("cdv.sd_figures", {})
    if store.build_id not in cache:
        cache.clear()
        cache[store.build_id] = _dataset_figures(store)
    root = site_root(settings().public_url, request.url_root, absolute=True)
    return sd.describe(sd.names(settings().base_iri, root), cache[store.build_id], settings().query_timeout)
