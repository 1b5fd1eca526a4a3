"""The rules no single document can check, run once over every document loaded in a pyoxigraph store.

(a) A resource described in several documents (a partner, a territory, a national text) has the same types
    and labels in each: documents re-describe shared resources identically.
(b) A resource of one document (its avenant, axes, measures, signatures, passages…) is described in that
    document only.
(c) No two documents name the same source text (`cdv:fichier`): each text is served at /sources/<file>, so
    a shared name would show one document's text as the other's.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pyoxigraph as ox
from tqdm import tqdm

from server.build.validate import Finding
from server.build.validate_pool import Document, show_progress

CDV = "https://w3id.org/cdv/ontology#"
DOCUMENT_CLASSES = [
    "Avenant",
    "ContratDeVille",
    "Axe",
    "Thematique",
    "Objectif",
    "Mesure",
    "Reference",
    "Contribution",
    "Section",
    "Liste",
    "ElementDeListe",
    "Signature",
    "DocumentSource",
    "Passage",
]

# One row per resource and document: its types and labels, as one string (sorted in Python: GROUP_CONCAT's
# order is not defined).
SIGNATURES = """
SELECT ?s ?g (GROUP_CONCAT(?v; separator="\\n") AS ?sig) WHERE {
  VALUES ?p { <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/2000/01/rdf-schema#label> }
  GRAPH ?g { ?s ?p ?o }
  FILTER (isIRI(?s) && ?g NOT IN (%s))
  BIND (CONCAT(STR(?p), " ", STR(?o), "@", IF(isLiteral(?o), LANG(?o), "")) AS ?v)
} GROUP BY ?s ?g
"""

DESCRIBED_ELSEWHERE = """
SELECT DISTINCT ?s ?g ?other WHERE {
  VALUES ?class { %s }
  GRAPH ?g { ?s a ?class }
  GRAPH ?other { ?s ?p ?o }
  FILTER (?other != ?g && ?g NOT IN (%s) && ?other NOT IN (%s))
}
"""

SOURCE_FILES = """
SELECT DISTINCT ?g ?source ?file WHERE {
  GRAPH ?g { ?source a <https://w3id.org/cdv/ontology#DocumentSource> ; <https://w3id.org/cdv/ontology#fichier> ?file }
  FILTER (?g NOT IN (%s))
}
"""


def _finding(
    rule: str,
    focus: str,
    document: str,
    other: str,
    fr: str,
    en: str,
    where: str | None,
    severity: str = "Violation",
) -> Finding:
    return Finding(
        severity=severity,
        focus=f"<{focus}>",
        path=None,
        messages={"fr": fr, "en": en},
        value=other,
        shape=rule,
        source=where,
        document=document,
    )


PREFIX_LINE = re.compile(r"^@prefix\s+([\w-]*):\s*<([^>]*)>")


def locate(subject: str, files: Sequence[Path]) -> str | None:
    """file:line of the first line that starts the subject's description (as <iri> or prefix:name), else of
    the first line that names it."""
    fallback = None
    for path in files:
        tokens = [f"<{subject}>"]
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            prefix = PREFIX_LINE.match(line)
            if prefix and subject.startswith(prefix.group(2)):
                tokens.append(f"{prefix.group(1)}:{subject.removeprefix(prefix.group(2))} ")
            if line.startswith(tuple(tokens)):
                return f"{path}:{number}"
            if fallback is None and tokens[0] in line:
                fallback = f"{path}:{number}"
    return fallback


def _different_descriptions(store: ox.Store, excluded: str) -> Iterator[tuple[str, str, str, str]]:
    """(resource, document, first document, severity) where the types or labels differ from the first
    document's: a Violation for other labels or types that contradict, a Warning where one document only
    states fewer types (a draft that calls the État an organisation, not yet a public one)."""
    first: dict[str, tuple[frozenset[str], str]] = {}
    for row in store.query(SIGNATURES % excluded):
        subject, graph = row["s"].value, row["g"].value
        signature = frozenset(row["sig"].value.split("\n"))
        seen, other = first.setdefault(subject, (signature, graph))
        if seen == signature or _document_specific(seen | signature):
            continue
        labels = {line for line in seen ^ signature if not line.startswith(RDF_TYPE)}
        yield (
            subject,
            graph,
            other,
            "Violation" if labels or not (seen <= signature or signature <= seen) else "Warning",
        )


RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type "
_DOCUMENT_TYPES = frozenset(f"{RDF_TYPE}{CDV}{c}@" for c in DOCUMENT_CLASSES)


def _document_specific(signature: frozenset[str]) -> bool:
    """Whether a resource's types make it a document's own: rule (b) reports it, not rule (a)."""
    return bool(signature & _DOCUMENT_TYPES)


def cross_document_findings(
    store: ox.Store, documents: Mapping[str, Document], excluded: Sequence[str] = ()
) -> list[Finding]:
    """Check rules (a) and (b) over the store's named graphs but `excluded` (each in `documents`)."""
    if len(documents) < 2:
        return []
    # Filtering on the few excluded graphs, not on a thousand documents' graphs, keeps the filter cheap.
    graphs = ", ".join(f"<{g}>" for g in excluded) or "<urn:x-cdv:none>"
    findings = []
    for subject, graph, other, severity in _different_descriptions(store, graphs):
        doc = documents[graph]
        findings.append(
            _finding(
                "MemeDescriptionPartagee",
                subject,
                doc.name,
                documents[other].name,
                f"Cette ressource a d’autres types ou libellés dans le document {documents[other].name}.",
                f"This resource has other types or labels in document {documents[other].name}.",
                locate(subject, doc.files),
                severity,
            )
        )
    classes = " ".join(f"<{CDV}{c}>" for c in DOCUMENT_CLASSES)
    typed_in: dict[str, set[str]] = {}
    described_in: dict[str, set[str]] = {}
    for row in store.query(DESCRIBED_ELSEWHERE % (classes, graphs, graphs)):
        typed_in.setdefault(row["s"].value, set()).add(row["g"].value)
        described_in.setdefault(row["s"].value, set()).add(row["other"].value)
    for subject in sorted(typed_in):
        owner = min(typed_in[subject])  # the document that types it; the others only borrow it
        for graph in sorted((typed_in[subject] | described_in[subject]) - {owner}):
            doc = documents[graph]
            findings.append(
                _finding(
                    "RessourceDUnSeulDocument",
                    subject,
                    doc.name,
                    documents[owner].name,
                    f"Cette ressource propre à un document est aussi décrite dans {documents[owner].name}.",
                    f"This document-specific resource is also described in {documents[owner].name}.",
                    locate(subject, doc.files),
                )
            )
    findings.extend(source_clashes(store, documents, graphs))
    return sorted(findings, key=lambda f: (f.document or "", f.source or "", f.focus))


def source_clashes(store: ox.Store, documents: Mapping[str, Document], excluded: str) -> list[Finding]:
    """Rule (c): every document but the first that names a source text another document names."""
    named: dict[str, list[tuple[str, str]]] = {}
    for row in store.query(SOURCE_FILES % excluded):
        named.setdefault(row["file"].value, []).append((row["g"].value, row["source"].value))
    findings = []
    for name, users in sorted(named.items()):
        first = documents[min(users)[0]].name
        for graph, source in sorted(users)[1:]:
            doc = documents[graph]
            findings.append(
                _finding(
                    "TexteSourcePropre",
                    source,
                    doc.name,
                    first,
                    f"Le texte source « {name} » est déjà celui du document {first} : nommez chaque texte "
                    "d’après son territoire et son document (<territoire>-<document>.txt).",
                    f"The source text {name!r} is already document {first}'s: name each text after its "
                    "territory and document (<territory>-<document>.txt).",
                    locate(source, doc.files),
                )
            )
    return findings


def graph_quads(sources: Sequence[tuple[str, Sequence[Path]]]) -> Iterator[ox.Quad]:
    """Every triple of each (graph IRI, files) source in that named graph; a progress bar over the graphs."""
    bar = tqdm(sources, desc="load", unit="graph", disable=not show_progress(), file=sys.stderr)
    for graph, files in bar:
        target = ox.NamedNode(graph)
        for path in files:
            for quad in ox.parse(path=str(path), format=ox.RdfFormat.from_extension(path.suffix.lstrip("."))):
                yield ox.Quad(quad.subject, quad.predicate, quad.object, target)


def load_documents(store: ox.Store, documents: Mapping[str, Document]) -> None:
    """Load each document's files into its named graph, in one bulk load (one per file costs 0.1 s each)."""
    store.bulk_extend(graph_quads([(graph, document.files) for graph, document in documents.items()]))


def check_files(documents: Sequence[Document]) -> list[Finding]:
    """Load the documents in a scratch on-disk store (memory stays flat) and check the rules across them."""
    if len(documents) < 2:
        return []
    graphs = {Path(d.name).resolve().as_uri(): d for d in documents}
    scratch = Path(tempfile.mkdtemp(prefix="cdv-cross-"))
    try:
        store = ox.Store(str(scratch))
        load_documents(store, graphs)
        findings = cross_document_findings(store, graphs)
        del store
    finally:
        _remove(scratch)
    return findings


def _remove(folder: Path) -> None:
    """Remove a store's folder: RocksDB's background threads may still be writing a file for a moment."""
    for _ in range(50):
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            return
        time.sleep(0.1)
