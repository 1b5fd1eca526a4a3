"""Every request family of the service, and how to compare one family's answers across backends.

Shared by tests/test_engine_families.py (which requires the documented outcome for each family and backend)
and benchmarks/engines.py (which prints the table). A family is a request sent through a Flask test client;
its answer is reduced to what must be the same everywhere:

- BYTES: status, media type and body, byte for byte (the format is deterministic: an ordered query, a page);
- GRAPH: status, media type and the graph up to blank-node labels (rdflib isomorphism): triple order is free,
  and an engine labels blank nodes its own way (Virtuoso relabels them when it loads a file);
- BINDINGS: status, media type and the multiset of solutions, blank-node labels reduced to `_:` (no ORDER BY).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from enum import Enum

import pyoxigraph as ox
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from server.core.config import load_settings
from server.core.library import default_bindings, load_library


class Compare(Enum):
    BYTES = "bytes"
    GRAPH = "graph isomorphism"
    BINDINGS = "multiset of solutions"


@dataclass(frozen=True)
class Family:
    """One request family: its group in the table, its name, how its answers compare, how it is sent."""

    group: str
    name: str
    compare: Compare
    send: Callable[[FlaskClient], TestResponse]


SKOS = "http://www.w3.org/2004/02/skos/core#"
CDV = "https://w3id.org/cdv/ontology#"
AVENANT = "https://w3id.org/cdv/id/le-quesnoy/avenant-2020-2022"
ORDERED_SELECT = (
    f"SELECT ?c ?label ?n WHERE {{ ?c <{SKOS}prefLabel> ?label . BIND(STRLEN(STR(?c)) AS ?n) }} "
    "ORDER BY ?c STR(?label) LANG(?label)"
)
UNORDERED_SELECT = f"SELECT ?s ?p ?o WHERE {{ ?s a <{CDV}Mesure> ; ?p ?o }}"
BLANK_SELECT = "SELECT ?b ?p ?o WHERE { ?b ?p ?o FILTER(isBlank(?b)) }"
CONSTRUCT = f"CONSTRUCT {{ ?c <{SKOS}prefLabel> ?label }} WHERE {{ ?c <{SKOS}prefLabel> ?label }}"
CONSTRUCT_BLANK = "CONSTRUCT { ?b ?p ?o } WHERE { ?b ?p ?o FILTER(isBlank(?b)) }"
DESCRIBE = f"DESCRIBE <{AVENANT}>"
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
ONTOLOGY_GRAPH = "https://w3id.org/cdv/graph/ontology"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
GRAPHS = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
OWL_CLASSES = "SELECT DISTINCT ?c WHERE { ?c a <http://www.w3.org/2002/07/owl#Class> } ORDER BY ?c"
CLASS_COUNTS = "SELECT ?t (COUNT(?s) AS ?n) WHERE { ?s a ?t } GROUP BY ?t ORDER BY ?t"

RESULT_TYPES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}
GRAPH_TYPES = {
    "turtle": "text/turtle",
    "ntriples": "application/n-triples",
    "nquads": "application/n-quads",
    "trig": "application/trig",
    "rdfxml": "application/rdf+xml",
    "jsonld": "application/ld+json",
}
PAGE_FORMATS = {
    "html": "text/html",
    **{k: GRAPH_TYPES[k] for k in ("turtle", "ntriples", "rdfxml", "jsonld")},
}


def post(query: str, accept: str, **params: str) -> Callable[[FlaskClient], TestResponse]:
    """A form-encoded POST to /sparql."""
    return lambda client: client.post("/sparql", data={"query": query, **params}, headers={"Accept": accept})


def get(path: str, accept: str = "*/*", **params: str) -> Callable[[FlaskClient], TestResponse]:
    return lambda client: client.get(path, query_string=params, headers={"Accept": accept})


def results_families() -> list[Family]:
    families = [
        Family("results", f"SELECT ordered, {name}", Compare.BYTES, post(ORDERED_SELECT, media))
        for name, media in RESULT_TYPES.items()
    ]
    families += [
        Family("results", f"SELECT unordered, {name}", Compare.BINDINGS, post(UNORDERED_SELECT, media))
        for name, media in RESULT_TYPES.items()
        if name != "csv"  # CSV keeps lexical values only: the ordered CSV above is compared byte for byte
    ]
    families.append(
        Family(
            "results", "SELECT blank nodes, json", Compare.BINDINGS, post(BLANK_SELECT, RESULT_TYPES["json"])
        )
    )
    for answer, query in (("true", "ASK { ?s ?p ?o }"), ("false", "ASK { <urn:x:nothing> ?p ?o }")):
        families += [
            Family("results", f"ASK {answer}, {name}", Compare.BYTES, post(query, media))
            for name, media in RESULT_TYPES.items()
        ]
    return families


def graph_families() -> list[Family]:
    families = []
    for form, query in (
        ("CONSTRUCT", CONSTRUCT),
        ("CONSTRUCT blank nodes", CONSTRUCT_BLANK),
        ("DESCRIBE", DESCRIBE),
    ):
        families += [
            Family("graphs", f"{form}, {name}", Compare.GRAPH, post(query, media))
            for name, media in GRAPH_TYPES.items()
        ]
    return families


def dataset_families() -> list[Family]:
    tsv = RESULT_TYPES["tsv"]
    return [
        Family(
            "datasets",
            "default-graph-uri",
            Compare.BYTES,
            post(COUNT, tsv, **{"default-graph-uri": ONTOLOGY_GRAPH}),
        ),
        Family(
            "datasets",
            "named-graph-uri",
            Compare.BYTES,
            post(GRAPHS, tsv, **{"named-graph-uri": ONTOLOGY_GRAPH}),
        ),
        Family(
            "datasets",
            "FROM",
            Compare.BYTES,
            post(COUNT.replace(" WHERE", f" FROM <{ONTOLOGY_GRAPH}> WHERE"), tsv),
        ),
        Family(
            "datasets",
            "FROM NAMED",
            Compare.BYTES,
            post(GRAPHS.replace(" WHERE", f" FROM NAMED <{ONTOLOGY_GRAPH}> WHERE"), tsv),
        ),
        Family(
            "datasets",
            "FROM and default-graph-uri (the parameter wins)",
            Compare.BYTES,
            post(
                COUNT.replace(" WHERE", f" FROM <{ONTOLOGY_GRAPH}> WHERE"),
                tsv,
                **{"default-graph-uri": "https://w3id.org/cdv/graph/metadata"},
            ),
        ),
        Family("datasets", "no dataset: the build's graphs only", Compare.BYTES, post(GRAPHS, tsv)),
        Family("datasets", "no dataset: OWL classes", Compare.BYTES, post(OWL_CLASSES, tsv)),
        Family("datasets", "no dataset: class counts", Compare.BYTES, post(CLASS_COUNTS, tsv)),
        Family("datasets", "/health triple count", Compare.BYTES, get("/health", "application/json")),
    ]


def named_query_families() -> list[Family]:
    families = []
    for query in load_library(*load_settings({}).queries_dirs):
        params = {name: str(term.value) for name, term in default_bindings(query).items()}  # type: ignore[union-attr]
        families.append(
            Family(
                "named queries",
                query.name,
                Compare.BYTES,
                get(f"/api/queries/{query.name}", RESULT_TYPES["tsv"], **params),
            )
        )
    return families


def page_families() -> list[Family]:
    measure = "/id/le-quesnoy/avenant-2020-2022/mesure/12"
    families = [
        Family(
            "pages",
            f"resource page, {name}",
            Compare.BYTES if name == "html" else Compare.GRAPH,
            get(measure, media),
        )
        for name, media in PAGE_FORMATS.items()
    ]
    families += [
        Family("pages", name, compare, get(path, accept, **params))
        for name, compare, path, accept, params in (
            ("avenant page, html", Compare.BYTES, "/id/le-quesnoy/avenant-2020-2022", "text/html", {}),
            ("organisation page, html", Compare.BYTES, "/id/organisation/caf-du-nord", "text/html", {}),
            ("organisation page, turtle", Compare.GRAPH, "/id/organisation/caf-du-nord", "text/turtle", {}),
            (
                "source document page, html",
                Compare.BYTES,
                "/id/le-quesnoy/avenant-2020-2022/source",
                "text/html",
                {},
            ),
            (
                "source text file",
                Compare.BYTES,
                "/sources/protocole-le-quesnoy-2020-2022.txt",
                "text/plain",
                {},
            ),
            ("home", Compare.BYTES, "/", "text/html", {}),
            ("ontology, html", Compare.BYTES, "/ontology", "text/html", {}),
            ("ontology, turtle", Compare.GRAPH, "/ontology", "text/turtle", {}),
            ("catalogue, html", Compare.BYTES, "/catalog", "text/html", {}),
            ("catalogue, turtle", Compare.GRAPH, "/catalog", "text/turtle", {}),
            ("VoID", Compare.GRAPH, "/.well-known/void", "text/turtle", {}),
            ("search", Compare.BYTES, "/search", "text/html", {"q": "emploi"}),
            ("query list", Compare.BYTES, "/queries", "text/html", {}),
            ("query page", Compare.BYTES, "/queries/reference-texts", "text/html", {}),
            ("query API list", Compare.BYTES, "/api/queries", "application/json", {}),
            ("OpenAPI", Compare.BYTES, "/api/openapi.json", "application/json", {}),
            ("SPARQL editor", Compare.BYTES, "/sparql", "text/html", {}),
            ("sitemap", Compare.BYTES, "/sitemap.xml", "application/xml", {}),
            ("unknown resource (404)", Compare.BYTES, "/id/nothing-here", "text/html", {}),
        )
    ]
    return families


def refusal_families() -> list[Family]:
    def wrong_content_type(client: FlaskClient) -> TestResponse:
        return client.post("/sparql", data=b"ASK {}", content_type="application/json")

    def oversized(client: FlaskClient) -> TestResponse:
        return client.post("/sparql", data={"query": "ASK {}" + " " * 100_001})

    return [
        Family(
            "refusals", "update", Compare.BYTES, post("INSERT DATA { <urn:x:a> <urn:x:b> <urn:x:c> }", "*/*")
        ),
        Family(
            "refusals",
            "update= parameter",
            Compare.BYTES,
            lambda c: c.post("/sparql", data={"update": "CLEAR ALL"}),
        ),
        Family(
            "refusals",
            "SERVICE",
            Compare.BYTES,
            post("SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }", "*/*"),
        ),
        Family("refusals", "syntax error", Compare.BYTES, post("SELECT * WHERE { ?s ?p }", "*/*")),
        Family("refusals", "wrong Content-Type", Compare.BYTES, wrong_content_type),
        Family("refusals", "oversized query", Compare.BYTES, oversized),
        Family("refusals", "unacceptable Accept", Compare.BYTES, post("ASK {}", "image/png")),
        Family("refusals", "CONSTRUCT as CSV", Compare.BYTES, post(CONSTRUCT, "text/csv")),
    ]


def other_families() -> list[Family]:
    def blank_linked_page(client: FlaskClient) -> TestResponse:
        # the VoID class partitions (blank nodes) link to the ontology's classes: their page
        return client.get("/ontology", headers={"Accept": "text/html"})

    return [
        Family("time limit", "runaway query → 503", Compare.BYTES, post(HEAVY, RESULT_TYPES["json"])),
        Family("blank node", "a page linked from a blank node", Compare.BYTES, blank_linked_page),
        Family(
            "relative IRIs",
            "CONSTRUCT { <s> <p> 1 }",
            Compare.BYTES,
            post("CONSTRUCT { <s> <p> 1 } WHERE {}", "application/n-triples"),
        ),
        Family(
            "relative IRIs",
            "BIND(<x> AS ?x)",
            Compare.BYTES,
            post("SELECT ?x WHERE { BIND(<x> AS ?x) }", RESULT_TYPES["tsv"]),
        ),
        Family(
            "relative IRIs",
            "relative BASE",
            Compare.BYTES,
            post("BASE <dir/> SELECT ?x WHERE { BIND(<x> AS ?x) }", RESULT_TYPES["tsv"]),
        ),
    ]


def families() -> list[Family]:
    """Every request family, in the order of the table."""
    return (
        results_families()
        + graph_families()
        + dataset_families()
        + named_query_families()
        + page_families()
        + refusal_families()
        + other_families()
    )


# --- reduce an answer to what must be identical ----------------------------------------------------------


def media_type(response: TestResponse) -> str:
    return (response.headers.get("Content-Type") or "").split(";")[0].strip()


def canonical_graph(body: bytes, media: str) -> Hashable:
    """The triples of an RDF answer with blank nodes relabelled canonically, as a frozenset of N-Triples.

    Oxigraph's canonicalisation, not rdflib's: rdflib's took minutes on the build's blank nodes (the VoID
    partitions, alike but for one count). Triples only: CONSTRUCT answers have no graph names.
    """
    dataset = ox.Dataset(
        ox.Quad(q.subject, q.predicate, q.object)
        for q in ox.parse(body, format=ox.RdfFormat.from_media_type(media))
    )
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)  # stable within one pyoxigraph version
    return frozenset(str(quad) for quad in dataset)


def solutions(body: bytes, media: str) -> Hashable:
    """The multiset of solutions of a results document, blank-node labels reduced to `_:`."""
    parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.from_media_type(media))
    if isinstance(parsed, ox.QueryBoolean):
        return bool(parsed)
    names = [v.value for v in parsed.variables]

    def cell(term: object) -> str:
        return "_:" if isinstance(term, ox.BlankNode) else str(term)

    rows = Counter(tuple(cell(row[n]) for n in names) for row in parsed)
    return frozenset(rows.items())


def reduced(family: Family, response: TestResponse) -> Hashable:
    """What of the answer must be the same on every backend (see the module's docstring)."""
    status, media, body = response.status_code, media_type(response), response.get_data()
    if status != 200 or family.compare is Compare.BYTES:
        return (status, media, body)
    if family.compare is Compare.GRAPH:
        return (status, media, canonical_graph(body, media))
    return (status, media, solutions(body, media))


# --- the table --------------------------------------------------------------------------------------------

BACKENDS = {"embedded": "embedded", "remote": "Oxigraph server", "virtuoso": "Virtuoso"}


def same_as_embedded(family: Family, by_backend: dict[str, FlaskClient]) -> dict[str, tuple[int, bool]]:
    """Each backend's status and whether its answer is the embedded answer (`by_backend` has "embedded")."""
    responses = {name: family.send(client) for name, client in by_backend.items()}
    expected = reduced(family, responses["embedded"])
    return {name: (r.status_code, reduced(family, r) == expected) for name, r in responses.items()}


# (family, backend) → why the answer may not be the embedded one; docs/deploy.md says the same to operators.
PAGE_ORDER = (
    "same content, another order: the page lists a property's values, a resource's classes and its JSON-LD "
    "in the order the engine returns them, which depends on how the engine was loaded (docs/deploy.md)"
)
DIFFERENCES: dict[tuple[str, str], str] = {
    (page, backend): PAGE_ORDER
    for backend in ("remote", "virtuoso")
    for page in (
        "resource page, html",
        "avenant page, html",
        "organisation page, html",
        "source document page, html",
        "ontology, html",
        "a page linked from a blank node",
    )
}
