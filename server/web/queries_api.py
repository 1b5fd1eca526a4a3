"""Blueprint: the named-query web API (/api/queries, /api/queries/<name>), its OpenAPI document and docs page."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask.blueprints import BlueprintSetupState

from server import __version__
from server.core import rdf as ox
from server.core.errors import NotFound
from server.core.iris import site_root
from server.core.library import (
    Choice,
    NamedQuery,
    Parameter,
    ParameterError,
    allowed_values,
    find,
    load_library,
)
from server.core.negotiation import CSV, HTML, JSON, SPARQL_JSON, TSV, Format, by_name, negotiate
from server.core.query_results import JsonValue, json_value, records
from server.engine.named_queries import lookup, run
from server.web import fair_share
from server.web.assets import package_url
from server.web.context import engine, settings
from server.web.openapi import LOOKUP_LIMIT, document, json_default
from server.web.sparql import published_engine

bp = Blueprint("queries_api", __name__)

RECORDS = replace(JSON, aliases=("records",))
SPARQL_RESULTS = replace(SPARQL_JSON, name="sparql-json", aliases=("srj", "sparql"))
OFFERED: tuple[Format, ...] = (RECORDS, SPARQL_RESULTS, CSV, TSV)
_RESULT_FORMATS = {
    SPARQL_RESULTS.name: ox.QueryResultsFormat.JSON,
    CSV.name: ox.QueryResultsFormat.CSV,
    TSV.name: ox.QueryResultsFormat.TSV,
}


@bp.record_once
def _load(state: BlueprintSetupState) -> None:
    """Read the library once, when the app is made: a broken query file stops the start, not a request."""
    state.app.extensions["cdv.queries"] = load_library(*state.app.config["CDV"].queries_dirs)


def library() -> list[NamedQuery]:
    """The named queries of the running app."""
    return current_app.extensions["cdv.queries"]


def choices(query: NamedQuery) -> dict[str, list[Choice] | None]:
    """Allowed values of each enumerable parameter (None past the bound of the settings: they are looked
    up), computed once per published build and process."""
    store, bound = engine(), settings().choices_bound
    cache = current_app.extensions.setdefault("cdv.query_choices", {})
    key = (store.build_id, query.name)
    if key not in cache:
        cache[key] = {p.name: allowed_values(store, query, p, bound) for p in query.parameters if p.values}
    return cache[key]


def lookup_url(query: NamedQuery, param: Parameter, **args: str) -> str:
    """Where a parameter's values are looked up by text."""
    return url_for("queries_api.parameter_values", name=query.name, param=param.name, **args)


def request_values(
    args: Mapping[str, list[str]], reserved: frozenset[str] = frozenset({"format"})
) -> dict[str, str]:
    """The query-string parameters meant for the query; 400 when one is given twice."""
    values: dict[str, str] = {}
    for name, given in args.items():
        if name in reserved:
            continue
        if len(given) != 1:
            raise ParameterError(f"parameter {name!r} is given {len(given)} times; give it once")
        values[name] = given[0]
    return values


def run_request(query: NamedQuery, raw: Mapping[str, str]) -> ox.QuerySolutions:
    """Run `query` with the request's values, under the time limit of /sparql (503 past it); enumerable
    values are checked against the cached choices; 429 past the client's share of the query processes."""
    fair_share.admit()
    return run(published_engine().limited(), query, raw, allowed=choices(query))


def describe(query: NamedQuery, query_choices: Mapping[str, list[Choice] | None]) -> dict[str, Any]:
    """The public description of a query: metadata, typed parameters with their allowed values (when there
    are few) and where to look them up, links."""
    parameters = []
    for param in query.parameters:
        info: dict[str, Any] = {
            "name": param.name,
            "type": param.type,
            "default": json_default(param),
            "description": param.description,
        }
        allowed = query_choices.get(param.name)
        if allowed is not None:
            info["allowed"] = [choice_json(c) for c in allowed]
        if param.values is not None:
            info["lookup"] = lookup_url(query, param)
        parameters.append(info)
    return {
        "name": query.name,
        "title": query.title,
        "description": query.descriptions,
        "parameters": parameters,
        "tags": list(query.tags),
        "columns": list(query.columns),
        "sparql": query.sparql,
        "links": {
            "self": url_for("queries_api.run_query", name=query.name),
            "page": url_for("query_pages.query_page", name=query.name),
            "csv": url_for("queries_api.run_query", name=query.name, format="csv"),
        },
    }


def choice_json(choice: Choice) -> dict[str, JsonValue]:
    """An allowed value with its label and group, as JSON."""
    return {"value": choice_value(choice), "label": choice.label, "group": choice.group}


def choice_value(choice: Choice) -> JsonValue:
    """An allowed value as JSON (integers stay integers)."""
    return json_value(choice.value) if isinstance(choice.value, ox.Literal) else choice.value.value


def enum(query: NamedQuery, param: Parameter) -> list[JsonValue] | None:
    """The values a request may give an enumerable parameter: those in the store, and the default; None
    when there are too many to list."""
    allowed = choices(query).get(param.name)
    if allowed is None:
        return None
    values = [choice_value(c) for c in allowed]
    default = json_default(param)
    return values if default in values else [default, *values]


@bp.get("/api/queries")
def list_queries() -> Response:
    """Every named query with its metadata."""
    return _json([describe(q, choices(q)) for q in library()])


@bp.get("/api/queries/<name>")
def run_query(name: str) -> Response:
    """Run one named query with the query string's parameters, in the negotiated format."""
    query = find(library(), name)
    if "format" in request.args:  # given but empty or unknown is an error, as the OpenAPI enum says
        fmt = by_name(request.args["format"], OFFERED)
    else:
        fmt = negotiate(request.headers.get("Accept"), None, OFFERED, RECORDS)
    solutions = run_request(query, request_values(request.args.to_dict(flat=False)))
    if fmt.name == RECORDS.name:
        response = _json(records(solutions))
    else:
        body = solutions.serialize(format=_RESULT_FORMATS[fmt.name])
        response = Response(body, content_type=fmt.content_type)
    response.headers["Vary"] = "Accept"
    if fmt in (CSV, TSV):
        response.headers["Content-Disposition"] = f'inline; filename="{name}.{fmt.extension}"'
    return response


@bp.get("/api/queries/<name>/parameters/<param>")
def parameter_values(name: str, param: str) -> Response | str:
    """The values of an enumerable parameter matching `q` (its first ones without), at most `limit`: JSON for
    programs and the forms' type-ahead, a page with a search box for browsers."""
    query = find(library(), name)
    try:
        parameter = query.parameter(param)
    except ParameterError as err:
        raise NotFound(err.message) from None
    if parameter.values is None:
        raise ParameterError(
            f"parameter {param!r} of {name!r} takes any {parameter.type}: nothing to look up"
        )
    text = request.args.get("q", "")
    limit = lookup_limit(request.args.get("limit"))
    fmt = negotiate(request.headers.get("Accept"), request.args.get("format"), (JSON, HTML), JSON)
    found = lookup(engine(), query, parameter, text, limit)
    if fmt.name == HTML.name:
        return render_template("queries_lookup.html", query=query, param=parameter, text=text, found=found)
    return _json({"query": name, "parameter": param, "q": text, "values": [choice_json(c) for c in found]})


def lookup_limit(raw: str | None) -> int:
    """The `limit` of a lookup: 1 to LOOKUP_LIMIT, 20 when not given; ParameterError otherwise."""
    if raw is None:
        return 20
    if not raw.isdigit() or not 1 <= int(raw) <= LOOKUP_LIMIT:
        raise ParameterError(f"limit must be an integer from 1 to {LOOKUP_LIMIT}, got {raw[:50]!r}")
    return int(raw)


@bp.get("/api/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 document, generated from the query headers and the allowed values in the store."""
    allowed = {q.name: {p.name: enum(q, p) for p in q.parameters if p.values} for q in library()}
    root = site_root(settings().public_url, request.url_root, absolute=True).rstrip("/")
    return _json(document(library(), allowed, root, __version__))


@bp.get("/api/docs")
def api_docs() -> str:
    """The interactive documentation (swagger-ui from node_modules), or a plain page without it."""
    swagger = package_url("swagger-ui-dist")  # None without node_modules: the page stays a plain list
    return render_template(
        "queries_api_docs.html",
        library=library(),
        swagger=swagger,
        spec_url=url_for("queries_api.openapi_document"),
    )


def _json(data: object) -> Response:
    """A JSON response, UTF-8, non-ASCII kept."""
    return Response(json.dumps(data, ensure_ascii=False), content_type="application/json; charset=utf-8")
