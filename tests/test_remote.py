"""A remote SPARQL engine as the store: the VALUES rewriting of bindings, and `cdv serve --endpoint` live."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from click.testing import CliRunner
from flask import Flask

from server.cli.main import main
from server.core import describe, outline
from server.core import sparql_rewrite as rewrite
from server.core.config import Settings
from server.core.library import FIRST_VALUES, IS_ALLOWED, default_bindings, load_library
from server.core.ontology_doc import uses
from server.core.vocab import OWL_VERSION_INFO
from server.engine import remote
from server.engine.release import Release
from server.engine.remote import REFRESH, RemoteStore, Scope, excludable, exclusion, open_remote
from server.engine.remote_executor import without_dataset
from server.engine.store import EmbeddedStore

from .servers import LiveServer, run_engine, run_server

CDV = "https://w3id.org/cdv/ontology#"
MESURE = "https://w3id.org/cdv/id/le-quesnoy/avenant-2020-2022/mesure/12"
CAF = "https://w3id.org/cdv/id/organisation/caf-du-nord"

# --- the rewriting, pure ---------------------------------------------------------------------------------

A = {"r": ox.NamedNode("http://x/a")}
VALUES_A = "VALUES (?r) { (<http://x/a>) }"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT ?r WHERE { ?r ?p ?o }", f"SELECT ?r WHERE {{ {VALUES_A}\n ?r ?p ?o }}"),
        ("ASK { ?r ?p ?o }", f"ASK {{ {VALUES_A}\n ?r ?p ?o }}"),
        (
            "CONSTRUCT { ?r ?p ?o } WHERE { ?r ?p ?o }",
            f"CONSTRUCT {{ ?r ?p ?o }} WHERE {{ {VALUES_A}\n ?r ?p ?o }}",
        ),
        # braces in strings, IRIs and comments are not groups
        (
            'PREFIX a: <http://x/> # { not a group\nSELECT ?r WHERE { ?r ?p "}{" }',
            f'PREFIX a: <http://x/> # {{ not a group\nSELECT ?r WHERE {{ {VALUES_A}\n ?r ?p "}}{{" }}',
        ),
        # an EXISTS in the projection is not the WHERE group
        (
            "SELECT ?r (EXISTS { ?r ?p ?o } AS ?e) { ?r ?q ?v }",
            f"SELECT ?r (EXISTS {{ ?r ?p ?o }} AS ?e) {{ {VALUES_A}\n ?r ?q ?v }}",
        ),
        # a sub-query projecting the variable binds it too; one that does not, does not
        (
            "SELECT ?r { { SELECT ?r { ?r ?p ?o } LIMIT 1 } { SELECT ?o { ?r ?p ?o } } }",
            f"SELECT ?r {{ {VALUES_A}\n {{ SELECT ?r {{ {VALUES_A}\n ?r ?p ?o }} LIMIT 1 }} "
            "{ SELECT ?o { ?r ?p ?o } } }",
        ),
        # a trailing VALUES clause is not a group
        (
            "SELECT ?r { ?r ?p ?o } VALUES ?o { 1 }",
            f"SELECT ?r {{ {VALUES_A}\n ?r ?p ?o }} VALUES ?o {{ 1 }}",
        ),
    ],
    ids=["select", "ask", "construct", "strings-iris-comments", "exists", "sub-queries", "trailing-values"],
)
def test_bindings_are_written_at_the_start_of_the_bound_groups(query: str, expected: str) -> None:
    assert rewrite.bind(query, A) == expected


@pytest.mark.parametrize(
    ("query", "bindings"),
    [
        ("CONSTRUCT WHERE { ?r ?p ?o }", A),
        ("DESCRIBE <http://x/a>", A),
        ("SELECT ?r { ?r ?p ?o }", {"r": ox.BlankNode("b")}),
    ],
    ids=["construct-short-form", "no-group", "blank-node"],
)
def test_bindings_that_cannot_be_written_are_refused(query: str, bindings: Mapping) -> None:
    with pytest.raises(rewrite.RewriteError):
        rewrite.bind(query, bindings)


def test_terms_are_written_by_pyoxigraph_never_spliced() -> None:
    hostile = ox.Literal('x" } ; DROP ALL ; # \\', language="fr")
    text = rewrite.bind("SELECT ?v { }", {"v": hostile})
    rows = list(ox.Store().query(text))
    assert [row["v"] for row in rows] == [hostile]


@pytest.mark.parametrize(
    ("query", "form", "depth"),
    [
        ("PREFIX select: <http://x/> ASK { [ a ?x ] FILTER((1)) }", "ask", 3),
        ("# SELECT\nconstruct { } where { }", "construct", 1),
        ("hello", None, 0),
    ],
)
def test_query_form_and_nesting(query: str, form: str | None, depth: int) -> None:
    assert rewrite.query_form(query) == form
    assert rewrite.nesting(query) == depth


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "SELECT * FROM <urn:g:a> FROM NAMED <urn:g:b> WHERE { ?s ?p ?o }",
            "SELECT *     WHERE { ?s ?p ?o }",
        ),
        (
            'PREFIX g: <urn:g:> select * from g:x WHERE { ?from ?p "FROM <urn:g:c>" }',
            'PREFIX g: <urn:g:> select *   WHERE { ?from ?p "FROM <urn:g:c>" }',
        ),
        ("DESCRIBE <urn:x> FROM <urn:g:a> # FROM <urn:g:b>", "DESCRIBE <urn:x>   # FROM <urn:g:b>"),
        ("SELECT * WHERE { ?s <urn:from> ?o }", "SELECT * WHERE { ?s <urn:from> ?o }"),
    ],
    ids=["from-and-named", "prefixed-name-variable-string", "describe-comment", "none"],
)
def test_a_query_s_dataset_clauses_are_taken_out_never_its_strings(query: str, expected: str) -> None:
    """The engine gets the dataset as protocol parameters only (Virtuoso merges them with FROM)."""
    assert without_dataset(query) == expected
    ox.Store().query(expected)  # still a query


# --- the rewriting gives the answers of pyoxigraph's substitutions, at every call site -------------------


def call_sites(settings: Settings, store: ox.Store) -> Iterator[tuple[str, str, dict]]:
    """(name, query, bindings) of every query the server runs with substitutions, with real values."""
    id_base = settings.id_base
    for iri in (MESURE, CAF):
        r = {"r": ox.NamedNode(iri)}
        yield f"outgoing {iri}", describe.outgoing_query(CDV, id_base, settings.graph_base), r
        yield f"incoming {iri}", describe.incoming_query(CDV, settings.graph_base, 100, 0), r
        yield f"incoming page 2 {iri}", describe.incoming_query(CDV, settings.graph_base, 3, 3), r
        yield f"context {iri}", describe.context_query(CDV, "http://purl.org/dc/terms/source"), r
    documents = [
        row["doc"] for row in store.query(outline._documents_query(CDV), use_default_graph_as_union=True)
    ]
    for make in (outline._documents_query, outline._structure_query, outline._people_query):
        yield make.__name__, make(CDV), {"doc": documents[0]}
    yield (
        "ontology version",
        "SELECT ?o ?v WHERE { ?o <http://www.w3.org/2002/07/owl#versionIRI> ?v }",
        {"o": ox.NamedNode(settings.ontology_iri)},
    )
    for kind, term in (("instances", CDV + "Mesure"), ("objects", CDV + "parent")):
        yield f"first values {kind}", FIRST_VALUES[kind] % 51, {"term": ox.NamedNode(term)}
        value = ox.NamedNode(MESURE if kind == "instances" else MESURE.replace("mesure/12", "axe/1"))
        yield f"is allowed {kind}", IS_ALLOWED[kind], {"term": ox.NamedNode(term), "value": value}
    for query in load_library(*settings.queries_dirs):
        yield f"named query {query.name}", query.body, default_bindings(query)


def answers(result: object) -> list:
    """Rows or triples as a sorted list of strings (a bag: duplicates count)."""
    if isinstance(result, ox.QuerySolutions):
        names = [v.value for v in result.variables]
        return sorted(str([str(row[n]) if row[n] is not None else None for n in names]) for row in result)
    return sorted(str(t) for t in result)  # type: ignore[attr-defined]


def test_every_call_site_gets_the_same_answers_from_the_rewriting(
    settings: Settings, release: Release
) -> None:
    raw = ox.Store.read_only(str(release.store_path))
    store = EmbeddedStore(raw, release.build_id)
    checked = 0
    for name, query, bindings in call_sites(settings, raw):
        substituted = answers(store.query(query, substitutions=bindings))
        rewritten = answers(store.query(rewrite.bind(query, bindings)))
        assert rewritten == substituted, name
        checked += bool(substituted)
    assert checked > 10  # the comparisons are about real answers, not empty ones
    ontology = uses(store, settings, CDV)
    assert ontology  # the one call site with two bindings and an aggregate
    bindings = {"ns": ox.Literal(CDV), "ontology": ox.NamedNode(settings.graph_base + "ontology")}
    query = (
        "SELECT ?ns ?ontology ?t (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { { ?s a ?t } UNION { ?s ?t ?o } }"
        " FILTER(?g != ?ontology && STRSTARTS(STR(?t), ?ns)) } GROUP BY ?ns ?ontology ?t"
    )
    assert answers(store.query(rewrite.bind(query, bindings))) == answers(
        store.query(query, substitutions=bindings)
    )


def test_an_endpoint_that_is_not_an_http_url_is_refused(runner: CliRunner) -> None:
    result = runner.invoke(main, ["serve", "--endpoint", "file:///etc/passwd"])
    assert result.exit_code == 2
    assert "not an http:// or https:// URL" in result.output


# --- a server without the files of the engine's build ---------------------------------------------------


def test_files_of_a_build_this_server_lacks_are_404_and_the_rest_works(
    settings: Settings, engine: str, release: Release, tmp_path: Path
) -> None:
    from dataclasses import replace

    from server.web.app import create_app

    client = create_app(replace(settings, endpoint=engine, build_dir=tmp_path)).test_client()
    for path in ("/catalog", "/.well-known/void", "/dumps/cdv-graph.nq.gz", "/sitemap.xml"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert release.build_id in response.get_data(as_text=True)
    assert client.get("/id/" + CAF.split("/id/", 1)[1], headers={"Accept": "text/turtle"}).status_code == 200
    assert client.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200
    assert client.get("/health").json["build"] == release.build_id


# --- live: `cdv serve --endpoint` in front of a real Oxigraph server ------------------------------------


@pytest.fixture(scope="module")
def engine_store(release: Release, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("remote-live") / "store"
    shutil.copytree(release.store_path, copy)
    return copy


@pytest.mark.live
def test_cdv_serve_endpoint_serves_everything_from_the_engine(
    build_dir: Path, release: Release, engine_store: Path, tmp_path: Path
) -> None:
    with (
        ExitStack() as engine,
        run_server_over(engine, build_dir, engine_store, tmp_path) as (server, endpoint),
    ):
        url = server.url
        health = requests.get(url + "/health", timeout=10)
        assert health.status_code == 200
        assert health.json()["build"] == release.build_id
        assert health.headers["X-Cdv-Build"] == release.build_id
        select = f"SELECT ?p ?o WHERE {{ <{CAF}> ?p ?o }}"
        response = get(url + "/sparql", {"query": select}, "application/sparql-results+json")
        assert response.status_code == 200 and response.json()["results"]["bindings"]
        response = get(url + "/sparql", {"query": select}, "text/csv")
        assert response.status_code == 200 and response.text.startswith("p,o\r\n")
        assert response.headers["Content-Type"].startswith("text/csv")
        construct = f"CONSTRUCT {{ <{CAF}> ?p ?o }} WHERE {{ <{CAF}> ?p ?o }}"
        response = requests.post(
            url + "/sparql", data={"query": construct}, headers={"Accept": "text/turtle"}, timeout=10
        )
        assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/turtle")
        assert len(list(ox.parse(response.content, format=ox.RdfFormat.TURTLE))) > 3
        page = get(url + "/id/" + MESURE.split("/id/", 1)[1], {}, "text/html")
        assert page.status_code == 200 and "Mesure" in page.text
        catalog = get(url + "/catalog", {}, "text/turtle")
        assert catalog.status_code == 200 and "dcat:Catalog" in catalog.text
        named = get(url + "/api/queries/avenant-structure", {}, "application/json")
        assert named.status_code == 200, named.text
        service = f"SELECT * WHERE {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}"
        assert get(url + "/sparql", {"query": service}, "*/*").status_code == 403
        bad = get(url + "/sparql", {"query": "SELECT * WHERE { ?s ?p }"}, "*/*")
        assert bad.status_code == 400 and "syntax error" in bad.text
        engine.close()  # the engine stops: the server says so, never a 500
        ask = get(url + "/sparql", {"query": "ASK { ?s ?p ?o }"}, "*/*")
        assert ask.status_code == 503 and "cannot be reached" in ask.text
        page = get(url + "/id/" + CAF.split("/id/", 1)[1], {}, "text/html")  # a page not fetched before
        assert page.status_code == 503
        time.sleep(REFRESH + 0.5)  # the build id is trusted that long; then /health asks the engine again
        assert get(url + "/health", {}, "*/*").status_code == 503
        assert "Traceback" not in server.log()


def get(url: str, params: dict[str, str], accept: str) -> requests.Response:
    return requests.get(url, params=params, headers={"Accept": accept}, timeout=30)


@contextmanager
def run_server_over(
    engine: ExitStack, build_dir: Path, store: Path, log_dir: Path
) -> Iterator[tuple[LiveServer, str]]:
    """An Oxigraph server on `store` (stopped when `engine` closes), and `cdv serve --endpoint` over it."""
    endpoint = engine.enter_context(run_engine(store, log_dir))
    with run_server(build_dir, log_dir, ("--workers", "1", "--endpoint", endpoint)) as server:
        yield server, endpoint


@pytest.mark.parametrize(
    ("foreign", "expected"),
    [
        ([], ""),
        (
            ["http://b/", "http://a/#"],
            "define input:default-graph-exclude <http://a/#>\ndefine input:named-graph-exclude <http://a/#>\n"
            "define input:default-graph-exclude <http://b/>\ndefine input:named-graph-exclude <http://b/>\n",
        ),
    ],
)
def test_virtuoso_s_exclusion_pragmas_name_each_graph_twice(foreign: list[str], expected: str) -> None:
    assert exclusion(foreign) == expected


def test_a_graph_name_that_is_not_an_iri_is_never_written_into_a_pragma() -> None:
    with pytest.raises(ValueError):
        exclusion(["http://a/> define input:x <y"])


class RecordingSession(requests.Session):
    """A real session that keeps the form fields of every request it sends (what the engine is asked)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[list[tuple[str, str]]] = []

    def post(self, url: str | bytes, data: object = None, **kwargs: object) -> requests.Response:  # type: ignore[override]
        self.sent.append(list(data or ()))  # type: ignore[call-overload]
        return super().post(url, data=data, **kwargs)  # type: ignore[arg-type]


def recorded(store: RemoteStore) -> RecordingSession:
    """Record what `store` sends from now on, from every thread (its own search for graphs included)."""
    session = RecordingSession()
    store.session = lambda: session  # type: ignore[method-assign]
    return session


def known_scope(store: RemoteStore) -> Scope:
    """The store's scope once its search for the engine's own graphs, if any, has ended."""
    store.scope  # noqa: B018 (reads the build, and starts the search)
    if store.finding is not None:
        store.finding.join(60)
    return store.scope


def virtuoso_app(virtuoso: str, settings: Settings) -> tuple[Flask, RemoteStore, RecordingSession]:
    """The app on the test Virtuoso once its exclusion pragmas are known, recording what it sends from then on."""
    from server.web.app import create_app
    from server.web.context import engine_of

    app = create_app(replace(settings, endpoint=virtuoso))
    store = engine_of(app).store
    assert isinstance(store, RemoteStore)
    assert known_scope(store).pragmas
    return app, store, recorded(store)


def build_graphs(release: Release) -> set[str]:
    return {str(g.value) for g in ox.Store.read_only(str(release.store_path)).named_graphs()}


def test_an_engine_that_holds_the_build_only_gets_queries_as_they_are(
    engine: str, settings: Settings, release: Release
) -> None:
    """Oxigraph server loaded by the guide holds the build only: its union is the build, nothing is added."""
    store = open_remote(replace(settings, endpoint=engine))
    assert set(store.graphs) == build_graphs(release)
    assert known_scope(store) == Scope()
    assert store.fields("ASK {}", "ask") == [("query", "ASK {}")]


def test_virtuoso_s_own_graphs_are_excluded_by_its_pragmas_and_no_list_is_sent(
    virtuoso: str, settings: Settings, release: Release
) -> None:
    """Virtuoso keeps graphs of its own: each is excluded by its pragmas, the build's graphs are not listed."""
    store = open_remote(replace(settings, endpoint=virtuoso))
    assert set(store.graphs) == build_graphs(release)
    scope = known_scope(store)
    assert scope.graphs == ()
    assert "define input:default-graph-exclude <http://www.openlinksw.com/schemas/virtrdf#>" in scope.pragmas
    assert "define input:named-graph-exclude <http://www.w3.org/2002/07/owl#>" in scope.pragmas
    assert not any(graph in scope.pragmas for graph in store.graphs)
    assert store.fields("ASK {}", "ask") == [("query", scope.pragmas + "ASK {}")]


def test_virtuoso_answers_from_the_build_only_with_the_exclusion(
    virtuoso: str, settings: Settings, release: Release
) -> None:
    """No owl:Thing, the embedded class counts and /health count, through the app; every query the app sends
    carries the exclusion and no graph list."""
    app, store, session = virtuoso_app(virtuoso, settings)
    client = app.test_client()
    scope = store.scope
    embedded = ox.Store.read_only(str(release.store_path))
    classes = "SELECT ?c WHERE { ?c a <http://www.w3.org/2002/07/owl#Class> }"
    answer = client.get("/sparql", query_string={"query": classes}, headers={"Accept": "text/csv"})
    assert answer.status_code == 200
    assert b"owl#Thing" not in answer.data and b"owl#Nothing" not in answer.data
    counts = "SELECT ?t (COUNT(?s) AS ?n) WHERE { GRAPH ?g { ?s a ?t } } GROUP BY ?t"
    answer = client.get("/sparql", query_string={"query": counts}, headers={"Accept": "application/json"})
    expected = {(str(row["t"].value), int(row["n"].value)) for row in embedded.query(counts)}  # type: ignore[union-attr, index, arg-type]
    got = {(row["t"]["value"], int(row["n"]["value"])) for row in answer.json["results"]["bindings"]}
    assert got == expected
    assert client.get("/health").json["triples"] == len(embedded)
    assert (
        client.get("/api/queries/avenant-structure", headers={"Accept": "application/json"}).status_code
        == 200
    )
    assert client.get("/id/" + CAF.split("/id/", 1)[1], headers={"Accept": "text/html"}).status_code == 200
    queries = [dict(fields)["query"] for fields in session.sent]
    assert len(queries) >= 5
    assert all(query.startswith(scope.pragmas) for query in queries)
    assert all(name == "query" for fields in session.sent for name, _ in fields)  # no graph list


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", True),
        ("SELECT * WHERE { ?s ?p ?o FILTER NOT EXISTS { ?s a ?t } }", False),
        ("select * where { ?s ?p ?o filter exists { ?s a ?t } }", False),
        ("SELECT * WHERE { ?s ?p ?o MINUS { ?s a ?t } }", False),
        ('SELECT * WHERE { ?s ?p "minus" }', False),  # a false alarm: the graph list, slower, still right
        ("SELECT * WHERE { ?s ?p ?o FILTER \\u0045XISTS { ?s a ?t } }", False),  # escaped: read decoded
        ("SELECT * WHERE { ?s <http://ex.org/existsIn> ?o }", True),  # part of a word
        ("SELECT * WHERE { ?s ?p ?o \\u004DINUS { ?s a ?t } }", False),
    ],
)
def test_queries_virtuoso_misreads_under_the_exclusion_are_told(query: str, expected: bool) -> None:
    assert excludable(query) is expected


# Virtuoso 7.2.5 under its exclusion pragmas: both answered "every measure" (22 rows / numbers 1 to 29).
MISREAD = [
    "PREFIX cdv: <https://w3id.org/cdv/ontology#> SELECT (COUNT(*) AS ?n) WHERE { ?m a cdv:Mesure ; "
    "cdv:avenant ?a ; cdv:numero ?k . FILTER NOT EXISTS { ?o a cdv:Mesure ; cdv:avenant ?a ; cdv:numero ?k } }",
    "PREFIX cdv: <https://w3id.org/cdv/ontology#> SELECT (COUNT(*) AS ?n) WHERE { ?m a cdv:Mesure ; "
    "cdv:avenant ?a ; cdv:numero ?k . BIND(?k - 1 AS ?j) MINUS { ?o a cdv:Mesure ; cdv:avenant ?a ; cdv:numero ?j } }",
]


@pytest.mark.parametrize("query", MISREAD)
def test_a_query_virtuoso_misreads_under_the_exclusion_gets_the_graph_list(
    virtuoso: str, settings: Settings, release: Release, query: str
) -> None:
    """With the exclusion in use, NOT EXISTS / MINUS joining on two outer variables get the embedded count,
    sent with the build's graph list instead of the pragmas."""
    app, store, session = virtuoso_app(virtuoso, settings)
    answer = app.test_client().get(
        "/sparql", query_string={"query": query}, headers={"Accept": "application/json"}
    )
    assert answer.status_code == 200, answer.text
    embedded = ox.Store.read_only(str(release.store_path)).query(query, use_default_graph_as_union=True)
    expected = int(next(iter(embedded))["n"].value)  # type: ignore[index, union-attr, arg-type]
    assert int(answer.json["results"]["bindings"][0]["n"]["value"]) == expected
    (sent,) = [fields for fields in session.sent if "COUNT" in dict(fields)["query"]]
    assert "define input:" not in dict(sent)["query"]
    assert {graph for name, graph in sent if name == "default-graph-uri"} == set(store.graphs)


FROM_GRAPH = "https://w3id.org/cdv/graph/ontology"


@pytest.mark.parametrize(
    ("query", "params"),
    [
        (f"SELECT (COUNT(*) AS ?n) FROM <{FROM_GRAPH}> WHERE {{ ?s ?p ?o }}", {}),
        ("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", {"default-graph-uri": FROM_GRAPH}),
    ],
)
def test_a_query_s_own_dataset_is_sent_as_it_is_on_virtuoso(
    virtuoso: str, settings: Settings, release: Release, query: str, params: dict[str, str]
) -> None:
    """FROM or default-graph-uri: exactly that dataset, as the protocol's parameters, with no exclusion."""
    app, _store, session = virtuoso_app(virtuoso, settings)
    answer = app.test_client().get(
        "/sparql", query_string={"query": query, **params}, headers={"Accept": "application/json"}
    )
    assert answer.status_code == 200, answer.text
    expected = len(
        list(
            ox.Store.read_only(str(release.store_path)).quads_for_pattern(
                None, None, None, ox.NamedNode(FROM_GRAPH)
            )
        )
    )
    assert expected > 0
    assert int(answer.json["results"]["bindings"][0]["n"]["value"]) == expected
    (sent,) = [fields for fields in session.sent if "COUNT" in dict(fields)["query"]]
    assert ("default-graph-uri", FROM_GRAPH) in sent
    assert "define input:" not in dict(sent)["query"]


def test_virtuoso_s_own_graphs_are_found_once_per_build_id(
    virtuoso: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build id is read at every refresh; the engine's graphs only when the build id changes."""
    monkeypatch.setattr(remote, "REFRESH", 0.0)  # every use reads the build id again
    store = open_remote(replace(settings, endpoint=virtuoso))
    session = recorded(store)
    first = known_scope(store)
    for _ in range(3):
        assert store.scope == first
    sent = [dict(fields)["query"] for fields in session.sent]
    assert sum(OWL_VERSION_INFO in query for query in sent) >= 4
    assert sent.count(remote.HELD_GRAPHS) == 1 and sent.count(remote.LISTED_GRAPHS) == 1
    store._scope = ("an older build", Scope())  # as if the engine had held another build until now
    assert known_scope(store) == first
    sent = [dict(fields)["query"] for fields in session.sent]
    assert sent.count(remote.HELD_GRAPHS) == 2


def test_an_engine_answer_with_a_header_per_graph_is_read(virtuoso: str, settings: Settings) -> None:
    """Virtuoso echoes every graph of the dataset as a header: 1,000 documents' list is 2,000 headers."""
    store = open_remote(replace(settings, endpoint=virtuoso))
    graphs = [f"https://w3id.org/cdv/graph/none/{i}" for i in range(1100)]
    assert not store.query("ASK { ?s ?p ?o }", default_graphs=graphs, named_graphs=graphs)


@pytest.mark.parametrize(
    ("url", "environ", "proxies", "verify"),
    [
        ("http://127.0.0.1:7878/query", {}, {}, True),
        ("http://engine.example:7878/query", {"HTTP_PROXY": "http://proxy.example:3128"},
         {"http": "http://proxy.example:3128"}, True),
        ("http://engine.example:7878/query",
         {"HTTP_PROXY": "http://proxy.example:3128", "NO_PROXY": "engine.example"}, {}, True),
        ("https://engine.example/sparql", {"REQUESTS_CA_BUNDLE": "/etc/cdv/ca.pem"}, {}, "/etc/cdv/ca.pem"),
    ],
)  # fmt: skip
def test_the_engine_session_reads_the_environment_once(
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    environ: dict[str, str],
    proxies: dict[str, str],
    verify: object,
) -> None:
    """What requests reads from the environment at each request (proxies, NO_PROXY, CA bundle) is read once,
    for the engine's URL, and then the same at every request."""
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
    ):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    session = remote.environment_session(url)
    assert not session.trust_env
    assert {k: v for k, v in session.proxies.items() if v} == proxies
    assert session.verify == verify
    reference = requests.Session().merge_environment_settings(url, {}, None, None, None)
    assert {k: v for k, v in reference["proxies"].items() if v} == proxies
