"""Load ontology/ and data/ into named graphs, validate, and publish the store atomically."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from server.build.cross_document import cross_document_findings, graph_quads
from server.build.dumps import publish_metadata
from server.build.validate import Report
from server.build.validate_pool import Document, validate_documents
from server.core import service_description as sd
from server.core.build_ids import built_at, new_build_id
from server.core.config import Settings
from server.core.errors import BuildError
from server.core.ontology_doc import TERM_USES, uses
from server.core.rdfio import RDF_EXTENSIONS, DataError, check_syntax, has_triples, rdf_files
from server.engine import release as rel
from server.engine.search_index import FILENAME as SEARCH_INDEX
from server.engine.search_index import build_index_from_store
from server.engine.shared_descriptions import FILENAME as SHARED_DESCRIPTIONS
from server.engine.shared_descriptions import write_shared_descriptions
from server.engine.store import EmbeddedStore

SKIPPED_DATA_FOLDERS = {"sources"}


@dataclass(frozen=True)
class GraphSource:
    """A named graph and the files it is loaded from."""

    iri: str
    files: tuple[Path, ...]


def document_graphs(data_dir: Path, graph_base: str) -> list[GraphSource]:
    """One graph per data/<territoire>/<document>/ folder."""
    if not data_dir.is_dir():
        raise DataError(data_dir, None, "no such data folder")
    graphs = []
    for territory in sorted(p for p in data_dir.iterdir() if p.is_dir()):
        if territory.name in SKIPPED_DATA_FOLDERS or territory.name.startswith("."):
            continue
        stray = [p for p in territory.iterdir() if p.is_file() and p.suffix in RDF_EXTENSIONS]
        if stray:
            raise DataError(
                stray[0], None, "data files belong in data/<territoire>/<document>/, one folder per document"
            )
        for document in sorted(p for p in territory.iterdir() if p.is_dir()):
            files = tuple(rdf_files([document]))
            if files:
                graphs.append(GraphSource(f"{graph_base}{territory.name}/{document.name}", files))
    return graphs


def all_graphs(settings: Settings, data_dirs: Sequence[Path] | None = None) -> list[GraphSource]:
    """The ontology graph followed by every document graph of the data folders."""
    graphs = [GraphSource(settings.graph_base + "ontology", tuple(rdf_files([settings.ontology_dir])))]
    for data_dir in data_dirs or [settings.data_dir]:
        graphs.extend(document_graphs(data_dir, settings.graph_base))
    return graphs


def require_documents(graphs: Sequence[GraphSource], data_dirs: Sequence[Path]) -> None:
    """BuildError when the data folders hold no document: an empty graph never replaces a published one."""
    if len(graphs) < 2:
        folders = ", ".join(str(d) for d in data_dirs)
        raise BuildError(
            f"no document to publish: {folders} holds no <territoire>/<document>/ folder with Turtle files "
            "(cdv init writes one; cdv extract --into fills it)"
        )
    empty = [graph.files[0].parent for graph in graphs[1:] if not any(map(has_triples, graph.files))]
    if empty:
        raise BuildError(f"no triple to publish in {', '.join(map(str, empty))}: its files are empty")


SOURCE_FILES = """
SELECT DISTINCT ?g ?file WHERE {
  GRAPH ?g { ?source a <https://w3id.org/cdv/ontology#DocumentSource> ; <https://w3id.org/cdv/ontology#fichier> ?file }
}
"""


def source_texts(store_path: Path, graphs: Sequence[GraphSource]) -> dict[str, Path]:
    """The source text each document names (`cdv:fichier`), by file name: beside the document's files, else in
    the `sources/` folder of its data folder. BuildError for a name that is not a plain file name or a text
    that is in neither place: a page never quotes a text the build did not carry."""
    folders = {graph.iri: graph.files[0].parent for graph in graphs[1:]}
    store = ox.Store.read_only(str(store_path))
    found, missing = {}, []
    for row in store.query(SOURCE_FILES):
        name, folder = row["file"].value, folders.get(row["g"].value)
        if folder is None:
            continue
        candidates = [folder / name, folder.parent.parent / "sources" / name]
        path = next((p for p in candidates if p.is_file()), None)
        if Path(name).name != name or path is None:
            missing.append(f"{name!r} (cited by {folder}; looked for {' and '.join(map(str, candidates))})")
        else:
            found[name] = path
    del store
    if missing:
        raise BuildError("source text(s) not found, nothing was published: " + "; ".join(sorted(missing)))
    return found


def copy_sources(texts: dict[str, Path], folder: Path) -> None:
    """Carry the source texts in the release: the server quotes the texts of the build it serves."""
    folder.mkdir()
    for name, path in texts.items():
        shutil.copyfile(path, folder / name)


def content_hash(graphs: Sequence[GraphSource]) -> str:
    """A digest of every input file's name and bytes: same inputs, same hash."""
    digest = hashlib.sha256()
    for graph in graphs:
        digest.update(graph.iri.encode())
        for path in graph.files:
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def documents(graphs: Sequence[GraphSource]) -> dict[str, Document]:
    """The document graphs (all but the ontology's, first), by graph IRI."""
    return {graph.iri: Document(graph.iri, graph.files) for graph in graphs[1:]}


def check_and_validate(settings: Settings, graphs: Sequence[GraphSource], jobs: int | None = None) -> Report:
    """Syntax-check the ontology, then validate each document on its own, in parallel (each worker checks
    its document's syntax); raise BuildError on violations, naming the documents."""
    for path in graphs[0].files:
        check_syntax(path)
    docs = list(documents(graphs).values())
    report = validate_documents(docs, settings.shapes_dir, settings.ontology_dir, jobs)
    if not report.conforms:
        raise BuildError(
            f"{len(report.violations)} SHACL violation(s) in {len(report.failed)} of {report.documents} "
            "document(s): nothing was published",
            report,
        )
    return report


GRAPH_SIZES = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


def load_store(path: Path, graphs: Sequence[GraphSource]) -> dict[str, int]:
    """Write a new on-disk store with one named graph per source; return triples per graph."""
    store = ox.Store(str(path))
    # One bulk load for all sources: a bulk_load per file costs a tenth of a second each (9,000 files at N=1,000).
    store.bulk_extend(graph_quads([(graph.iri, graph.files) for graph in graphs]))
    sizes = {row["g"].value: int(row["n"].value) for row in store.query(GRAPH_SIZES)}
    store.optimize()
    store.flush()
    del store
    return {graph.iri: sizes.get(graph.iri, 0) for graph in graphs}


def recorded_figures(path: Path, settings: Settings) -> dict[str, Any]:
    """What pages would otherwise count over every quad on a worker's first request, counted once per build
    for the manifest: the distinct triples of all graphs together (the default graph of /sparql, for the
    service description; 13 s at N = 1,000) and how many resources use each ontology term (the ontology's
    page; 25 s at N = 1,000)."""
    store = EmbeddedStore(ox.Store.read_only(str(path)), "staging", path)
    union = next(iter(store.query(sd.UNION_SIZE)))
    return {
        sd.UNION_TRIPLES: int(union["n"].value),  # type: ignore[index]
        TERM_USES: uses(store, settings, settings.ontology_iri + "#"),
    }


def check_across_documents(path: Path, graphs: Sequence[GraphSource]) -> None:
    """Run the cross-document rules on the staging store; raise BuildError on violations."""
    store = ox.Store(str(path))
    findings = cross_document_findings(store, documents(graphs), [graphs[0].iri])
    del store
    report = Report(findings, documents=len(graphs) - 1)
    if not report.conforms:
        report.failed = sorted({f.document for f in report.violations if f.document})
        raise BuildError(
            f"{len(report.violations)} cross-document violation(s) in {len(report.failed)} document(s): "
            "nothing was published",
            report,
        )


def write_shared(store_path: Path, path: Path, settings: Settings, build_id: str) -> int:
    """The pages of the resources named in several documents, computed once (server/engine/shared_descriptions.py)."""
    store = EmbeddedStore(ox.Store.read_only(str(store_path)), build_id, store_path)
    return write_shared_descriptions(
        store,
        path,
        cdv=settings.ontology_iri + "#",
        id_base=settings.id_base,
        graph_base=settings.graph_base,
        skip_graphs=[settings.graph_base + "ontology", settings.graph_base + "metadata"],
        build_id=build_id,
    )


def build(
    settings: Settings,
    data_dirs: Sequence[Path] | None = None,
    jobs: int | None = None,
    finish: Callable[[Path, Settings], object] | None = None,
) -> rel.Release:
    """Build and publish a new release; on any error the current release stays as it was.

    `finish(release folder, settings)` adds to the complete release before it is published: `cdv build`
    passes the web's writer of the catalogue's answers (`server.web.prerender`), which this layer may not
    import (it renders the web's templates).
    """
    graphs = all_graphs(settings, data_dirs)
    require_documents(graphs, data_dirs or [settings.data_dir])
    check_and_validate(settings, graphs, jobs)
    digest = content_hash(graphs)
    build_id = new_build_id(datetime.now(UTC), digest)
    releases = settings.build_dir / rel.RELEASES
    releases.mkdir(parents=True, exist_ok=True)
    staging = releases / f".staging-{build_id}"
    try:
        staging.mkdir()
        counts = load_store(staging / rel.STORE, graphs)
        check_across_documents(staging / rel.STORE, graphs)
        copy_sources(source_texts(staging / rel.STORE, graphs), staging / rel.SOURCES)
        # dumps, VoID statistics and the catalogue, from this store, before it is published
        published = publish_metadata(
            staging / rel.STORE, staging, settings, counts, built_at(build_id), build_id
        )
        published.update(recorded_figures(staging / rel.STORE, settings))
        index = staging / SEARCH_INDEX  # the full-text index, read-only beside the store
        build_index_from_store(
            staging / rel.STORE,
            index,
            [settings.graph_base + "metadata"],
            build_id,
            settings.ontology_iri + "#",
        )
        write_shared(staging / rel.STORE, staging / SHARED_DESCRIPTIONS, settings, build_id)
        manifest = {
            "build_id": build_id,
            "content_hash": digest,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "graphs": counts,
            "triples": sum(counts.values()),
            **published,
        }
        (staging / rel.MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), "utf-8")
        if finish is not None:
            finish(staging, settings)
        final = releases / build_id
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    rel.publish(settings.build_dir, final)
    rel.prune(settings.build_dir)
    return rel.read_release(final)
