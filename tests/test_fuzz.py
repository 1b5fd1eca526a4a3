"""Hostile input against the real server process: random bytes and malformed UTF-8 in parameters, paths and
bodies, broken percent-encoding, huge and duplicated headers, random Accept values, random SPARQL fragments.
Whatever comes in: never a 5xx, never a traceback in a body, no worker dies, /health still 200 at the end.

Requests go over a raw socket (the request bytes exactly as generated: an HTTP library would encode or
refuse them) and answers are read with http.client's response parser. Bounded: at most MAX_EXAMPLES
examples per test, derandomized (the same examples on every run), one server with a 5 s query time limit.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_from_bytes, urlsplit

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .load import workers as server_workers
from .load import write_figures
from .servers import LiveServer, run_server

pytestmark = pytest.mark.live

MAX_EXAMPLES = 150
BOUNDED = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
QUERY_TIMEOUT = "5"  # seconds: a random query that happens to be costly is stopped soon
# The one 5xx a request may rightly get: a query stopped at the time limit (or no free query process within
# it), 503 as Fuseki and Virtuoso answer; the message says so.
TIME_LIMIT_WORDS = ("time limit",)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


@pytest.fixture(scope="module")
def fuzz_server(
    build_dir: Path, tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path
) -> Iterator[LiveServer]:
    """A server of its own: its workers must all survive, its log must hold no traceback."""
    args = ("--workers", "2", "--timeout", QUERY_TIMEOUT)
    with run_server(build_dir, tmp_path_factory.mktemp("fuzz"), args) as server:
        workers = server_workers(server.process.pid)
        yield server
        figures = dict(sorted(STATUSES.items()))
        print("\nfuzz: answers by test and status:", json.dumps(figures, indent=1))
        write_figures(artifacts_dir / "fuzz-statuses.json", figures)
        assert server.process.poll() is None, "the master died"
        assert server_workers(server.process.pid) == workers, "a worker died (the master started another)"
        response = requests.get(server.url + "/health", timeout=30)
        assert response.status_code == 200
        assert "Traceback" not in server.log()


def exchange(url: str, request: bytes, timeout: float = 60.0) -> Answer:
    """Send `request` as is on a new connection and read the answer."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(request)
        response = http.client.HTTPResponse(sock, method=request.split(b" ", 1)[0].decode("latin-1"))
        response.begin()
        try:
            body = response.read()
        except http.client.IncompleteRead as err:  # a stream cut at the time limit
            body = err.partial
        return Answer(response.status, response.headers, body)


def raw_request(
    method: bytes, target: bytes, headers: list[tuple[bytes, bytes]] = (), body: bytes | None = None
) -> bytes:
    """An HTTP/1.1 request, byte for byte."""
    lines = [method + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    lines += [name + b": " + value for name, value in headers]
    if body is not None:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


STATUSES: Counter[str] = Counter()  # "test: status" -> answers, reported at the end


def assert_sound(answer: Answer, what: object) -> None:
    """No server error (but the documented time limit), no traceback."""
    test = os.environ.get("PYTEST_CURRENT_TEST", "?").split("::")[-1].split("[")[0].split(" ")[0]
    by = "app" if "X-Cdv-Build" in answer.headers else "gunicorn"  # who answered
    STATUSES[f"{test}: {by} {answer.status}"] += 1
    if answer.status >= 500:
        assert answer.status == 503 and any(
            w in answer.body.decode("utf-8", "replace") for w in TIME_LIMIT_WORDS
        ), f"{answer.status} for {what!r}: {answer.body[:500]!r}"
    assert b"Traceback" not in answer.body, f"a traceback for {what!r}"


# --- strategies -------------------------------------------------------------------------------------------

# Bytes that do not end the request line (CR, LF, space, tab) nor start a fragment: they reach the app.
LINE_SAFE = st.integers(0x21, 0xFF).filter(lambda b: b != 0x23).map(lambda b: bytes([b]))
BROKEN_PERCENT = st.sampled_from(
    [
        b"%",
        b"%G1",
        b"%E9",
        b"%C3",
        b"%C3%28",
        b"%FF%FE",
        b"%ED%A0%80",
        b"%F0%9F",
        b"%C0%AF",
        b"%00",
        b"%0",
        b"%zz",
    ]
)
BAD_UTF8 = st.sampled_from(
    [b"\xc3", b"\xe9", b"\xff\xfe", b"\xed\xa0\x80", b"\xf0\x9f\x98", b"\xc0\xaf", b"\x80"]
)
SEPARATORS = st.sampled_from([b"&", b"=", b"+", b";", b"?", b"/", b"..", b"%2F", b"%26", b"%3D"])
# Raw: gunicorn's parser refuses most of these bytes in a request line before the app sees them.
RAW_VALUE = st.lists(st.one_of(LINE_SAFE, BROKEN_PERCENT, BAD_UTF8, SEPARATORS), max_size=40).map(b"".join)
# Percent-encoded random bytes (malformed UTF-8 once decoded) and broken escapes: these reach the app.
ENCODED_BYTES = st.binary(min_size=1, max_size=12).map(lambda b: quote_from_bytes(b, safe="").encode())
ASCII_SAFE = st.from_regex(rb"[A-Za-z0-9_.~!$'()*,:@-]{1,6}", fullmatch=True)
VALUE = st.lists(st.one_of(ENCODED_BYTES, BROKEN_PERCENT, SEPARATORS, ASCII_SAFE), max_size=20).map(b"".join)
HEADER_VALUE = st.binary(max_size=200).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"").strip())

KEYWORDS = [
    "SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "FILTER", "OPTIONAL", "UNION", "MINUS", "GRAPH",
    "SERVICE", "BIND", "VALUES", "GROUP BY", "ORDER BY", "HAVING", "LIMIT", "OFFSET", "DISTINCT", "REDUCED",
    "PREFIX", "BASE", "FROM", "FROM NAMED", "AS", "COUNT(", "REGEX(", "STR(", "LANG(", "CONTAINS(", "NOW()",
    "EXISTS", "NOT", "IN", "a", "INSERT DATA", "DELETE", "LOAD", "CLEAR", "DROP",
]  # fmt: skip
TOKENS = st.one_of(
    st.sampled_from(KEYWORDS),
    st.from_regex(r"[?$][A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True),
    st.sampled_from(["<https://w3id.org/cdv/id/le-quesnoy>", "<>", "<http://[::1]/>", "<a b>", "cdv:Mesure",
                     "rdf:type", ":x", "_:b0", "[]", "()"]),
    st.sampled_from(['"x"', '"é"@fr', '"1"^^xsd:integer', "42", "-1.5e3", "true", '"""a"""', "'", '"']),
    st.sampled_from(["{", "}", "(", ")", ".", ";", ",", "*", "=", "!=", "<", ">", "&&", "||", "+", "-", "/",
                     "^", "|", "#", "\\", "\x00", "\ufffd", "\u202e"]),
    st.text(max_size=8),
)  # fmt: skip
PATTERNS = st.sampled_from(
    [
        "?s ?p ?o .",
        "?s a cdv:Mesure .",
        "?s cdv:numero ?n .",
        "FILTER(?n > 3)",
        "OPTIONAL { ?s rdfs:label ?l }",
        'FILTER(REGEX(STR(?s), "mesure/1"))',
        "BIND(STR(?s) AS ?t)",
        '?s ?p "santé"@fr .',
        "MINUS { ?s a cdv:Axe }",
        "VALUES ?s { <https://w3id.org/cdv/id/le-quesnoy> }",
        "{ ?s ?p ?o } UNION { ?o ?p ?s }",
        'FILTER(LANG(?l) = "fr")',
        "GRAPH ?g { ?s ?p ?o }",
        "FILTER NOT EXISTS { ?s cdv:texte ?x }",
    ]
)
FORMS = st.sampled_from(
    [
        "SELECT *",
        "SELECT DISTINCT ?s",
        "ASK",
        "CONSTRUCT { ?s ?p ?o }",
        "DESCRIBE ?s",
        "SELECT (COUNT(*) AS ?c)",
    ]
)
# Mostly well-formed queries with random parts (they reach the engine), and free token soup (the parser).
SPARQL = st.one_of(
    st.builds(
        lambda form, body, limit: (
            "PREFIX cdv: <https://w3id.org/cdv/ontology#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
            f"{form} WHERE {{ {' '.join(body)} }} LIMIT {limit}"
        ),
        FORMS,
        st.lists(st.one_of(PATTERNS, PATTERNS, TOKENS), max_size=6),
        st.integers(0, 50),
    ),
    st.lists(TOKENS, max_size=30).map(" ".join),
)
TARGETS = [
    b"/sparql?query=",
    b"/sparql?query=ASK%7B%7D&default-graph-uri=",
    b"/sparql?format=",
    b"/api/queries/signatories?avenant=",
    b"/api/queries/search-measures?texte=",
    b"/api/queries/",
    b"/search?q=",
    b"/search?format=json&q=",
    b"/catalog?format=",
    b"/id/",
    b"/id/le-quesnoy/avenant-2020-2022/mesure/",
    b"/queries/",
    b"/dumps/",
    b"/",
]


# --- tests ------------------------------------------------------------------------------------------------


@BOUNDED
@given(target=st.sampled_from(TARGETS), value=VALUE, key=VALUE, raw=RAW_VALUE)
def test_bytes_in_paths_and_parameters(
    fuzz_server: LiveServer, target: bytes, value: bytes, key: bytes, raw: bytes
) -> None:
    for request_target in (target + value, target + value + b"&" + key + b"=" + value, target + raw):
        answer = exchange(fuzz_server.url, raw_request(b"GET", request_target))
        assert_sound(answer, request_target)


@BOUNDED
@given(data=st.binary(max_size=300), target=st.sampled_from(TARGETS))
def test_any_bytes_after_the_method(fuzz_server: LiveServer, data: bytes, target: bytes) -> None:
    """Bytes that may break the request line itself (spaces, CR, LF): gunicorn's parser answers them."""
    answer = exchange(fuzz_server.url, raw_request(b"GET", target + data))
    assert_sound(answer, data)


@BOUNDED
@given(
    body=st.one_of(st.binary(max_size=400), VALUE),
    content_type=st.sampled_from(
        [
            b"application/sparql-query",
            b"application/x-www-form-urlencoded",
            b"application/sparql-query; charset=latin-1",
            b"application/x-www-form-urlencoded; charset=utf-16",
            b"multipart/form-data; boundary=x",
            b"text/plain",
            b"",
        ]
    ),
    prefix=st.sampled_from([b"", b"query=", b"query=ASK{}&default-graph-uri=", b"update="]),
)
def test_bodies(fuzz_server: LiveServer, body: bytes, content_type: bytes, prefix: bytes) -> None:
    data = prefix + body
    answer = exchange(
        fuzz_server.url, raw_request(b"POST", b"/sparql", [(b"Content-Type", content_type)], body=data)
    )
    assert_sound(answer, (content_type, data))


@BOUNDED
@given(
    target=st.sampled_from(
        [
            b"/sparql?query=ASK%7B%7D",
            b"/id/le-quesnoy/avenant-2020-2022",
            b"/catalog",
            b"/search?q=sante",
            b"/api/queries/signatories",
            b"/",
            b"/health",
            b"/sparql",
        ]
    ),
    accept=st.one_of(
        HEADER_VALUE,
        st.lists(
            st.sampled_from(
                [
                    "text/html",
                    "*/*",
                    "text/*",
                    "application/json",
                    "text/turtle;q=0.5",
                    ";q=x",
                    "q=1",
                    "application/sparql-results+json;q=0",
                    ",",
                    "*/html",
                    "text/csv; charset=x",
                    'application/ld+json;profile="',
                    "x" * 300,
                ]
            ),
            max_size=12,
        ).map(lambda xs: ", ".join(xs).encode()),
    ),
    language=HEADER_VALUE,
)
def test_accept_values(fuzz_server: LiveServer, target: bytes, accept: bytes, language: bytes) -> None:
    headers = [(b"Accept", accept), (b"Accept-Language", language), (b"If-None-Match", accept)]
    answer = exchange(fuzz_server.url, raw_request(b"GET", target, headers))
    assert_sound(answer, (target, accept, language))


@BOUNDED
@given(query=SPARQL, method=st.sampled_from(["GET", "POST", "POST-FORM"]))
def test_sparql_fragments(fuzz_server: LiveServer, query: str, method: str) -> None:
    encoded = query.encode("utf-8", "surrogatepass")
    accept = (b"Accept", b"application/sparql-results+json, text/turtle;q=0.9")
    if method == "GET":
        request = raw_request(b"GET", b"/sparql?query=" + quote(encoded, safe="").encode(), [accept])
    elif method == "POST":
        request = raw_request(
            b"POST", b"/sparql", [accept, (b"Content-Type", b"application/sparql-query")], body=encoded
        )
    else:
        body = b"query=" + quote(encoded, safe="").encode()
        request = raw_request(
            b"POST", b"/sparql", [accept, (b"Content-Type", b"application/x-www-form-urlencoded")], body=body
        )
    assert_sound(exchange(fuzz_server.url, request), query)


@pytest.mark.parametrize(
    ("name", "headers"),
    [
        ("huge header", [(b"X-Big", b"a" * 20_000)]),
        ("huge Accept", [(b"Accept", b"text/html," * 2_000)]),
        ("many headers", [(f"X-H{i}".encode(), b"v") for i in range(500)]),
        ("duplicated Accept", [(b"Accept", b"text/turtle")] * 200),
        ("duplicated Host", [(b"Host", b"example.org"), (b"Host", b"evil.example")]),
        (
            "duplicated Content-Type",
            [(b"Content-Type", b"text/plain"), (b"Content-Type", b"application/json")],
        ),
        ("two Content-Length", [(b"Content-Length", b"0"), (b"Content-Length", b"5")]),
        ("chunked and length", [(b"Transfer-Encoding", b"chunked"), (b"Content-Length", b"3")]),
        ("bad Content-Length", [(b"Content-Length", b"-1")]),
        ("header without colon", [(b"NoColon", b"")]),
        ("non-ASCII header name", [("Ac\u00e7ept".encode(), b"x")]),
        ("NUL in value", [(b"Accept", b"text/\x00html")]),
    ],
)
@pytest.mark.parametrize(
    "target", [b"/sparql?query=ASK%7B%7D", b"/id/le-quesnoy/avenant-2020-2022", b"/search?q=a"]
)
def test_huge_and_duplicated_headers(
    fuzz_server: LiveServer, name: str, headers: list[tuple[bytes, bytes]], target: bytes
) -> None:
    if name == "header without colon":
        request = raw_request(b"GET", target).replace(b"\r\n\r\n", b"\r\nNoColon\r\n\r\n")
    else:
        request = raw_request(b"GET", target, headers)
    answer = exchange(fuzz_server.url, request)
    assert_sound(answer, name)
    assert answer.status < 500


def test_a_huge_request_line_is_refused(fuzz_server: LiveServer) -> None:
    answer = exchange(fuzz_server.url, raw_request(b"GET", b"/sparql?query=" + b"a" * 100_000))
    assert 400 <= answer.status < 500


HEADER_NAMES = [
    b"Range",
    b"If-Range",
    b"If-None-Match",
    b"If-Match",
    b"If-Modified-Since",
    b"If-Unmodified-Since",
    b"Accept-Encoding",
    b"Accept-Charset",
    b"Origin",
    b"Access-Control-Request-Method",
    b"Access-Control-Request-Headers",
    b"Content-Type",
    b"Cookie",
    b"Forwarded",
    b"X-Forwarded-Host",
    b"X-Forwarded-Proto",
]
HEADER_SOUP = st.one_of(
    HEADER_VALUE,
    st.sampled_from(
        [b"bytes=5-1", b"bytes=-0", b"bytes=0-0,-1", b"bytes=999999999999-", b"bytes=", b"items=0-1", b"bytes=1-2,"
         b"3-4,5-6,7-8", b'"x", W/"y"', b"*", b"W/", b"Thu, 01 Jan 1970 00:00:00 GMT", b"Sun, 99 Foo 10000 25:61:61",
         b"gzip;q=2, br;q=-1, *;q=0", b"identity;q=0", b"null", b"http://[::1", b"multipart/form-data", b"a=b; c"]
    ),
)  # fmt: skip
METHODS = st.sampled_from(
    [b"GET", b"HEAD", b"OPTIONS", b"POST", b"PUT", b"DELETE", b"PATCH", b"PROPFIND", b"TRACE"]
)


@BOUNDED
@given(
    method=METHODS,
    target=st.sampled_from(
        [b"/dumps/cdv-graph.nq", b"/dumps/cdv-graph.nq.gz", b"/sparql?query=ASK%7B%7D", b"/catalog", b"/",
         b"/id/le-quesnoy/avenant-2020-2022", b"/search?q=sante", b"/api/queries/signatories", b"/static/cdv.css"]
    ),
    headers=st.lists(st.tuples(st.sampled_from(HEADER_NAMES), HEADER_SOUP), max_size=6),
)  # fmt: skip
def test_methods_and_header_values(
    fuzz_server: LiveServer, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    body = b"" if method in (b"POST", b"PUT", b"PATCH") else None
    answer = exchange(fuzz_server.url, raw_request(method, target, headers, body=body))
    assert_sound(answer, (method, target, headers))


SEARCH_TEXT = st.lists(
    st.one_of(
        st.text(max_size=10),
        st.sampled_from(["santé", "ecole", "emploi", "quartier", "jeunes", "cadre", "Le Quesnoy", "mesure"]),
        st.sampled_from(['"', "*", "AND", "OR", "NOT", "NEAR", "NEAR(", "(", ")", "^", ":", "-", "+", "texte:",
                         "{a b}", "santé", "sécurité*", '"cadre de vie"', "\x00", "\u0301", "ǅ", "ﬁ", "İ"]),
    ),
    max_size=12,
).map(" ".join)  # fmt: skip


@BOUNDED
@given(
    q=SEARCH_TEXT,
    accept=st.sampled_from(["application/json", "text/html", "*/*"]),
    page=st.one_of(st.just(b"1"), VALUE),
)
def test_search_text(fuzz_server: LiveServer, q: str, accept: str, page: bytes) -> None:
    """Full-text query syntax (FTS operators, phrases, prefixes, odd Unicode) in `q` and junk in other parameters."""
    target = b"/search?q=" + quote(q.encode("utf-8", "surrogatepass"), safe="").encode() + b"&page=" + page
    answer = exchange(fuzz_server.url, raw_request(b"GET", target, [(b"Accept", accept.encode())]))
    assert_sound(answer, (q, page))
