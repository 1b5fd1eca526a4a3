"""Load ontology/ and data/ into named graphs, validate, and publish the store atomically."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from . import release as rel
from .config import Settings
from .dumps import publish_metadata
from .metadata import built_at
from .rdfio import RDF_EXTENSIONS, DataError, check_syntax, rdf_files
from .validate import Report, validate_files

SKIPPED_DATA_FOLDERS = {"sources"}


class BuildError(Exception):
    """The data is invalid: nothing was published."""

    def __init__(self, message: str, report: Report | None = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class GraphSource:
    """A named graph and the files it is loaded from."""

    iri: str
    files: tuple[Path, ...]


def document_graphs(data_dir: Path, graph_base: str) -> list[GraphSource]:
    """One graph per data/<territoire>/<document>/ folder."""
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


def content_hash(graphs: Sequence[GraphSource]) -> str:
    """A digest of every input file's name and bytes: same inputs, same hash."""
    digest = hashlib.sha256()
    for graph in graphs:
        digest.update(graph.iri.encode())
        for path in graph.files:
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def check_and_validate(settings: Settings, graphs: Sequence[GraphSource]) -> Report:
    """Syntax-check every file, then validate each document graph; raise BuildError on violations."""
    for graph in graphs:
        for path in graph.files:
            check_syntax(path)
    report = Report()
    for graph in graphs[1:]:
        report.findings.extend(
            validate_files(graph.files, settings.shapes_dir, settings.ontology_dir).findings
        )
    if not report.conforms:
        raise BuildError(f"{len(report.violations)} SHACL violation(s): nothing was published", report)
    return report


def load_store(path: Path, graphs: Sequence[GraphSource]) -> dict[str, int]:
    """Write a new on-disk store with one named graph per source; return triples per graph."""
    store = ox.Store(str(path))
    counts = {}
    for graph in graphs:
        target = ox.NamedNode(graph.iri)
        for file in graph.files:
            store.bulk_load(
                path=str(file), format=ox.RdfFormat.from_extension(file.suffix.lstrip(".")), to_graph=target
            )
        counts[graph.iri] = sum(1 for _ in store.quads_for_pattern(None, None, None, target))
    store.optimize()
    store.flush()
    del store
    return counts


def build(settings: Settings, data_dirs: Sequence[Path] | None = None) -> rel.Release:
    """Build and publish a new release; on any error the current release stays as it was."""
    graphs = all_graphs(settings, data_dirs)
    check_and_validate(settings, graphs)
    digest = content_hash(graphs)
    build_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{digest[:10]}"
    releases = settings.build_dir / rel.RELEASES
    releases.mkdir(parents=True, exist_ok=True)
    staging = releases / f".staging-{build_id}"
    try:
        staging.mkdir()
        counts = load_store(staging / rel.STORE, graphs)
        # dumps, VoID statistics and the catalogue, from this store, before it is published
        published = publish_metadata(staging / rel.STORE, staging, settings, counts, built_at(build_id))
        manifest = {
            "build_id": build_id,
            "content_hash": digest,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "graphs": counts,
            "triples": sum(counts.values()),
            **published,
        }
        (staging / rel.MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), "utf-8")
        final = releases / build_id
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    rel.publish(settings.build_dir, final)
    rel.prune(settings.build_dir)
    return rel.read_release(final)
