"""The SPARQL path below Flask (server/web/sparql_fast.py) answers exactly as Flask's path would.

Each request of the table is sent twice to the same app: through the whole WSGI stack (where the fast path
takes what it can) and to Flask alone (the middleware's `inner`). Status, headers (but Date) and body must be
the same; and the table checks which requests the fast path takes, so a request it should leave to Flask
(compression, conditional requests, the editor, the service description, preflight) is seen to be left.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from werkzeug.test import Client, EnvironBuilder

from server.web.sparql_fast import FastProtocol, takes

SELECT = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 5"
CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 5"
FORM = "application/x-www-form-urlencoded"
JSON = "application/sparql-results+json"

# (id, method, query-string arguments, form body or raw body, headers, whether `takes` accepts it); all on /sparql
# but the last. `takes` looks at the text of the query string only: ?myquery= passes it, and the middleware then
# sees no `query` argument and hands the request to Flask.
CASES: list[tuple[str, str, dict[str, Any], Any, dict[str, str], bool]] = [
    ("get-json", "GET", {"query": SELECT}, None, {"Accept": JSON}, True),
    ("get-csv-format", "GET", {"query": SELECT, "format": "csv"}, None, {}, True),
    ("get-no-accept", "GET", {"query": SELECT}, None, {}, True),
    ("get-construct-turtle", "GET", {"query": CONSTRUCT}, None, {"Accept": "text/turtle"}, True),
    ("get-ask-xml", "GET", {"query": "ASK {}"}, None, {"Accept": "application/sparql-results+xml"}, True),
    ("post-form", "POST", {}, {"query": SELECT}, {"Accept": JSON}, True),
    ("post-body", "POST", {}, SELECT, {"Content-Type": "application/sparql-query"}, True),
    ("post-dataset", "POST", {"default-graph-uri": "urn:x:none"}, {"query": SELECT}, {}, True),
    (
        "get-now-no-store",
        "GET",
        {"query": "SELECT (NOW() AS ?n) {} LIMIT 0"},
        None,
        {"Accept": "text/csv"},
        True,
    ),
    ("with-origin", "GET", {"query": "ASK {}"}, None, {"Origin": "https://example.org"}, True),
    ("identity-encoding", "GET", {"query": SELECT}, None, {"Accept-Encoding": "identity"}, True),
    ("syntax-error", "GET", {"query": "SELECT * {"}, None, {}, True),
    ("update-refused", "POST", {}, {"query": "INSERT DATA { <urn:x:a> <urn:x:b> <urn:x:c> }"}, {}, True),
    (
        "service-refused",
        "GET",
        {"query": "SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"},
        None,
        {},
        True,
    ),
    ("not-acceptable-post", "POST", {}, {"query": SELECT}, {"Accept": "image/png"}, True),
    ("not-acceptable-get-left", "GET", {"query": SELECT}, None, {"Accept": "image/png"}, False),
    ("unknown-format", "GET", {"query": SELECT, "format": "png"}, None, {}, True),
    ("wrong-content-type", "POST", {}, "x", {"Content-Type": "text/plain"}, True),
    ("empty-post", "POST", {}, {}, {}, True),
    ("two-queries", "GET", {"query": ["ASK {}", "ASK {}"]}, None, {}, True),
    ("bad-graph-iri", "GET", {"query": "ASK {}", "default-graph-uri": "nope"}, None, {}, True),
    ("gzip-left-to-flask", "GET", {"query": SELECT}, None, {"Accept-Encoding": "gzip"}, False),
    ("conditional-left", "GET", {"query": SELECT}, None, {"If-None-Match": '"x"'}, False),
    ("editor-left", "GET", {"query": SELECT}, None, {"Accept": "text/html,*/*;q=0.8"}, False),
    ("description-left", "GET", {}, None, {"Accept": "text/turtle"}, False),
    ("other-name-left", "GET", {"myquery": "ASK {}"}, None, {"Accept": "text/turtle"}, True),
    ("head-left", "HEAD", {"query": SELECT}, None, {}, False),
    (
        "preflight-left",
        "OPTIONS",
        {},
        None,
        {"Origin": "https://e.org", "Access-Control-Request-Method": "POST"},
        False,
    ),
    ("other-path-left", "GET", {"query": SELECT}, None, {"X-Path": "/sparql/"}, False),
]


def _builder(
    method: str, args: dict[str, Any], body: Any, headers: dict[str, str], path: str
) -> EnvironBuilder:
    kwargs: dict[str, Any] = {"method": method, "query_string": args, "headers": headers}
    if isinstance(body, dict):
        kwargs["data"] = body
        kwargs["content_type"] = FORM
    elif body is not None:
        kwargs["data"] = body.encode()
    return EnvironBuilder(path=path, **kwargs)


def _fast(app: Flask) -> FastProtocol:
    """The middleware in the app's WSGI stack."""
    layer: Any = app.wsgi_app
    while not isinstance(layer, FastProtocol):
        layer = layer.wsgi_app if hasattr(layer, "wsgi_app") else layer.app
    return layer


@pytest.mark.parametrize(
    ("method", "args", "body", "headers", "taken"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_both_paths_answer_the_same(
    app: Flask, method: str, args: dict[str, Any], body: Any, headers: dict[str, str], taken: bool
) -> None:
    path = headers.get("X-Path", "/sparql")
    environ = _builder(method, args, body, headers, path).get_environ()
    assert takes(environ) is taken
    if not taken or "myquery" in args:  # Flask's path both times (the service description's blank nodes
        return  # differ from run to run)
    answers = []
    for wsgi in (app.wsgi_app, _fast(app).inner):
        response = Client(wsgi).open(_builder(method, args, body, headers, path))
        answers.append(
            (
                response.status_code,
                sorted((k, v) for k, v in response.headers.items() if k != "Date"),
                response.get_data(),
            )
        )
    assert answers[0] == answers[1]
