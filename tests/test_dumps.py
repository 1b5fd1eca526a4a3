"""The build's dumps and metadata: files as recorded, counts equal to VoID, one dataset per document."""

from __future__ import annotations

import gzip
import hashlib
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, RDF, VOID

from server.build.dumps import METADATA_QUADS, metadata_graph_iri
from server.build.pipeline import build
from server.core.config import PROJECT_ROOT, load_settings
from server.core.vocab import OWL_VERSION_INFO
from server.engine.release import Release, current_release

from .documents import copy_document
from .rdf_parse import parse_graph, parse_quads


def void_of(release: Release) -> rdflib.Graph:
    return rdflib.Graph().parse(release.path / "metadata" / "void.nt", format="nt")


def catalog_of(release: Release) -> rdflib.Graph:
    return rdflib.Graph().parse(release.path / "metadata" / "catalog.nt", format="nt")


def parse_dump(path: Path, fmt: str) -> rdflib.Graph:
    return parse_graph(path.read_bytes(), fmt)


def test_every_data_graph_is_dumped_in_four_formats_and_gzipped(release: Release) -> None:
    dumps = release.manifest["dumps"]
    for graph in release.manifest["graphs"]:
        formats = {(d["format"], d["compressed"]) for d in dumps.values() if d["dataset"] == graph}
        assert formats == {(f, c) for f in ("turtle", "ntriples", "jsonld", "rdfxml") for c in (False, True)}
    whole = [d for d in dumps.values() if d["format"] == "nquads"]
    assert len(whole) == 2


def test_recorded_size_and_checksum_are_the_files(release: Release) -> None:
    for name, entry in release.manifest["dumps"].items():
        data = (release.dumps_path / name).read_bytes()
        assert len(data) == entry["bytes"], name
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], name


def test_gzip_twins_hold_the_same_bytes(release: Release) -> None:
    for name in release.manifest["dumps"]:
        if name.endswith(".gz"):
            plain = (release.dumps_path / name.removesuffix(".gz")).read_bytes()
            assert gzip.decompress((release.dumps_path / name).read_bytes()) == plain


def test_each_dump_parses_to_the_triple_count_voids_states(release: Release) -> None:
    void = void_of(release)
    for name, entry in release.manifest["dumps"].items():
        path = release.dumps_path / name
        parsed = (
            parse_quads(path.read_bytes())
            if entry["format"] == "nquads"
            else parse_dump(path, entry["format"])
        )
        stated = int(void.value(rdflib.URIRef(entry["dataset"]), VOID.triples))
        assert len(parsed) == entry["triples"] == stated, name


def test_each_dump_is_the_graph_in_the_store(release: Release) -> None:
    store = ox.Store.read_only(str(release.store_path))
    for name, entry in release.manifest["dumps"].items():
        if entry["compressed"] or entry["format"] == "nquads":
            continue
        expected = rdflib.Graph()
        expected.parse(
            data=ox.serialize(
                (q.triple for q in store.quads_for_pattern(None, None, None, ox.NamedNode(entry["dataset"]))),
                format=ox.RdfFormat.N_TRIPLES,
            ),
            format="nt",
        )
        assert isomorphic(parse_dump(release.dumps_path / name, entry["format"]), expected), name


def test_the_whole_dump_holds_the_data_graphs_and_not_the_metadata(release: Release) -> None:
    quads = parse_quads((release.dumps_path / "cdv-graph.nq").read_bytes())
    assert {q.graph_name.value for q in quads} == set(release.manifest["graphs"])
    assert len(quads) == release.manifest["triples"] == sum(release.manifest["graphs"].values())


def test_void_statistics_are_those_of_the_store(release: Release) -> None:
    store = ox.Store.read_only(str(release.store_path))
    void = void_of(release)
    for graph, triples in release.manifest["graphs"].items():
        node = rdflib.URIRef(graph)
        subjects = {q.subject for q in store.quads_for_pattern(None, None, None, ox.NamedNode(graph))}
        objects = {q.object for q in store.quads_for_pattern(None, None, None, ox.NamedNode(graph))}
        assert int(void.value(node, VOID.triples)) == triples
        assert int(void.value(node, VOID.distinctSubjects)) == len(subjects)
        assert int(void.value(node, VOID.distinctObjects)) == len(objects)
        partitions = {
            str(void.value(p, VOID.property)): int(void.value(p, VOID.triples))
            for p in void.objects(node, VOID.propertyPartition)
        }
        assert sum(partitions.values()) == triples
        assert void.value(node, VOID.sparqlEndpoint) is not None
        assert set(void.objects(node, VOID.vocabulary))
    whole = rdflib.URIRef(load_settings().base_iri + "graph")
    assert int(void.value(whole, VOID.triples)) == release.manifest["triples"]
    assert {str(s) for s in void.objects(whole, VOID.subset)} == set(release.manifest["graphs"])


def test_the_metadata_graph_in_the_store_is_the_catalogue(release: Release) -> None:
    store = ox.Store.read_only(str(release.store_path))
    target = ox.NamedNode(metadata_graph_iri(load_settings()))
    in_store = rdflib.Graph().parse(
        data=ox.serialize(
            (q.triple for q in store.quads_for_pattern(None, None, None, target)),
            format=ox.RdfFormat.N_TRIPLES,
        ),
        format="nt",
    )
    # Oxigraph stores literals in canonical form (xsd:nonNegativeInteger → xsd:integer, oxigraph#526): the
    # store's copy is the catalogue file as any Oxigraph store would hold it; /catalog serves the file.
    normalised = ox.Store()
    normalised.load(path=str(release.path / "metadata" / "catalog.nt"), format=ox.RdfFormat.N_TRIPLES)
    # and the build id, which a server over a remote engine reads to know the build the engine holds
    normalised.add(ox.Quad(target, ox.NamedNode(OWL_VERSION_INFO), ox.Literal(release.build_id)))
    expected = rdflib.Graph().parse(
        data=ox.serialize((q.triple for q in normalised), format=ox.RdfFormat.N_TRIPLES), format="nt"
    )
    assert isomorphic(in_store, expected)
    assert len(in_store) == len(catalog_of(release)) + 1
    assert len(store) == release.manifest["triples"] + len(in_store)


def test_the_metadata_graph_file_is_the_one_in_the_store(release: Release) -> None:
    store = ox.Store.read_only(str(release.store_path))
    target = ox.NamedNode(metadata_graph_iri(load_settings()))
    in_file = set(ox.parse(path=str(release.path / "metadata" / METADATA_QUADS), format=ox.RdfFormat.N_QUADS))
    assert {q.graph_name for q in in_file} == {target}
    assert len(in_file) == len(list(store.quads_for_pattern(None, None, None, target)))
    assert ox.Quad(target, ox.NamedNode(OWL_VERSION_INFO), ox.Literal(release.build_id), target) in in_file


def test_document_facts_come_from_the_data(release: Release) -> None:
    """Title, places, period and source of the document dataset are read from its graph."""
    catalog = catalog_of(release)
    store = ox.Store.read_only(str(release.store_path))
    for graph in release.manifest["graphs"]:
        if graph.endswith("/ontology"):
            continue
        node = rdflib.URIRef(graph)
        rows = list(
            store.query(
                "PREFIX cdv: <https://w3id.org/cdv/ontology#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
                "SELECT ?g ?qpv ?commune ?label WHERE { GRAPH ?g { ?doc a cdv:Avenant ; cdv:quartier ?qpv ; "
                "rdfs:label ?label } ?qpv cdv:commune ?commune }",
                substitutions={ox.Variable("g"): ox.NamedNode(graph)},
                use_default_graph_as_union=True,
            )
        )
        assert rows, graph
        spatial = {str(o) for o in catalog.objects(node, DCTERMS.spatial)}
        assert {rows[0]["qpv"].value, rows[0]["commune"].value} <= spatial
        titles = {str(t) for t in catalog.objects(node, DCTERMS.title)}
        assert any(rows[0]["label"].value in t for t in titles)
        assert {t.language for t in catalog.objects(node, DCTERMS.title)} == {"fr", "en"}
        period = catalog.value(node, DCTERMS.temporal)
        assert catalog.value(period, RDF.type) == DCTERMS.PeriodOfTime
        assert catalog.value(period, DCAT.startDate) is not None


@pytest.fixture(scope="module")
def two_documents(tmp_path_factory: pytest.TempPathFactory) -> Release:
    """The project's data plus a copy of its document under another territory: two documents, one build."""
    root = tmp_path_factory.mktemp("two-documents")
    for folder in ("ontology", "data"):
        shutil.copytree(PROJECT_ROOT / folder, root / folder)
    # the document shapes are tested elsewhere; the DCAT ones keep the build's catalogue check
    (root / "shapes").mkdir()
    for path in (PROJECT_ROOT / "shapes").glob("dcat-ap*.ttl"):
        shutil.copy(path, root / "shapes")
    source = next(p for p in sorted((root / "data").glob("*/*")) if p.is_dir() and p.parent.name != "sources")
    copy_document(source, root / "data" / "autreville" / source.name, "autreville")
    build(load_settings({"project_root": root, "build_dir": root / "build"}))
    return current_release(root / "build")


def test_a_second_document_gets_its_own_dataset(two_documents: Release) -> None:
    catalog = catalog_of(two_documents)
    datasets = {str(d) for d in catalog.subjects(RDF.type, DCAT.Dataset)}
    documents = [g for g in two_documents.manifest["graphs"] if not g.endswith("/ontology")]
    assert len(documents) == 2
    assert set(documents) <= datasets
    for graph in documents:
        node = rdflib.URIRef(graph)
        assert catalog.value(node, DCTERMS.title) is not None
        assert len(list(catalog.objects(node, DCAT.distribution))) == 8
        landing = str(catalog.value(node, DCAT.landingPage))
        assert graph.split("/graph/", 1)[1].split("/")[0] in landing  # its own avenant, not the other's
