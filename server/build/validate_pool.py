"""Validate many documents, one at a time, in parallel across cores: memory stays that of one document.

Each worker process parses the shapes and the ontology once, then validates the documents it is given, each
in its own rdflib graph (never all documents in one graph); a document's findings name the document.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path

import rdflib
from tqdm import tqdm

from server.build.validate import Report, validate_graph
from server.core.rdfio import DataError, load_rdflib, rdf_files


@dataclass(frozen=True)
class Document:
    """A named group of files validated together: a data folder's document, or files of one folder."""

    name: str
    files: tuple[Path, ...]


@dataclass(frozen=True)
class Outcome:
    """One document's validation: its report, or the syntax error that stopped it."""

    name: str
    report: Report = field(default_factory=Report)
    error: tuple[str, int | None, str] | None = None  # DataError's fields: it does not pickle as an exception

    def data_error(self) -> DataError | None:
        return DataError(Path(self.error[0]), self.error[1], self.error[2]) if self.error else None


_SHAPES: rdflib.Graph | None = None
_ONTOLOGY: rdflib.Graph | None = None


def _load_rules(shapes_dir: Path, ontology_dir: Path) -> None:
    """Parse shapes and ontology once per process (the pool's initializer)."""
    global _SHAPES, _ONTOLOGY
    _SHAPES = load_rdflib(rdf_files([shapes_dir]))
    _ONTOLOGY = load_rdflib(rdf_files([ontology_dir]))


def _validate(document: Document) -> Outcome:
    """Validate one document with the rules this process holds."""
    assert _SHAPES is not None and _ONTOLOGY is not None
    try:
        data = load_rdflib(document.files)
    except DataError as err:
        return Outcome(document.name, error=(str(err.path), err.line, err.message))
    report = validate_graph(data, _SHAPES, _ONTOLOGY, document.files)
    findings = [replace(f, document=document.name) for f in report.findings]
    return Outcome(
        document.name, Report(findings, documents=1, failed=[document.name] * (not report.conforms))
    )


def default_jobs() -> int:
    """Worker processes: CDV_JOBS, else one per core this process may use."""
    configured = os.environ.get("CDV_JOBS", "")
    return int(configured) if configured.isdigit() and int(configured) > 0 else len(os.sched_getaffinity(0))


def show_progress() -> bool:
    """Progress bars when stderr is a terminal, or when CDV_PROGRESS=1 forces them (0 hides them)."""
    forced = os.environ.get("CDV_PROGRESS")
    return forced == "1" if forced in {"0", "1"} else sys.stderr.isatty()


def outcomes(
    documents: Sequence[Document], shapes_dir: Path, ontology_dir: Path, jobs: int | None = None
) -> Iterator[Outcome]:
    """Validate each document, in parallel when there are several; yield outcomes as they complete."""
    jobs = min(jobs or default_jobs(), len(documents))
    bar = tqdm(
        total=len(documents), desc="validate", unit="doc", disable=not show_progress(), file=sys.stderr
    )
    with bar:
        if jobs <= 1:
            _load_rules(shapes_dir, ontology_dir)
            for document in documents:
                yield _validate(document)
                bar.update()
            return
        with ProcessPoolExecutor(jobs, initializer=_load_rules, initargs=(shapes_dir, ontology_dir)) as pool:
            for future in as_completed([pool.submit(_validate, d) for d in documents]):
                yield future.result()
                bar.update()


def validate_documents(
    documents: Sequence[Document], shapes_dir: Path, ontology_dir: Path, jobs: int | None = None
) -> Report:
    """One report for all documents (findings sorted by document); raise the first syntax error found."""
    merged = Report()
    errors: list[DataError] = []
    for outcome in outcomes(documents, shapes_dir, ontology_dir, jobs):
        error = outcome.data_error()
        if error:
            errors.append(error)
        merged.findings.extend(outcome.report.findings)
        merged.failed.extend(outcome.report.failed)
        merged.documents += 1
    if errors:
        raise min(errors, key=lambda e: str(e.path))
    merged.findings.sort(key=lambda f: (f.severity != "Violation", f.document or "", f.source or "", f.focus))
    merged.failed.sort()
    return merged


def documents_of(paths: Sequence[Path]) -> list[Document]:
    """Group RDF files by the folder that holds them: a data/<territoire>/<document>/ folder is one document."""
    groups: dict[Path, list[Path]] = {}
    for path in rdf_files(paths):
        groups.setdefault(path.parent, []).append(path)
    return [Document(str(folder), tuple(files)) for folder, files in groups.items()]
