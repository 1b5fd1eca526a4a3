"""SHACL validation with pyshacl over data files, and a readable report."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import rdflib
from pyshacl import validate as shacl_validate
from rdflib.namespace import RDF, SH
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.processor import SPARQLProcessor
from rdflib.plugins.sparql.sparql import Query

from server.core.rdfio import load_rdflib, rdf_files


@dataclass(frozen=True)
class Finding:
    """One SHACL result, ready to print."""

    severity: str  # Violation, Warning, Info
    focus: str
    path: str | None
    messages: dict[str, str]
    value: str | None
    shape: str | None
    source: str | None = None  # file:line where the focus node is described
    document: str | None = None  # the document (graph or folder) the finding is about, when there are several


@dataclass
class Report:
    """The outcome of a validation run."""

    findings: list[Finding] = field(default_factory=list)
    documents: int = 0  # documents validated one by one (0: one set of files)
    failed: list[str] = field(default_factory=list)  # the documents with violations

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Violation"]

    @property
    def conforms(self) -> bool:
        return not self.violations


def _short(term: rdflib.term.Node | None, graph: rdflib.Graph) -> str | None:
    if term is None:
        return None
    if isinstance(term, rdflib.URIRef):
        try:
            return graph.namespace_manager.normalizeUri(term)
        except ValueError:
            return f"<{term}>"
    return str(term)


def _subject_lines(files: Sequence[Path], data: rdflib.Graph) -> dict[str, str]:
    """Map each subject IRI to file:line of the first line that starts its description."""
    spellings: dict[str, str] = {}
    for subject in set(data.subjects()):
        if isinstance(subject, rdflib.URIRef):
            spellings[f"<{subject}>"] = str(subject)
            short = _short(subject, data)
            if short and not short.startswith("<"):
                spellings[short] = str(subject)
    found: dict[str, str] = {}
    token = re.compile(r"^(\S+)")
    for path in files:
        if path.suffix != ".ttl":
            continue
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            match = token.match(line)
            if match and match.group(1) in spellings:
                found.setdefault(spellings[match.group(1)], f"{path}:{number}")
    return found


def _findings(results: rdflib.Graph, data: rdflib.Graph, lines: dict[str, str]) -> list[Finding]:
    findings = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        focus = results.value(result, SH.focusNode)
        # pyshacl drops the language tags of SPARQL-based constraints' messages: keep every untagged one.
        messages: dict[str, str] = {}
        for number, message in enumerate(sorted(results.objects(result, SH.resultMessage))):
            messages[getattr(message, "language", None) or f"und-{number}"] = str(message)
        severity = results.value(result, SH.resultSeverity)
        findings.append(
            Finding(
                severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
                focus=_short(focus, data) or "?",
                path=_short(results.value(result, SH.resultPath), data),
                messages=messages,
                value=_short(results.value(result, SH.value), data),
                shape=_short(results.value(result, SH.sourceShape), results),
                source=lines.get(str(focus)),
            )
        )
    return sorted(findings, key=lambda f: (f.severity != "Violation", f.source or "", f.focus))


_PARSED: dict[tuple[str, str | None, tuple[tuple[str, str], ...]], Query] = {}
_UNCACHED_QUERY = SPARQLProcessor.query


def _query_parsed_once(self, strOrQuery, initBindings=None, initNs=None, base=None, DEBUG=False):
    """SPARQLProcessor.query that parses each query text once per process.

    pyshacl evaluates a SPARQL-based constraint once per focus node with the same text and new bindings, and
    rdflib parses the text every time (a third of a document's validation). A parsed query is rdflib's own
    reusable form (`prepareQuery`), so reusing it changes nothing else.
    """
    if isinstance(strOrQuery, str):
        key = (strOrQuery, base, tuple(sorted((k, str(v)) for k, v in (initNs or {}).items())))
        if key not in _PARSED:
            if len(_PARSED) > 1000:
                _PARSED.clear()
            _PARSED[key] = translateQuery(parseQuery(strOrQuery), base, initNs)
        strOrQuery = _PARSED[key]
    return _UNCACHED_QUERY(self, strOrQuery, initBindings, initNs, base, DEBUG)


def validate_graph(
    data: rdflib.Graph, shapes: rdflib.Graph, ontology: rdflib.Graph, files: Sequence[Path] = ()
) -> Report:
    """Run the shapes over `data`, with the ontology available for class checks."""
    SPARQLProcessor.query = _query_parsed_once  # type: ignore[method-assign]
    # The shapes give the same results without RDFS inference (tests/test_shapes.py runs both), at half the cost.
    _conforms, results, _text = shacl_validate(
        data,
        shacl_graph=shapes,
        ont_graph=ontology,
        inference="none",
        advanced=True,
        allow_warnings=True,
    )
    return Report(_findings(results, data, _subject_lines(files, data)))


def validate_files(data_paths: Iterable[Path], shapes_dir: Path, ontology_dir: Path) -> Report:
    """Validate Turtle files (ours or any territory's) against the project's shapes and ontology."""
    files = rdf_files(data_paths)
    data = load_rdflib(files)
    shapes = load_rdflib(rdf_files([shapes_dir]))
    ontology = load_rdflib(rdf_files([ontology_dir]))
    return validate_graph(data, shapes, ontology, files)


def format_report(report: Report) -> str:
    """Plain text for people: one block per finding, then a summary line."""
    blocks = []
    for f in report.findings:
        lines = [f"{f.severity}: {f.focus}" + (f"  ({f.source})" if f.source else "")]
        if f.document:
            lines.append(f"  document: {f.document}")
        if f.path:
            lines.append(f"  path:  {f.path}")
        if f.value:
            lines.append(f"  value: {f.value}")
        for lang in ("fr", "en"):
            if lang in f.messages:
                lines.append(f"  [{lang}] {f.messages[lang]}")
        for lang, text in f.messages.items():
            if lang not in ("fr", "en"):
                lines.append(f"  {text}")
        if f.shape:
            lines.append(f"  shape: {f.shape}")
        blocks.append("\n".join(lines))
    warnings = len(report.findings) - len(report.violations)
    summary = f"{len(report.violations)} violation(s), {warnings} warning(s)"
    verdict = "Conforms" if report.conforms else "Does not conform"
    if report.documents:
        conforming = report.documents - len(report.failed)
        summary += f"; {conforming} of {report.documents} document(s) conform"
    return "\n\n".join([*blocks, f"{verdict}: {summary}"])
