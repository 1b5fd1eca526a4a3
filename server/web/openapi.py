"""Pure: the OpenAPI 3.1 document of the named-query API, generated from the query headers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from server.core.library import NamedQuery, Parameter
from server.core.query_results import JsonValue
from server.core.search_syntax import MAX_QUERY_CHARS

MAX_INTEGER = 10**18 - 1  # integer parameters are bound as 64-bit values (queries._INTEGER)
FORMAT_NAMES = ("json", "sparql-json", "csv", "tsv")  # the ?format= values of /api/queries/<name>
LOOKUP_LIMIT = 100  # the most values one lookup answers with (a type-ahead shows a screenful)
LOOKUP_PATH = "/api/queries/{name}/parameters/{param}"
LOOKUP_NOTE = (
    "Too many values to list here: look them up by text at `GET /api/queries/{name}/parameters/{param}?q=…`."
)

SEARCH_NOTE = (
    "Answered from the full-text search index of the build (the one `/search` uses): `{param}` is a search "
    'text (all words must match, case and accents ignored; "…" for a phrase; a trailing * for a prefix); '
    "rows come best match first (the best 100 ?{bind})."
)
_SCALAR = {"type": ["string", "number", "boolean", "null"]}
_TEXT = {"schema": {"type": "string"}}
_PLAIN_ERROR = {"text/plain": _TEXT}
_TYPE_SCHEMAS: dict[str, dict[str, Any]] = {
    "iri": {"type": "string", "format": "iri"},
    "string": {"type": "string"},
    "integer": {"type": "integer", "minimum": -MAX_INTEGER, "maximum": MAX_INTEGER},
    "date": {"type": "string", "format": "date"},
}

SPARQL_RESULTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["head", "results"],
    "properties": {
        "head": {
            "type": "object",
            "required": ["vars"],
            "properties": {"vars": {"type": "array", "items": {"type": "string"}}},
        },
        "results": {
            "type": "object",
            "required": ["bindings"],
            "properties": {
                "bindings": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "object",
                            "required": ["type", "value"],
                            "properties": {
                                "type": {"enum": ["uri", "literal", "bnode", "triple"]},
                                "value": {},
                                "datatype": {"type": "string"},
                                "xml:lang": {"type": "string"},
                            },
                        },
                    },
                }
            },
        },
    },
}

PARAMETER_INFO_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "type", "default"],
    "properties": {
        "name": {"type": "string"},
        "type": {"enum": ["iri", "string", "integer", "date"]},
        "default": {"type": ["string", "integer"]},
        "description": {"type": "string"},
        "lookup": {"type": "string", "description": "Where the values are looked up by text."},
        "allowed": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["value", "label"],
                "properties": {
                    "value": {"type": ["string", "integer"]},
                    "label": {"type": "string"},
                    "group": {"type": "string"},
                },
            },
        },
    },
}

QUERY_INFO_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "title", "description", "parameters", "tags", "columns", "links"],
    "properties": {
        "name": {"type": "string"},
        "title": {"type": "object", "additionalProperties": {"type": "string"}},
        "description": {"type": "object", "additionalProperties": {"type": "string"}},
        "parameters": {"type": "array", "items": PARAMETER_INFO_SCHEMA},
        "tags": {"type": "array", "items": {"type": "string"}},
        "columns": {"type": "array", "items": {"type": "string"}},
        "sparql": {"type": "string"},
        "links": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def parameter_schema(
    param: Parameter, allowed: Sequence[JsonValue] | None, searched: bool = False
) -> dict[str, Any]:
    """The JSON schema of one query parameter: its type, default and, when enumerable, its values.

    A search text (`searched`) gets its length bounds; the rest of its grammar (balanced quotes, where `*`
    may stand) is no regular language JSON Schema can state, so it is described in words and its 400 too.
    """
    schema = dict(_TYPE_SCHEMAS[param.type])
    schema["default"] = json_default(param)
    if allowed:
        schema["enum"] = list(allowed)
    if searched:
        schema.update(minLength=1, maxLength=MAX_QUERY_CHARS)
    return schema


def _searched(query: NamedQuery, param: Parameter) -> bool:
    return query.engine is not None and query.engine.param == param.name


def json_default(param: Parameter) -> JsonValue:
    """A parameter's default as a JSON value (an integer for integers, else its lexical form)."""
    value = param.default.value
    return int(value) if param.type == "integer" else value


def records_schema(query: NamedQuery) -> dict[str, Any]:
    """The schema of the plain-records answer: a list of objects with one key per column."""
    return {
        "type": "array",
        "items": {
            "type": "object",
            "required": list(query.columns),
            "properties": {column: _SCALAR for column in query.columns},
            "additionalProperties": False,
        },
    }


def _description(query: NamedQuery, param: Parameter, listed: bool) -> str:
    """A parameter's description; an enumerable one whose values are not listed says where to look them up."""
    text = param.description or param.name
    if param.values is None or listed:
        return text
    return f"{text}. {LOOKUP_NOTE.format(name=query.name, param=param.name)}"


def operation(query: NamedQuery, allowed: Mapping[str, Sequence[JsonValue] | None]) -> dict[str, Any]:
    """The GET operation of one query: its parameters, formats and answers."""
    parameters = [
        {
            "name": p.name,
            "in": "query",
            "required": False,
            "description": _description(query, p, allowed.get(p.name) is not None),
            "schema": parameter_schema(p, allowed.get(p.name), searched=_searched(query, p)),
        }
        for p in query.parameters
    ]
    parameters.append(
        {
            "name": "format",
            "in": "query",
            "required": False,
            "description": "Answer format; overrides the Accept header.",
            "schema": {"type": "string", "enum": list(FORMAT_NAMES)},
        }
    )
    bad_request = "A parameter is unknown, repeated, of the wrong type or not allowed."
    descriptions = [query.descriptions[lang] for lang in ("en", "fr") if lang in query.descriptions]
    if query.engine is not None:
        descriptions.append(SEARCH_NOTE.format(param=query.engine.param, bind=query.engine.bind))
        bad_request += f" Or the search text `{query.engine.param}` is empty, too long or malformed."
    return {
        "operationId": query.name,
        "summary": query.title.get("en", query.name),
        "description": "\n\n".join(descriptions),
        "tags": list(query.tags[:1]),  # one group each in the docs page (all tags are in /api/queries)
        "parameters": parameters,
        "responses": {
            "200": {
                "description": "The answer, in the negotiated format.",
                "content": {
                    "application/json": {"schema": records_schema(query)},
                    "application/sparql-results+json": {"schema": SPARQL_RESULTS_SCHEMA},
                    "text/csv": _TEXT,
                    "text/tab-separated-values": _TEXT,
                },
            },
            "400": {
                "description": bad_request,
                "content": _PLAIN_ERROR,
            },
            "406": {"description": "None of the accepted formats can be produced.", "content": _PLAIN_ERROR},
            "429": TOO_MANY_REQUESTS,
        },
    }


TOO_MANY_REQUESTS = {  # server/web/fair_share.py
    "description": "This client already has its share of queries running, or has used its query time of the "
    "last minute.",
    "headers": {
        "Retry-After": {"description": "Seconds until a query can be sent.", "schema": {"type": "integer"}}
    },
    "content": _PLAIN_ERROR,
}


LOOKUP_OPERATION: dict[str, Any] = {
    "operationId": "lookupParameterValues",
    "summary": "The values of a query's enumerable parameter whose label or IRI matches a text.",
    "description": "A type-ahead for parameters with too many values to list: the instances are searched in "
    "the full-text index (the last word is a prefix), an IRI or another value by a text match. Without `q`, "
    "the first values.",
    "parameters": [
        {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": "param", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": "q", "in": "query", "required": False, "schema": {"type": "string"}},
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": LOOKUP_LIMIT, "default": 20},
        },
    ],
    "responses": {
        "200": {
            "description": "The matching values, with their labels and groups (their document).",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["query", "parameter", "q", "values"],
                        "properties": {
                            "query": {"type": "string"},
                            "parameter": {"type": "string"},
                            "q": {"type": "string"},
                            "values": PARAMETER_INFO_SCHEMA["properties"]["allowed"],
                        },
                    }
                }
            },
        },
        "400": {
            "description": "A bad limit or search text, or a parameter with no values to look up.",
            "content": _PLAIN_ERROR,
        },
        "404": {"description": "No such query or parameter.", "content": _PLAIN_ERROR},
    },
}


def document(
    library: Sequence[NamedQuery],
    allowed: Mapping[str, Mapping[str, Sequence[JsonValue] | None]],
    server_url: str,
    version: str,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document: the list of queries and one path per query.

    `allowed` maps query name → parameter name → allowed values (computed from the store by the caller).
    """
    paths: dict[str, Any] = {
        "/api/queries": {
            "get": {
                "operationId": "listQueries",
                "summary": "The named queries, with their parameters and links.",
                "responses": {
                    "200": {
                        "description": "The library.",
                        "content": {
                            "application/json": {"schema": {"type": "array", "items": QUERY_INFO_SCHEMA}}
                        },
                    }
                },
            }
        }
    }
    for query in library:
        paths[f"/api/queries/{query.name}"] = {"get": operation(query, allowed.get(query.name, {}))}
    paths[LOOKUP_PATH] = {"get": LOOKUP_OPERATION}
    tags = sorted({query.tags[0] for query in library if query.tags})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "cdv-graph named queries",
            "version": version,
            "description": "The analysts' library of SPARQL queries over the knowledge graph of the contrats de "
            "ville, as a web API. Each query answers with its defaults; parameters are typed and bound as RDF "
            "terms.",
        },
        "servers": [{"url": server_url}],
        "tags": [{"name": tag} for tag in tags],
        "paths": paths,
    }
