"""Build step: from the store about to be published, write the dumps, the statistics and the metadata graph.

Order matters, and is the reason the numbers agree: the dumps and the VoID statistics are read from the
same store, after the data graphs are loaded and before anything else is added; then the catalogue (which
records each dump's size and SHA-256, so it cannot be inside a dump) is loaded into the metadata graph
`{base}graph/metadata`. The metadata graph is therefore in the store (SPARQL can query the catalogue) but in
no dump and in no statistic: VoID describes the data graphs, exactly what the dumps hold.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata as package_metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef

from server.core import metadata as md
from server.core.config import Settings
from server.core.dcat import catalog_graph
from server.core.errors import BuildError
from server.core.negotiation import JSONLD, NQUADS, NTRIPLES, RDFXML, TURTLE, Format
from server.core.rdfio import load_rdflib, rdf_files
from server.core.sparql_rewrite import values
from server.core.vocab import OWL_VERSION_INFO
from server.engine.release import METADATA, dump_stem

if TYPE_CHECKING:  # pyshacl is loaded by the build only
    from server.build.validate import Report

DUMP_FORMATS: tuple[Format, ...] = (TURTLE, NTRIPLES, JSONLD, RDFXML)
METADATA_QUADS = "metadata.nq"  # the metadata graph as loaded in the store (catalogue, build id)
WHOLE_DUMP = "cdv-graph"
_CHUNK = 1 << 20


def metadata_graph_iri(settings: Settings) -> str:
    """The named graph of the catalogue and VoID in the published store."""
    return settings.graph_base + "metadata"


def _sha256(path: Path) -> str:
    """The SHA-256 of a file, hex."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _gzip(path: Path) -> Path:
    """Write `path.gz` next to `path`, reproducibly (no name, no time stamp in the header)."""
    target = path.with_name(path.name + ".gz")
    with (
        path.open("rb") as src,
        target.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out,
    ):
        shutil.copyfileobj(src, out, _CHUNK)
    return target


def write_dump(
    store: ox.Store, folder: Path, stem: str, fmt: Format, graph: str | None, triples: int
) -> list[md.Dump]:
    """Serialise one graph (or, for N-Quads, every graph) and its gzip twin; size and checksum each."""
    path = folder / f"{stem}.{fmt.extension}"
    from_graph = ox.NamedNode(graph) if graph else None
    store.dump(
        path, ox.RdfFormat.from_media_type(fmt.media_type), from_graph=from_graph, prefixes=_prefixes(fmt)
    )
    dumps = []
    for file, compressed in ((path, False), (_gzip(path), True)):
        dumps.append(md.Dump(file.name, fmt, compressed, file.stat().st_size, _sha256(file), triples))
    return dumps


def _prefixes(fmt: Format) -> dict[str, str] | None:
    """Prefixes make Turtle and RDF/XML readable; N-Triples and N-Quads have none."""
    return dict(md.PREFIXES) if fmt in (TURTLE, RDFXML) else None


def _values(variable: str, terms: Sequence[ox.NamedNode | ox.Literal]) -> str:
    """A VALUES block serialised from RDF terms (pyoxigraph escapes them), never from raw strings.

    pyoxigraph's `substitutions` only bind projected variables, so aggregates bind their inputs here.
    """
    return values([variable], ([t] for t in terms))


def _graphs(graphs: Sequence[str]) -> str:
    """A VALUES block binding ?g to the given graphs."""
    return _values("g", [ox.NamedNode(g) for g in graphs])


def _bound(sparql: str, **bindings: ox.NamedNode | ox.Literal) -> str:
    """Put one VALUES block per binding right after the query's first `WHERE {`."""
    blocks = " ".join(_values(name, [term]) for name, term in bindings.items())
    return sparql.replace("WHERE {", "WHERE { " + blocks, 1)


def _count(store: ox.Store, sparql: str, **bindings: ox.NamedNode | ox.Literal) -> int:
    """The single number a counting query answers."""
    row = next(iter(store.query(_bound(sparql, **bindings), use_default_graph_as_union=True)))
    return int(row[0].value)


def _select(store: ox.Store, sparql: str, **bindings: ox.NamedNode | ox.Literal) -> list[ox.QuerySolution]:
    """The rows of a query over the union of the graphs."""
    return list(store.query(_bound(sparql, **bindings), use_default_graph_as_union=True))


def statistics(store: ox.Store, graphs: Sequence[str], uri_space: str) -> md.Statistics:
    """VoID statistics over the given named graphs, counted as quads (what the dumps hold)."""
    values = _graphs(graphs)
    counts = next(
        iter(
            store.query(
                "SELECT (COUNT(*) AS ?t) (COUNT(DISTINCT ?s) AS ?s2) (COUNT(DISTINCT ?o) AS ?o2) "
                f"WHERE {{ {values} GRAPH ?g {{ ?s ?p ?o }} }}"
            )
        )
    )
    entities = _count(
        store,
        f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {values} GRAPH ?g {{ ?s ?p ?o }} "
        "FILTER(isIRI(?s) && STRSTARTS(STR(?s), ?space)) }",
        space=ox.Literal(uri_space),
    )
    classes = {
        row["c"].value: int(row["n"].value)
        for row in store.query(
            f"SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {values} GRAPH ?g {{ ?s a ?c }} "
            "FILTER(isIRI(?c)) } GROUP BY ?c"
        )
    }
    properties = {
        row["p"].value: int(row["n"].value)
        for row in store.query(
            f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ {values} GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?p"
        )
    }
    return md.Statistics(
        triples=int(counts[0].value),
        entities=entities,
        distinct_subjects=int(counts[1].value),
        distinct_objects=int(counts[2].value),
        classes=classes,
        properties=properties,
    )


DOCUMENT_QUERY = """
PREFIX cdv: <{ns}>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?doc ?title ?start ?end WHERE {{
  GRAPH ?g {{
    ?doc a cdv:Avenant .
    OPTIONAL {{ ?doc dcterms:title ?t FILTER(LANGMATCHES(LANG(?t), "fr") || LANG(?t) = "") }}
    OPTIONAL {{ ?doc rdfs:label ?l FILTER(LANGMATCHES(LANG(?l), "fr") || LANG(?l) = "") }}
    OPTIONAL {{ ?doc dcterms:temporal ?period .
               ?period <http://www.w3.org/ns/dcat#startDate> ?start ; <http://www.w3.org/ns/dcat#endDate> ?end }}
  }}
  BIND(COALESCE(?l, ?t) AS ?title)
}} ORDER BY ?doc LIMIT 1
"""

PLACES_QUERY = """
PREFIX cdv: <{ns}>
SELECT DISTINCT ?place WHERE {{
  GRAPH ?g {{ ?doc a cdv:Avenant ; cdv:quartier ?qpv }}
  {{ ?doc cdv:quartier ?place }} UNION {{ ?qpv cdv:commune ?place }}
}} ORDER BY ?place
"""

SOURCES_QUERY = """
PREFIX cdv: <{ns}>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT DISTINCT ?source WHERE {{
  GRAPH ?g {{ {{ ?source a cdv:DocumentSource }} UNION {{ ?doc a cdv:Avenant ; prov:wasDerivedFrom ?source }} }}
}} ORDER BY ?source
"""

KEYWORDS_QUERY = """
PREFIX cdv: <{ns}>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?label WHERE {{
  {{ GRAPH ?g {{ ?axe a cdv:Axe ; cdv:ordre ?k ; rdfs:label ?label }} }}
  UNION
  {{ GRAPH ?g {{ ?doc a cdv:Avenant ; cdv:quartier ?place }} ?place rdfs:label|skos:prefLabel ?label . BIND(0 AS ?k) }}
  UNION
  {{ GRAPH ?g {{ ?doc a cdv:Avenant ; cdv:quartier ?qpv }} ?qpv cdv:commune ?place .
     ?place rdfs:label|skos:prefLabel ?label . BIND(0 AS ?k) }}
}} ORDER BY ?k ?label
"""

COUNT_QUERY = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a ?class } }"
COUNTED = (("axes", "Axe"), ("thematiques", "Thematique"), ("objectifs", "Objectif"), ("mesures", "Mesure"))


def document_facts(store: ox.Store, graph: str, settings: Settings) -> md.DocumentFacts:
    """What the catalogue says about a document graph, read from that graph (nothing hard-coded)."""
    ns = settings.base_iri + "ontology#"
    g = {"g": ox.NamedNode(graph)}
    rows = _select(store, DOCUMENT_QUERY.format(ns=ns), **g)
    row = rows[0] if rows else None
    title = row["title"].value if row is not None and row["title"] is not None else graph
    period = None
    if row is not None and row["start"] is not None and row["end"] is not None:
        period = (_rdflib_literal(row["start"]), _rdflib_literal(row["end"]))
    places = [r["place"].value for r in _select(store, PLACES_QUERY.format(ns=ns), **g)]
    sources = [r["source"].value for r in _select(store, SOURCES_QUERY.format(ns=ns), **g)]
    labels = [r["label"].value for r in _select(store, KEYWORDS_QUERY.format(ns=ns), **g)]
    counts = {
        name: _count(store, COUNT_QUERY, g=ox.NamedNode(graph), **{"class": ox.NamedNode(ns + cls)})
        for name, cls in COUNTED
    }
    return md.DocumentFacts(
        graph=graph,
        title=title,
        document=row["doc"].value if row is not None else None,
        spatial=tuple(places),
        period=period,
        sources=tuple(sources),
        keywords=md.keyword_list(labels),
        counts=counts,
    )


ONTOLOGY_QUERY = """
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
SELECT ?title ?version ?created WHERE {
  GRAPH ?g { ?o a owl:Ontology
    OPTIONAL { ?o dcterms:title ?title }
    OPTIONAL { ?o owl:versionInfo ?version }
    OPTIONAL { ?o dcterms:created ?created } }
}
"""


def ontology_facts(store: ox.Store, settings: Settings) -> md.OntologyFacts:
    """The ontology header (title per language, version, creation date) from the ontology graph."""
    graph, ontology = ox.NamedNode(settings.graph_base + "ontology"), ox.NamedNode(settings.ontology_iri)
    titles: dict[str, str] = {}
    version = created = None
    for row in _select(store, ONTOLOGY_QUERY, g=graph, o=ontology):
        if row["title"] is not None:
            titles.setdefault(row["title"].language or "fr", row["title"].value)
        version = version or (row["version"].value if row["version"] is not None else None)
        created = created or (_rdflib_literal(row["created"]) if row["created"] is not None else None)
    return md.OntologyFacts(settings.ontology_iri, titles, version, created)


def _rdflib_literal(term: ox.Literal) -> Literal:
    """The same literal for rdflib."""
    datatype = URIRef(term.datatype.value) if term.language is None else None
    return Literal(term.value, lang=term.language, datatype=datatype)


def contact_url(settings: Settings) -> str:
    """The project's issue tracker from the package metadata (`[project.urls]`), else the home page."""
    try:
        urls = package_metadata.metadata("cdv-graph").get_all("Project-URL") or []
    except package_metadata.PackageNotFoundError:
        urls = []
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() in {"issues", "bug tracker", "tracker"}:
            return url.strip()
    return settings.base_iri


DCAT_SHAPES = "dcat-ap*.ttl"


def catalog_report(catalog: Graph, shapes_dir: Path) -> Report:
    """Validate a catalogue against the project's DCAT-AP shapes (and those only)."""
    shapes = load_rdflib(sorted(shapes_dir.glob(DCAT_SHAPES)))
    from server.build.validate import validate_graph

    return validate_graph(catalog, shapes, Graph())


def write_dumps(
    store: ox.Store, folder: Path, settings: Settings, graphs: Sequence[str], counts: dict[str, int]
) -> dict[str, list[md.Dump]]:
    """Every data graph in the four RDF formats, and all of them as one N-Quads file; each also gzipped."""
    folder.mkdir(parents=True, exist_ok=True)
    dumps: dict[str, list[md.Dump]] = {}
    for graph in graphs:
        dumps[graph] = [
            dump
            for fmt in DUMP_FORMATS
            for dump in write_dump(store, folder, dump_stem(graph, settings), fmt, graph, counts[graph])
        ]
    total = sum(counts[g] for g in graphs)
    dumps[settings.base_iri + "graph"] = write_dump(store, folder, WHOLE_DUMP, NQUADS, None, total)
    return dumps


def publish_metadata(
    store_path: Path,
    release_dir: Path,
    settings: Settings,
    counts: dict[str, int],
    built: datetime | None = None,
    build_id: str | None = None,
) -> dict[str, Any]:
    """The build step: dumps, statistics, catalogue and VoID; returns what the manifest records.

    `counts` is the triples per data graph, as loaded (the ontology graph first). The metadata graph (the
    catalogue and the build id) also goes to `metadata/metadata.nq`, for loading into a remote engine.
    """
    graphs = list(counts)
    store = ox.Store(str(store_path))
    dumps = write_dumps(store, release_dir / "dumps", settings, graphs, counts)
    stats = {g: statistics(store, [g], settings.base_iri) for g in graphs}
    stats = {settings.base_iri + "graph": statistics(store, graphs, settings.base_iri), **stats}
    ontology_graph = settings.graph_base + "ontology"
    publication = md.Publication(
        base_iri=settings.base_iri,
        built=built or datetime.now(UTC),
        ontology=ontology_facts(store, settings),
        documents=[document_facts(store, g, settings) for g in graphs if g != ontology_graph],
        statistics=stats,
        dumps=dumps,
        contact_url=contact_url(settings),
    )
    folder = release_dir / METADATA
    folder.mkdir(parents=True, exist_ok=True)
    catalog = catalog_graph(publication)
    report = catalog_report(catalog, settings.shapes_dir)
    if not report.conforms:
        raise BuildError("the catalogue does not conform to the DCAT-AP shapes", report)
    (folder / "catalog.nt").write_bytes(catalog.serialize(format="nt", encoding="utf-8"))
    (folder / "void.nt").write_bytes(md.void_graph(publication).serialize(format="nt", encoding="utf-8"))
    if settings.shapes_dir.is_dir():  # the standard `{base}shapes` the datasets conform to, as built
        shapes = load_rdflib(rdf_files([settings.shapes_dir]))
        (folder / "shapes.nt").write_bytes(shapes.serialize(format="nt", encoding="utf-8"))
    target = ox.NamedNode(metadata_graph_iri(settings))
    store.load(catalog.serialize(format="nt", encoding="utf-8"), ox.RdfFormat.N_TRIPLES, to_graph=target)
    if build_id is not None:  # how a server over a remote engine knows which build the engine holds
        store.add(ox.Quad(target, ox.NamedNode(OWL_VERSION_INFO), ox.Literal(build_id), target))
    metadata_quads = list(store.quads_for_pattern(None, None, None, target))
    ox.serialize(metadata_quads, str(folder / METADATA_QUADS), ox.RdfFormat.N_QUADS)
    metadata_triples = len(metadata_quads)
    store.flush()
    del store
    return {
        "dumps": {
            d.name: {
                "dataset": dataset,
                "format": d.format.name,
                "compressed": d.compressed,
                "bytes": d.byte_size,
                "sha256": d.sha256,
                "triples": d.triples,
            }
            for dataset, files in dumps.items()
            for d in files
        },
        "metadata_graph": {target.value: metadata_triples},
    }
