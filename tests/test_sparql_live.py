"""The SPARQL endpoint of the real server process (`cdv serve`, gunicorn) over HTTP, with real clients.

SPARQLWrapper and rdflib's SPARQLStore query it; the time limit, the refusal of SERVICE (a local HTTP
listener must receive nothing) and of SPARQL Update, CORS and the size limits are checked end to end.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pyoxigraph as ox
import pytest
import rdflib
import requests
from rdflib.compare import isomorphic
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import JSON, TURTLE, XML, SPARQLWrapper

from server.engine.release import Release

from .servers import LiveServer, run_server

pytestmark = pytest.mark.live

PREFIXES = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX cdv: <https://w3id.org/cdv/ontology#>
"""
SELECT = PREFIXES + "SELECT ?s ?label WHERE { ?s a cdv:Mesure ; rdfs:label ?label }"
ASK = PREFIXES + "ASK { ?s a cdv:Mesure }"
CONSTRUCT = PREFIXES + "CONSTRUCT { ?s rdfs:label ?label } WHERE { ?s a cdv:Mesure ; rdfs:label ?label }"
SMALL = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 5"
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
ENDLESS_ROWS = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
TIME_LIMIT = 2.0


def store(release: Release) -> ox.Store:
    return ox.Store.read_only(str(release.store_path))


def direct_bindings(release: Release, query: str) -> set[tuple[str, str]]:
    return {
        (row["s"].value, row["label"].value)
        for row in store(release).query(query, use_default_graph_as_union=True)  # type: ignore[union-attr]
    }


def direct_graph(release: Release, query: str) -> rdflib.Graph:
    triples = store(release).query(query, use_default_graph_as_union=True)
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)  # type: ignore[arg-type]
    return rdflib.Graph().parse(data=data, format="nt")


def endpoint(server: LiveServer) -> str:
    return server.url + "/sparql"


# --- real clients -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("return_format", [JSON, XML])
def test_sparqlwrapper_select(
    live_server: LiveServer, release: Release, method: str, return_format: str
) -> None:
    client = SPARQLWrapper(endpoint(live_server))
    client.setMethod(method)
    client.setQuery(SELECT)
    client.setReturnFormat(return_format)
    results = client.query().convert()
    if return_format == JSON:
        got = {(b["s"]["value"], b["label"]["value"]) for b in results["results"]["bindings"]}  # type: ignore[index]
    else:
        rows = ox.parse_query_results(results.toxml().encode(), ox.QueryResultsFormat.XML)  # type: ignore[union-attr]
        got = {(r["s"].value, r["label"].value) for r in rows}  # type: ignore[union-attr]
    assert got == direct_bindings(release, SELECT)
    assert got


# SPARQLWrapper converts RDF with rdflib's ConjunctiveGraph, which rdflib itself deprecates: not ours to fix
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sparqlwrapper_ask_and_construct(live_server: LiveServer, release: Release, method: str) -> None:
    client = SPARQLWrapper(endpoint(live_server))
    client.setMethod(method)
    client.setQuery(ASK)
    client.setReturnFormat(JSON)
    assert client.query().convert()["boolean"] is True  # type: ignore[index]
    client.setQuery(CONSTRUCT)
    client.setReturnFormat(XML)  # RDF/XML for CONSTRUCT, as SPARQLWrapper asks by default
    assert isomorphic(client.query().convert(), direct_graph(release, CONSTRUCT))  # type: ignore[arg-type]
    client.setReturnFormat(TURTLE)
    turtle = client.query().convert()
    graph = rdflib.Graph().parse(data=turtle, format="turtle")  # type: ignore[arg-type]
    assert isomorphic(graph, direct_graph(release, CONSTRUCT))


@pytest.mark.parametrize("method", ["GET", "POST", "POST_FORM"])
def test_rdflib_sparqlstore(live_server: LiveServer, release: Release, method: str) -> None:
    graph = rdflib.Graph(store=SPARQLStore(endpoint(live_server), method=method))
    got = {(str(row.s), str(row.label)) for row in graph.query(SELECT)}  # type: ignore[union-attr]
    assert got == direct_bindings(release, SELECT)
    assert graph.query(ASK).askAnswer is True
    constructed = rdflib.Graph()
    for triple in graph.query(CONSTRUCT):
        constructed.add(triple)  # type: ignore[arg-type]
    assert isomorphic(constructed, direct_graph(release, CONSTRUCT))


def test_large_results_are_streamed_chunked(live_server: LiveServer, release: Release) -> None:
    response = requests.get(
        endpoint(live_server),
        params={"query": "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"},
        headers={"Accept": "text/tab-separated-values", "Accept-Encoding": "identity"},
        timeout=30,
    )
    assert response.status_code == 200
    assert response.headers.get("Transfer-Encoding") == "chunked"
    rows = response.content.decode().splitlines()
    assert rows[0] == "?s\t?p\t?o"
    assert len(rows) - 1 == len(store(release))


def test_compression_when_asked(live_server: LiveServer) -> None:
    response = requests.get(
        endpoint(live_server), params={"query": SELECT}, headers={"Accept-Encoding": "gzip"}, timeout=30
    )
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == "gzip"
    assert response.json()["results"]["bindings"]


# --- read-only, no federation -------------------------------------------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Records every request it receives (the SERVICE target)."""

    received: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.received.append(f"{self.command} {self.path}")
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.end_headers()
        self.wfile.write(b'{"head":{"vars":["s"]},"results":{"bindings":[]}}')

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture()
def listener() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records requests: the URL a SERVICE clause would name."""
    received: ClassVar[list[str]] = []
    handler = type("Recorder", (_Recorder,), {"received": received})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sparql", received
    finally:
        server.shutdown()
        server.server_close()


def test_the_listener_would_see_a_service_call(listener: tuple[str, list[str]]) -> None:
    """Control: pyoxigraph on its own does call a SERVICE URL, so the next test means something."""
    url, received = listener
    with contextlib.suppress(OSError, RuntimeError):  # whatever it makes of the answer, it asked
        list(ox.Store().query(f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"))  # type: ignore[arg-type]
    assert received


SERVICE_QUERIES = [
    "SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
    "ASK {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} }}",
    "SELECT * WHERE {{ FILTER EXISTS {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
    "SELECT * WHERE {{ \\u0053ERVICE <{url}> {{ ?s ?p ?o }} }}",
    "# a comment\nselect * where {{ service <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * FROM <urn:x:g> WHERE {{ BIND(<{url}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
]


@pytest.mark.parametrize("how", ["GET", "POST form", "POST body"])
def test_service_is_refused_before_it_runs(
    live_server: LiveServer, listener: tuple[str, list[str]], how: str
) -> None:
    url, received = listener
    for template in SERVICE_QUERIES:
        query = template.format(url=url)
        if how == "GET":
            response = requests.get(endpoint(live_server), params={"query": query}, timeout=30)
        elif how == "POST form":
            response = requests.post(endpoint(live_server), data={"query": query}, timeout=30)
        else:
            response = requests.post(
                endpoint(live_server),
                data=query.encode(),
                headers={"Content-Type": "application/sparql-query"},
                timeout=30,
            )
        assert response.status_code == 403, (query, response.text)
        assert "SERVICE" in response.text
    time.sleep(0.2)
    assert received == []


def test_updates_are_refused_and_the_data_is_unchanged(live_server: LiveServer) -> None:
    triple = "<urn:example:s> <urn:example:p> <urn:example:o>"
    probe = f"ASK {{ {triple} }}"

    def triples() -> tuple[int, str]:
        health = requests.get(live_server.url + "/health", timeout=10).json()["triples"]
        count = requests.get(endpoint(live_server), params={"query": COUNT}, timeout=30).json()
        return health, count["results"]["bindings"][0]["n"]["value"]

    before = triples()
    attempts = [
        requests.post(endpoint(live_server), data={"update": f"INSERT DATA {{ {triple} }}"}, timeout=30),
        requests.get(endpoint(live_server), params={"update": "CLEAR ALL"}, timeout=30),
        requests.post(
            endpoint(live_server),
            data=f"INSERT DATA {{ {triple} }}".encode(),
            headers={"Content-Type": "application/sparql-update"},
            timeout=30,
        ),
        requests.post(endpoint(live_server), data={"query": f"INSERT DATA {{ {triple} }}"}, timeout=30),
        requests.post(endpoint(live_server), data={"query": "DELETE WHERE { ?s ?p ?o }"}, timeout=30),
        requests.post(
            endpoint(live_server),
            data=b"DROP ALL",
            headers={"Content-Type": "application/sparql-query"},
            timeout=30,
        ),
    ]
    for response in attempts:
        assert response.status_code == 403, response.text
        assert "read-only" in response.text
    assert triples() == before
    answer = requests.get(endpoint(live_server), params={"query": probe}, timeout=30).json()
    assert answer["boolean"] is False


# --- limits, errors, CORS, access log ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "status", "words"),
    [
        ({"data": b"x" * 2_000_000, "headers": {"Content-Type": "application/sparql-query"}}, 413, "bytes"),
        ({"data": {"query": "x" * 2_000_000}}, 413, "bytes"),
        (
            {
                "data": iter([b"#" + b"x" * 700_000, b"x" * 700_000]),
                "headers": {"Content-Type": "application/sparql-query"},
            },
            413,
            "bytes",
        ),
        ({"data": {"query": "ASK {}" + " " * 200_000}}, 413, "characters"),
        ({"data": ASK, "headers": {"Content-Type": "text/plain"}}, 415, "application/sparql-query"),
        ({"params": {"query": "SELECT * WHERE { ?s ?p }"}}, 400, "1:"),
        (
            {"params": {"query": ASK}, "headers": {"Accept": "image/png"}},
            406,
            "application/sparql-results+json",
        ),
        (
            {"params": {"query": "SELECT * WHERE { " + "{" * 20_000 + "}" * 20_000 + " }"}, "method": "POST"},
            200,
            "",
        ),
    ],
    ids=["body", "form", "chunked-body", "query-length", "content-type", "syntax", "accept", "deep-nesting"],
)
def test_limits_and_errors_over_http(live_server: LiveServer, kwargs: dict, status: int, words: str) -> None:
    method = kwargs.pop("method", "POST" if "data" in kwargs else "GET")
    if method == "POST" and "params" in kwargs:
        kwargs = {"data": kwargs["params"]}
    response = requests.request(method, endpoint(live_server), timeout=60, **kwargs)
    assert response.status_code == status, response.text[:500]
    if status >= 400:
        assert response.headers["Content-Type"].startswith("text/plain")
        assert words in response.text and "Traceback" not in response.text


def test_a_get_query_too_long_for_a_url_is_told_to_use_post(live_server: LiveServer) -> None:
    response = requests.get(endpoint(live_server), params={"query": "ASK {}" + " " * 9000}, timeout=30)
    assert response.status_code == 414  # gunicorn's request-line limit (8190 bytes): POST long queries
    assert "Traceback" not in response.text


def test_cors_preflight(live_server: LiveServer) -> None:
    response = requests.options(
        endpoint(live_server),
        headers={
            "Origin": "https://portal.example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type",
        },
        timeout=30,
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower()
    answer = requests.post(
        endpoint(live_server),
        data=ASK.encode(),
        headers={"Content-Type": "application/sparql-query", "Origin": "https://portal.example.org"},
        timeout=30,
    )
    assert answer.headers["Access-Control-Allow-Origin"] == "*"


def test_health_and_access_log(live_server: LiveServer, release: Release) -> None:
    health = requests.get(live_server.url + "/health", timeout=10)
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "ok" and body["build"] == release.build_id
    assert body["triples"] == len(store(release))
    marker = f"marker-{time.time_ns()}"
    requests.get(endpoint(live_server), params={"query": f"ASK {{ ?s ?p '{marker}' }}"}, timeout=30)
    time.sleep(0.2)
    lines = [line for line in live_server.log().splitlines() if marker in line]
    assert len(lines) == 1
    assert re.search(r'"GET /sparql\?query=\S+" 200 \d+B [\d.]+ms', lines[0]), lines[0]


# --- the time limit, on a server of its own ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def limited_server(build_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server with a 2 s query time limit."""
    args = ("--workers", "2", "--timeout", str(TIME_LIMIT))
    with run_server(build_dir, tmp_path_factory.mktemp("limited"), args) as server:
        yield server


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the live processes among `pids`."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def group_pids(pgid: int) -> list[int]:
    """The processes of a process group (the server was started in a session of its own)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def test_a_runaway_query_is_stopped_and_others_are_served_meanwhile(limited_server: LiveServer) -> None:
    outcome: dict[str, object] = {}

    def heavy() -> None:
        started = time.monotonic()
        response = requests.get(endpoint(limited_server), params={"query": HEAVY}, timeout=60)
        outcome.update(status=response.status_code, text=response.text, elapsed=time.monotonic() - started)

    thread = threading.Thread(target=heavy)
    thread.start()
    time.sleep(0.3)
    answered_meanwhile = 0
    session = requests.Session()
    while thread.is_alive() and answered_meanwhile < 20:
        response = session.get(endpoint(limited_server), params={"query": SMALL}, timeout=10)
        assert response.status_code == 200
        answered_meanwhile += 1
    thread.join()
    assert answered_meanwhile >= 5, "other clients were served while the runaway query ran"
    assert outcome["status"] == 503
    assert "time limit of 2 s" in str(outcome["text"])
    assert float(outcome["elapsed"]) < TIME_LIMIT + 1.0  # type: ignore[arg-type]
    # the child that ran it is gone, and nothing in the server burns CPU any more
    time.sleep(0.3)
    killed = re.findall(r"query worker (\d+) stopped \(time limit", limited_server.log())
    assert killed
    for pid in killed:
        assert not Path(f"/proc/{pid}").exists()
    pids = group_pids(limited_server.process.pid)
    before = cpu_seconds(pids)
    time.sleep(1.0)
    assert cpu_seconds(pids) - before < 0.3
    assert session.get(endpoint(limited_server), params={"query": SMALL}, timeout=10).status_code == 200


def test_a_stream_cut_by_the_time_limit_is_visibly_incomplete(limited_server: LiveServer) -> None:
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(
            endpoint(limited_server),
            params={"query": ENDLESS_ROWS},
            headers={"Accept": "text/csv", "Accept-Encoding": "identity"},
            timeout=60,
        ).raise_for_status()
    assert time.monotonic() - started < TIME_LIMIT + 3.0
    time.sleep(0.3)
    assert "results stopped: time limit" in limited_server.log()


# --- the query editor in a real browser ---------------------------------------------------------------------


@pytest.fixture()
def browser(artifacts_dir: Path) -> Iterator[object]:
    """Debian's headless Chromium, its network log on."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        yield driver
    finally:
        driver.save_screenshot(str(artifacts_dir / "sparql-editor.png"))
        driver.quit()


@pytest.mark.browser
def test_the_editor_runs_a_named_query_offline(live_server: LiveServer, browser: object) -> None:
    import json

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    driver.get(endpoint(live_server))  # type: ignore[attr-defined]
    wait = WebDriverWait(driver, 30)
    wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, ".yasqe .CodeMirror")))
    assert not driver.find_element(By.ID, "sparql-form").is_displayed()  # type: ignore[attr-defined]
    examples = driver.find_elements(By.CSS_SELECTOR, "button.open-example")  # type: ignore[attr-defined]
    assert examples, "the named queries are offered"
    driver.execute_script("arguments[0].closest('details').open = true", examples[0])  # type: ignore[attr-defined]
    examples[0].click()
    text = driver.execute_script(  # type: ignore[attr-defined]
        "return document.querySelector('.tabPanel.active .CodeMirror').CodeMirror.getValue()"
    )
    assert "SELECT" in text
    driver.find_element(By.CSS_SELECTOR, ".tabPanel.active .yasqe_queryButton").click()  # type: ignore[attr-defined]
    rows = wait.until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".tabPanel.active .yasr table tbody tr")  # type: ignore[attr-defined]
    )
    assert len(rows) >= 1
    requested = [
        json.loads(entry["message"])["message"]["params"]["request"]["url"]
        for entry in driver.get_log("performance")  # type: ignore[attr-defined]
        if '"Network.requestWillBeSent"' in entry["message"]
    ]
    outside = [url for url in requested if not url.startswith((live_server.url, "data:", "blob:"))]
    assert outside == [], "the editor works offline: no CDN, no remote service"
