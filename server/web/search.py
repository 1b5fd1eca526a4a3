"""Blueprint: `GET /search?q=…[&type=…][&page=…]`, full-text search over the build's index.

Browsers get an HTML page (a plain GET form, no script needed); programs get JSON (`Accept:
application/json`, any `*/*` client, or `format=json`). JSON snippets are plain text with the matched
ranges as `[start, end)` offsets in code points (`snippet_marks`, `label_marks`): a client highlights them
its own way and never has to trust HTML from the server; `place` says where the hit sits in its document
(axis, thematic, objective; a partner's contribution and section). Errors, in French, are plain text for
JSON, the page for HTML.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, render_template, request, url_for
from markupsafe import Markup

from server.core.errors import DomainError, Unavailable
from server.core.iris import IriMap, iri_map
from server.core.negotiation import HTML, JSON, Format, by_name, negotiate
from server.core.search_syntax import Marked, SearchSyntaxError, marked_html, parse_search
from server.engine.search_index import Hit, IndexMissing, Results, SearchIndex, TypeInfo, index_path
from server.web.context import engine, settings
from server.web.errors import http_status

bp = Blueprint("search", __name__)

OFFERED: tuple[Format, ...] = (JSON, HTML)  # a bare */* is a program: JSON; browsers name text/html
PAGE_SIZE = 20
MAX_PAGE = 50  # 1,000 results: past that, a better query beats paging


@bp.app_template_filter("marked")
def _marked(value: Marked) -> Markup:
    return marked_html(value)


def search_index() -> SearchIndex:
    """The index of the build the backend serves, opened once per process and build; 503 if it has none."""
    store = engine()
    state = current_app.extensions.setdefault("cdv.search", {})
    key = (os.getpid(), store.build_id)
    if key not in state:
        try:
            index = SearchIndex(index_path(store))
        except IndexMissing as err:
            raise Unavailable(f"la recherche n’est pas disponible : {err}", retry_after=60) from None
        state.clear()  # an older build's index is no longer served
        state[key] = index
    return state[key]


def _one(name: str) -> str | None:
    """The query-string value `name`, given at most once."""
    values = request.args.getlist(name)
    if len(values) > 1:
        raise SearchSyntaxError(f"le paramètre {name!r} est donné {len(values)} fois ; donnez-le une fois")
    return values[0] if values else None


def _page() -> int:
    raw = _one("page") or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise SearchSyntaxError(f"la page est un nombre entier de 1 à {MAX_PAGE}, pas {raw[:40]!r}")
    return int(raw)


def resolve_type(raw: str | None, types: dict[str, TypeInfo]) -> TypeInfo | None:
    """The type a `type=` value names, by CURIE (`cdv:Mesure`) or IRI; 400 listing the known ones."""
    if not raw:
        return None
    for info in types.values():
        if raw.strip() in (info.iri, info.curie):
            return info
    known = ", ".join(sorted(info.curie for info in types.values()))
    raise SearchSyntaxError(f"type inconnu {raw[:100]!r} ; les types indexés sont : {known}")


def _format() -> Format:
    fmt = request.args.get("format")
    return (
        by_name(fmt, OFFERED) if fmt is not None else negotiate(request.headers.get("Accept"), None, OFFERED)
    )


@bp.get("/search")
def search() -> Response | tuple[str, int]:
    """Search every text of the graph: HTML for browsers, JSON for programs."""
    fmt = _format()
    if fmt.name == HTML.name:
        return _html()
    index = search_index()
    query, page = parse_search(_one("q")), _page()
    type_ = resolve_type(_one("type"), index.types())
    results = index.search(query, type_.iri if type_ else None, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    links = iri_map(settings().base_iri, settings().public_url, request.url_root, absolute=True)
    body = as_json(query.text, type_, page, results, index.types(), links)
    response = Response(json.dumps(body, ensure_ascii=False), content_type=JSON.content_type)
    response.headers["Vary"] = "Accept"
    return response


def _html() -> tuple[str, int]:
    """The page: the form, and the results or the reason there are none."""
    raw_q, raw_type = request.args.get("q"), request.args.get("type")
    context: dict[str, Any] = {"q": raw_q or "", "type": raw_type or "", "error": None, "results": None}
    status = 200
    try:
        index = search_index()
        context["types"] = list(index.types().values())
        page = _page()
        if raw_q is not None or raw_type:  # no q at all: the empty form; an empty q: a 400 that says so
            query = parse_search(_one("q"))
            type_ = resolve_type(_one("type"), index.types())
            offset = (page - 1) * PAGE_SIZE
            results = index.search(query, type_.iri if type_ else None, offset, PAGE_SIZE)
            context.update(_html_results(results, index.types(), page, type_))
    except DomainError as err:
        context["error"], status = err.message, http_status(err)
    response = render_template("search.html", **context)
    return response, status


def _html_results(
    results: Results, types: dict[str, TypeInfo], page: int, type_: TypeInfo | None
) -> dict[str, Any]:
    links = iri_map(settings().base_iri, settings().public_url, request.url_root)
    hits = [_hit(hit, types, links) for hit in results.hits]
    pages = max(1, -(-results.total // PAGE_SIZE))
    return {
        "results": results,
        "hits": hits,
        "page": page,
        "page_size": PAGE_SIZE,
        "pages": min(pages, MAX_PAGE),
        "facets": results.facets,
        "selected": type_,
        "page_url": _page_url,
        "type_url": _type_url,
    }


def _hit(hit: Hit, types: dict[str, TypeInfo], links: IriMap) -> dict[str, Any]:
    return {
        "hit": hit,
        "href": links.href(hit.iri),
        "types": [types[t] for t in hit.types if t in types],
    }


def _page_url(page: int) -> str:
    args = {k: v for k, v in request.args.items() if k != "page"}
    return url_for("search.search") + "?" + urlencode({**args, "page": page})


def _type_url(curie: str | None) -> str:
    args = {k: v for k, v in request.args.items() if k not in {"page", "type"}}
    return url_for("search.search") + "?" + urlencode({**args, **({"type": curie} if curie else {})})


def as_json(
    q: str, type_: TypeInfo | None, page: int, results: Results, types: dict[str, TypeInfo], links: IriMap
) -> dict[str, Any]:
    """The JSON answer: the request, the total, one page of hits, the hits per type, next/previous links."""
    pages = -(-results.total // PAGE_SIZE)
    return {
        "q": q,
        "type": type_.curie if type_ else None,
        "page": page,
        "page_size": PAGE_SIZE,
        "total": results.total,
        "results": [
            {
                "iri": hit.iri,
                "url": links.href(hit.iri),
                "label": hit.label.text,
                "label_marks": [list(m) for m in hit.label.marks],
                "types": [
                    {"iri": t, "curie": types[t].curie, "label": types[t].label}
                    for t in hit.types
                    if t in types
                ],
                "snippet": hit.snippet.text,
                "snippet_marks": [list(m) for m in hit.snippet.marks],
                "place": hit.place,
                "score": round(hit.score, 6),
            }
            for hit in results.hits
        ],
        "facets": [
            {"iri": f.iri, "curie": f.curie, "label": f.label, "count": f.count} for f in results.facets
        ],
        "links": {
            "next": _page_url(page + 1) if page < min(pages, MAX_PAGE) else None,
            "prev": _page_url(page - 1) if page > 1 else None,
        },
    }
