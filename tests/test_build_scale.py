"""Build and validation at scale: documents validated one by one in parallel give the findings a single
process gives; one invalid document among many is named with its file and line while the others are counted
as conforming, and nothing is published; the cross-document rules catch what no single document shows;
pages cost the same number of store queries with 3 documents as with 31."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest.mock import patch

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from flask import Flask

from server.build.cross_document import check_files
from server.build.pipeline import build
from server.build.synth import synthesize
from server.build.validate import validate_files
from server.build.validate_pool import Document, documents_of, validate_documents
from server.cli.main import main
from server.core.config import PROJECT_ROOT, load_settings
from server.core.describe import (
    RDF_TYPE,
    VALUES_SHOWN,
    Description,
    context,
    describe,
    label_triples,
    link_properties,
    within,
)
from server.engine.release import Release, current_release
from server.engine.shared_descriptions import shared_descriptions_of, shared_resources
from server.engine.store import EmbeddedStore
from server.web.app import create_app
from server.web.context import engine
from server.web.prerender import write_served_files

SHAPES, ONTOLOGY = PROJECT_ROOT / "shapes", PROJECT_ROOT / "ontology"
FIXTURES = sorted((Path(__file__).parent / "fixtures" / "shapes").glob("*.ttl"))
ID, GRAPH = "https://w3id.org/cdv/id/", "https://w3id.org/cdv/graph/"
CDV = "https://w3id.org/cdv/ontology#"
PARTNER = f"{ID}organisation/caisse-fictive-d-allocations-familiales"
CHROME = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def synth(out: Path, count: int) -> Path:
    list(synthesize(count, out, seed=1))
    return out


def without_document(report_findings: list) -> set[tuple]:
    return {(f.severity, f.focus, f.path, f.value, f.shape, f.source) for f in report_findings}


def test_parallel_validation_finds_what_one_process_finds() -> None:
    """Each shapes fixture as a document: the pool's findings are validate_files' findings, each named."""
    documents = [Document(str(path), (path,)) for path in FIXTURES]
    report = validate_documents(documents, SHAPES, ONTOLOGY, jobs=2)
    assert report.documents == len(FIXTURES)
    for path in FIXTURES:
        alone = validate_files([path], SHAPES, ONTOLOGY)
        mine = [f for f in report.findings if f.document == str(path)]
        assert without_document(mine) == without_document(alone.findings), path.name
        assert (str(path) in report.failed) == (not alone.conforms), path.name
    assert any(not validate_files([p], SHAPES, ONTOLOGY).conforms for p in FIXTURES[:3])


# ---------------------------------------------------------------------------------------------------------
# One bad document among twenty


def line_of(path: Path, start: str) -> int:
    return next(n for n, line in enumerate(path.read_text("utf-8").splitlines(), 1) if line.startswith(start))


@pytest.mark.timeout(1800)  # twenty documents validated twice: minutes on a shared 2-core machine
def test_one_invalid_document_among_twenty_is_named_and_nothing_is_published(
    tmp_path: Path, runner: CliRunner
) -> None:
    data = synth(tmp_path / "data", 20)
    store = tmp_path / "published"
    assert (
        runner.invoke(main, ["build", "--data", str(PROJECT_ROOT / "data"), "--store", str(store)]).exit_code
        == 0
    )
    before = current_release(store).build_id
    broken = documents_of([data])[7]
    structure = Path(broken.name) / "structure.ttl"
    measure = f"<{ID}{Path(broken.name).parent.name}/avenant-2020-2022/mesure/3>"
    text = structure.read_text("utf-8")
    block = text.index(f"{measure} a cdv:Mesure")
    texte = text.index("    cdv:texte ", block)
    structure.write_text(
        text[:texte] + text[text.index("\n", texte) + 1 :], "utf-8"
    )  # measure 3 loses its text

    result = runner.invoke(main, ["build", "--data", str(data), "--store", str(store), "--jobs", "2"])
    assert result.exit_code == 1, result.output
    graph = f"{GRAPH}{Path(broken.name).parent.name}/avenant-2020-2022"
    assert f"document: {graph}" in result.output
    assert f"{structure}:{line_of(structure, measure)}" in result.output
    assert "19 of 20 document(s) conform" in result.output
    assert "cdv:MesureTexteShape" in result.output
    # one violation, in one document (the synthetic documents' warnings, links to registers that fictitious
    # bodies cannot have, name their documents too)
    assert len(re.findall(r"^Violation: .*\n  document: ", result.output, re.M)) == 1
    assert "Traceback" not in result.output
    assert current_release(store).build_id == before


# ---------------------------------------------------------------------------------------------------------
# The rules across documents


def relabel_partner(first: Path, second: Path) -> tuple[Path, str]:
    """The second document names the département's prefecture, which both name, with another label."""
    path = second / "organisations.ttl"
    text = path.read_text("utf-8")
    subject = re.search(r"^<([^>]+/organisation/prefecture-fictive-[^>]+)> a ", text, re.M).group(1)
    assert f"<{subject}> a " in (first / "organisations.ttl").read_text("utf-8")
    block = text.index(f"<{subject}> a ")
    label = text.index("    rdfs:label ", block)
    end = text.index("\n", label)
    path.write_text(text[:label] + '    rdfs:label "Autre nom"@fr ;' + text[end:], "utf-8")
    return path, f"<{subject}>"


def borrow_measure(first: Path, second: Path) -> tuple[Path, str]:
    """The second document describes a measure of the first."""
    measure = f"{ID}{first.parent.name}/avenant-2020-2022/mesure/1"
    path = second / "zz-emprunt.ttl"
    path.write_text(f'<{measure}> <http://www.w3.org/2000/01/rdf-schema#label> "Mesure 1"@fr .\n', "utf-8")
    return path, f"<{measure}>"


def retype_departement(first: Path, second: Path) -> tuple[Path, str]:
    """The second document calls a shared département a région."""
    path = second / "territoires.ttl"
    text = path.read_text("utf-8")
    subject = re.search(r"^<([^>]+/departement/[^>]+)> a igeo:Departement", text, re.M).group(1)
    path.write_text(
        text.replace(f"<{subject}> a igeo:Departement", f"<{subject}> a igeo:Region"),
        "utf-8",
    )
    return path, f"<{subject}>"


MUTATIONS = [
    (relabel_partner, "MemeDescriptionPartagee"),
    (retype_departement, "MemeDescriptionPartagee"),
    (borrow_measure, "RessourceDUnSeulDocument"),
]


@pytest.fixture()
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """Two of five synthetic documents that share a département (4 départements, in turn)."""
    data = synth(tmp_path / "data", 5)
    folders = [Path(d.name) for d in documents_of([data])]
    departement = {
        d: re.search(r"/departement/(\w+)>", (d / "territoires.ttl").read_text()).group(1) for d in folders
    }
    return next((a, b) for a in folders for b in folders if a != b and departement[a] == departement[b])


def test_valid_documents_pass_the_rules_across_documents(pair: tuple[Path, Path]) -> None:
    documents = documents_of([pair[0].parent.parent])
    assert len(documents) == 5 and check_files(documents) == []


@pytest.mark.parametrize(("mutate", "rule"), MUTATIONS, ids=[m[0].__name__ for m in MUTATIONS])
def test_rule_across_documents_names_document_file_and_line(
    pair: tuple[Path, Path], mutate, rule: str
) -> None:
    first, second = pair
    path, focus = mutate(first, second)
    findings = check_files(documents_of([first.parent.parent]))
    assert {f.shape for f in findings} == {rule}, findings
    named = [f for f in findings if f.focus == focus]
    assert named and {f.document for f in named} <= {str(first), str(second)}, findings
    for finding in named:  # the file and line of the description in the document named
        assert finding.source and finding.source.startswith(f"{finding.document}/{path.name}:"), finding
    if rule == "RessourceDUnSeulDocument":  # the document that borrows it is named, not its owner
        assert {f.document for f in named} == {str(second)}


def test_build_refuses_a_rule_across_documents_and_keeps_the_previous_build(
    tmp_path: Path, runner: CliRunner
) -> None:
    data = synth(tmp_path / "data", 2)
    store = tmp_path / "published"
    assert runner.invoke(main, ["build", "--data", str(data), "--store", str(store)]).exit_code == 0
    before = current_release(store).build_id
    first, second = (Path(d.name) for d in documents_of([data]))
    borrow_measure(first, second)
    result = runner.invoke(main, ["build", "--data", str(data), "--store", str(store)])
    assert result.exit_code == 1, result.output
    assert "RessourceDUnSeulDocument" in result.output and "cross-document" in result.output
    assert current_release(store).build_id == before


# ---------------------------------------------------------------------------------------------------------
# Pages at scale: a constant number of store queries, no duplicated values


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Release]:
    """data/ plus 2 synthetic documents, and data/ plus 30 (the same 2 and 28 more)."""
    built = {}
    for count in (2, 30):
        root = tmp_path_factory.mktemp(f"scale{count}")
        data = synth(root / "data", count)
        built[count] = build(
            load_settings({"build_dir": root / "build"}),
            [PROJECT_ROOT / "data", data],
            jobs=2,
            finish=write_served_files,  # as `cdv build` does: the sitemap reads the resource list it writes
        )
    return built


def app_for(release: Release) -> Flask:
    return create_app(load_settings({"build_dir": release.path.parent.parent, "cache_bytes": 0}))


PAGES = [
    ("/id/le-quesnoy/avenant-2020-2022/mesure/12", CHROME),
    ("/id/le-quesnoy/avenant-2020-2022/mesure/12", "text/turtle"),
    # a concept every document names: its page is the build's (one query, the labels), at 3 as at 31
    ("/id/concept/pilier/cohesion-sociale", CHROME),
    ("/id/concept/pilier/cohesion-sociale", "text/turtle"),
    ("/", CHROME),
    ("/sparql", "text/turtle"),  # the service description: its figures come from the build's manifest
    ("/ontology", CHROME),  # its use counts too
    (f"/api/queries/measures-naming-organisation?organisation={PARTNER}", "application/json"),
    # a structural page lists what it holds; a query page names every IRI of its table by its label
    ("/id/le-quesnoy/avenant-2020-2022/axe/1", CHROME),
    (f"/queries/measures-naming-organisation?organisation={PARTNER}", CHROME),
    ("/queries/measures-per-pillar-by-territory", CHROME),
]


def spend(app: Flask, path: str, accept: str) -> tuple[int, str]:
    with app.app_context():
        store = engine()
        before = store.query_count
        response = app.test_client().get(path, headers={"Accept": accept})
        assert response.status_code == 200, path
        return store.query_count - before, response.get_data(as_text=True)


@pytest.mark.timeout(1800)  # the first one builds 3 and 31 documents
@pytest.mark.parametrize(("path", "accept"), PAGES, ids=[f"{p.split('?')[0]}-{a[:9]}" for p, a in PAGES])
def test_pages_cost_the_same_queries_at_3_and_31_documents(
    builds: dict[int, Release], path: str, accept: str
) -> None:
    assert len(builds[30].manifest["graphs"]) == len(builds[2].manifest["graphs"]) + 28
    small, _ = spend(app_for(builds[2]), path, accept)
    large, _ = spend(app_for(builds[30]), path, accept)
    assert small == large, (small, large)


@pytest.mark.timeout(1800)
def test_shared_organisation_page_shows_each_value_once(builds: dict[int, Release]) -> None:
    """The partner is described in most of the 30 documents: its own values appear as often as with 2."""
    app = app_for(builds[30])
    with app.app_context():
        graphs = engine().query(
            f"SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE {{ GRAPH ?g {{ <{PARTNER}> ?p ?o }} }}"
        )
        assert int(next(iter(graphs))["n"].value) > 5
    label = "Caisse fictive d’allocations familiales"
    own_values = {  # where the page shows the organisation's own values (its incoming links quote it too)
        CHROME: [f'<span class="text">{label}</span>', f'"@value":"{label}"'],
        "text/turtle": [f'"{label}"@fr'],
    }
    for accept, needles in own_values.items():
        _, small = spend(
            app_for(builds[2]), "/id/organisation/caisse-fictive-d-allocations-familiales", accept
        )
        _, large = spend(app, "/id/organisation/caisse-fictive-d-allocations-familiales", accept)
        for needle in needles:
            assert large.count(needle) == small.count(needle) == 2, (accept, needle)  # rdfs:label, prefLabel


# ---------------------------------------------------------------------------------------------------------
# Store work at scale: every route family asks the store for as many queries and rows at 31 documents as at 3
# (a concept every document names too: the build computed its page, below)


SOURCE = "/id/le-quesnoy/avenant-2020-2022/source"
# a synthetic document's source, from which shared schemes are derived (prov:wasDerivedFrom) in each document
SYNTH_SOURCE = "/id/fictif-desortercourt/avenant-2020-2022/source"
LOOKUP = "/api/queries/measures-naming-organisation/parameters/organisation?q=caisse"
ROUTES = [
    ("/id/le-quesnoy/avenant-2020-2022/mesure/12", CHROME),
    ("/id/le-quesnoy/avenant-2020-2022/mesure/12", "text/turtle"),
    (SOURCE, CHROME),
    (SOURCE, "text/turtle"),
    (SYNTH_SOURCE, CHROME),
    (SYNTH_SOURCE, "text/turtle"),
    ("/id/concept/pilier/cohesion-sociale", CHROME),
    ("/id/concept/pilier/cohesion-sociale", "text/turtle"),
    ("/catalog", CHROME),
    ("/catalog", "text/turtle"),
    ("/catalog", "application/ld+json"),
    ("/.well-known/void", "text/turtle"),
    ("/api/queries", "application/json"),
    ("/api/openapi.json", "application/json"),
    ("/api/queries/signatories", "application/json"),
    ("/queries/measures-naming-organisation", CHROME),
    (LOOKUP, "application/json"),
    ("/ontology", CHROME),
    ("/sparql", "text/turtle"),
    ("/search?q=emploi", CHROME),
    ("/sitemap.xml", "application/xml"),
]


@dataclass
class Work:
    """What the store was asked: queries, and the rows (solutions, triples) it answered with."""

    queries: int = 0
    rows: int = 0


@contextmanager
def counted() -> Iterator[Work]:
    """Count the queries and rows of every store query of this process.

    Rows are counted on a second run of the same query, so that the caller gets its answer untouched
    whether it iterates it, serialises it or reads its variables.
    """
    work, original = Work(), EmbeddedStore.query

    def query(self: EmbeddedStore, sparql: str, **kwargs: object) -> object:
        work.queries += 1
        answer = original(self, sparql, **kwargs)
        work.rows += 1 if isinstance(answer, ox.QueryBoolean) else sum(1 for _ in answer)
        return original(self, sparql, **kwargs)

    with patch.object(EmbeddedStore, "query", query):
        yield work


def work_of(release: Release, path: str, accept: str) -> Work:
    """The store work of one request on a fresh app (no cache, queries in process, a bound of 2 choices)."""
    settings = {"build_dir": release.path.parent.parent, "cache_bytes": 0, "query_workers": 0}
    app = create_app(load_settings({**settings, "choices_bound": 2}))
    with counted() as work:
        response = app.test_client().get(path, headers={"Accept": accept})
    assert response.status_code == 200, (path, response.status_code)
    return work


@pytest.mark.timeout(1800)
@pytest.mark.parametrize(("path", "accept"), ROUTES, ids=[f"{p.split('?')[0]}-{a[:9]}" for p, a in ROUTES])
def test_store_work_is_the_same_at_3_and_31_documents(
    builds: dict[int, Release], path: str, accept: str
) -> None:
    small, large = work_of(builds[2], path, accept), work_of(builds[30], path, accept)
    assert large == small


# ---------------------------------------------------------------------------------------------------------
# Resources named in several documents: the build computes their pages (server/engine/shared_descriptions.py)


def links_and_values(desc: Description) -> tuple:
    """What a page shows of a description: its links in page order, the set of its incoming triples (a
    link's labels come in the engine's order), and everything else as is."""
    links = [t for t in desc.incoming if t.object == desc.iri]
    rest = (desc.outgoing, desc.incoming_total, desc.page, desc.page_size, desc.texts, desc.parents)
    return links, set(desc.incoming), rest, dict(desc.mentions), dict(desc.omitted)


# (page size, values shown, page): HTML and RDF page sizes, a small size to span many pages, past the end
PAGINGS = [
    (100, VALUES_SHOWN, 1),
    (1000, None, 1),
    (3, VALUES_SHOWN, 2),
    (3, None, 7),
    (3, VALUES_SHOWN, 10**6),
]


@pytest.mark.timeout(1800)
def test_the_pages_computed_by_the_build_are_those_the_queries_give(builds: dict[int, Release]) -> None:
    release = builds[30]
    store = EmbeddedStore(ox.Store.read_only(str(release.store_path)), release.build_id, release.store_path)
    shared = shared_resources(store, ID, [GRAPH + "ontology", GRAPH + "metadata"])
    assert {PARTNER, f"{ID}concept/pilier/cohesion-sociale"} <= set(shared)
    assert f"{ID}le-quesnoy/avenant-2020-2022/mesure/12" not in shared  # one document's resource
    precomputed = shared_descriptions_of(store)
    assert precomputed is not None
    names = {"cdv": CDV, "id_base": ID, "graph_base": GRAPH}
    for iri in shared:
        for size, values, page in PAGINGS:
            asked = describe(store, iri, **names, page=page, page_size=size, values_shown=values)
            kept = describe(
                store, iri, **names, page=page, page_size=size, values_shown=values, precomputed=precomputed
            )
            assert links_and_values(kept) == links_and_values(asked), (iri, size, values, page)
        html = describe(store, iri, **names, values_shown=VALUES_SHOWN)
        assert context(store, iri, cdv=CDV, file_property=CDV + "fichier", precomputed=precomputed) == within(
            context(store, iri, cdv=CDV, file_property=CDV + "fichier"), html
        ), iri
    assert precomputed.incoming(f"{ID}le-quesnoy/avenant-2020-2022/mesure/12", 0, 100) is None
    # the names another page's label query would ask of them: the build's, and the store's for the others
    own = f"{ID}le-quesnoy/avenant-2020-2022/mesure/12"
    assert set(precomputed.names([*shared, own])) == set(shared)
    for iri in (*shared, own):
        kept = label_triples(store, [iri, own], CDV, precomputed=precomputed)
        assert sorted(map(str, kept)) == sorted(map(str, label_triples(store, [iri, own], CDV))), iri


def union_names(store: ox.Store, iri: str) -> set[ox.Triple]:
    """What the union of all graphs says of the names (labels, types, order) of what `iri` links to."""
    names = [ox.NamedNode(p) for p in link_properties(CDV)]
    linked = {
        q.object
        for q in store.quads_for_pattern(ox.NamedNode(iri), None, None, None)
        if isinstance(q.object, ox.NamedNode) and q.predicate.value != RDF_TYPE
    }
    return {q.triple for o in linked for p in names for q in store.quads_for_pattern(o, p, None, None)}


@pytest.mark.timeout(1800)
def test_a_description_names_what_it_links_to_as_the_union_of_the_graphs_does(
    builds: dict[int, Release],
) -> None:
    """The outgoing query reads the names of what a resource links to in the graph of the link and in the
    ontology's and metadata graphs (not once per document in the union): on every resource of 31 documents,
    that is every name the union holds."""
    release = builds[30]
    raw = ox.Store.read_only(str(release.store_path))
    store = EmbeddedStore(raw, release.build_id, release.store_path)
    resources = (release.path / "served" / "resources.txt").read_text("utf-8").split()
    assert len(resources) > 3000
    for iri in resources:
        desc = describe(store, iri, cdv=CDV, id_base=ID, graph_base=GRAPH)
        missing = union_names(raw, iri) - set(desc.outgoing)
        assert not missing, (iri, sorted(map(str, missing))[:3])


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("accept", [CHROME, "text/turtle"], ids=["html", "turtle"])
def test_a_shared_resource_page_asks_the_store_for_the_labels_it_shows_only(
    builds: dict[int, Release], accept: str
) -> None:
    """The HTML page of a partner named in most of 30 documents asks one query (the labels of what it
    shows), its RDF variants none. In 3 documents only one names it: its page asks the store as any other."""
    page = "/" + PARTNER.removeprefix(ID.removesuffix("id/"))
    html = accept == CHROME
    assert work_of(builds[30], page, accept).queries == (1 if html else 0)
    assert work_of(builds[2], page, accept).queries == (4 if html else 2)
