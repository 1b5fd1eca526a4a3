"""The reuse kit's extractor: the plain text of a protocol → a draft graph in the project's ontology.

`extract(raw, territory)` runs the pure steps in order — clean the text (text.py), split it into top-level
sections (segments.py), read the axes tree (structure.py), the title page and contributions (sections.py),
the reference texts (references.py, dates.py), the signatures (signatures.py, columns.py, names.py) and the
signing place and date (signing.py), mint IRIs (mint.py, registry.py) and build the graph (graph.py) — and
returns the graph with a report of every line it could not place (report.py, coverage.py). Only a text that
is no protocol at all (empty, binary, no axis and no measure) is refused. files.py is the I/O edge the command line uses.

May use: core (vocabulary, RDF file reading). Never the web, the engine or a store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rdflib import Graph

from server.extract.coverage import unplaced
from server.extract.graph import build_graph
from server.extract.mint import Minter
from server.extract.model import Kind, Protocol
from server.extract.references import read_references
from server.extract.registry import Registry
from server.extract.report import Report
from server.extract.sections import avenant_label, contract_label, find_period, find_qpvs, read_contribution
from server.extract.segments import CONTRIBUTION, SectionKind, SectionText, segment
from server.extract.signatures import read_signatures
from server.extract.signing import read_signing
from server.extract.structure import build_tree, walk
from server.extract.text import CleanText, Vocabulary, clean, join_lines, passage_of

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DEFAULT_BASE = "https://w3id.org/cdv/"


class ExtractError(Exception):
    """The input cannot be read as a protocol: a plain message for people."""


@dataclass
class Extraction:
    """The draft graph, the protocol as read, and the report."""

    graph: Graph
    protocol: Protocol
    report: Report = field(default_factory=Report)
    document: str = "avenant"  # the document's slug (IRIs id/<territory>/<document>/…)


def decode(data: bytes) -> str:
    """The text of a file's bytes; ExtractError for an empty, binary or non-UTF-8 file."""
    if not data.strip():
        raise ExtractError("the file is empty")
    sample = data[:8192]
    controls = sum(1 for byte in sample if byte < 32 and byte not in b"\t\n\r\f")
    if b"\x00" in sample or controls > len(sample) // 20:
        raise ExtractError(
            "the file is binary, not text: extract its text first (e.g. pdftotext -layout file.pdf)"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ExtractError(
            f"the file is not UTF-8 text (byte {err.start}); convert it first, e.g. iconv -f cp1252 -t utf-8"
        ) from None


def read_protocol(cleaned: CleanText, report: Report) -> Protocol:
    """Every section of the cleaned text, read into a Protocol; notes go to the report."""
    protocol = Protocol()
    sections = segment(cleaned.lines)
    vocab = cleaned.vocabulary
    for index, section in enumerate(sections):
        limit = sections[index + 1].lines[0].number if index + 1 < len(sections) else cleaned.line_count + 1
        notes_within = [f.number for f in cleaned.footnotes if section.lines[-1].number < f.number < limit]
        _read_section(protocol, section, vocab, report, max(notes_within, default=None))
    protocol.qpvs = find_qpvs(cleaned.lines)
    title_lines = sections[0].lines if sections and sections[0].kind == SectionKind.TITLE else []
    if title_lines:
        found = find_period(title_lines)
        if found:
            protocol.period, protocol.period_passage = found
    identification = [line for s in sections if s.kind == SectionKind.IDENTIFICATION for line in s.body]
    protocol.contract = contract_label(identification, title_lines, protocol.label)
    if identification:
        protocol.contract_passage = passage_of(identification)
    if not protocol.signatures and cleaned.lines:
        last = cleaned.lines[-1]
        report.add(
            passage_of([last]),
            "no signatory found: the text may be truncated (expected signatures at the end of a protocol)",
            last.text,
        )
    report.extend(unplaced(sections, protocol, report.notes))
    return protocol


def _read_section(
    protocol: Protocol, section: SectionText, vocab: Vocabulary, report: Report, last_footnote: int | None
) -> None:
    """Read one top-level section into the protocol."""
    kind, body = section.kind, section.body
    if kind == SectionKind.TITLE:
        protocol.title = body[0].text if body else None
        protocol.subtitle = body[1].text if len(body) > 1 else None
        named = avenant_label(body[:3])
        if named:
            protocol.label, protocol.label_line = named
        protocol.title_passage = passage_of(body[:2]) if body else None
        for line in body[2:]:
            if not re.search(r"\bQP\s?\d", line.text):
                report.add(passage_of([line]), "not placed (title page)", line.text)
    elif kind == SectionKind.REFERENCES:
        protocol.references, notes = read_references(body, vocab)
        report.extend(notes)
    elif kind in (SectionKind.PREAMBLE, SectionKind.PURPOSE) and body:
        text = join_lines((line.text for line in body), vocab)
        if kind == SectionKind.PREAMBLE:
            protocol.preamble, protocol.preamble_passage = text, passage_of(section.lines)
        else:
            protocol.purpose, protocol.purpose_passage = text, passage_of(section.lines)
    elif kind == SectionKind.MEASURES:
        axes, notes = build_tree(body, vocab)
        protocol.axes.extend(axes)
        report.extend(notes)
    elif kind == SectionKind.CONTRIBUTION and section.heading is not None:
        match = CONTRIBUTION.match(section.heading.text)
        name = match.group("org") if match else section.heading.text
        protocol.contributions.append(read_contribution(section.heading, body, name, last_footnote))
    elif kind == SectionKind.SIGNATURES:
        signatures, notes = read_signatures(body, vocab)
        protocol.signatures.extend(signatures)
        report.extend(notes)
        signing, notes = read_signing(section.lines)
        protocol.signing = protocol.signing or signing
        report.extend(notes)


def check_protocol(protocol: Protocol) -> None:
    """ExtractError when the text is no protocol at all: no axis and no measure. Anything else is drafted."""
    measures = [p for p in walk(protocol.axes) if p.kind == Kind.MEASURE]
    if not protocol.axes and not measures:
        raise ExtractError(
            'this text does not look like a protocol: no axis ("Axe 1 : …", "Pilier 2 \u2014", "Enjeu 3 :") '
            "and no numbered measure was found"
        )


def extract(
    raw: str,
    territory: str,
    document: str | None = None,
    *,
    source_file: str = "protocole.txt",
    registry: Registry | None = None,
    base_iri: str = DEFAULT_BASE,
) -> Extraction:
    """Read the plain text of a protocol into a draft graph, with a note for every line it could not place;
    ExtractError only if it is no protocol at all (empty, or no axis and no measure)."""
    if not SLUG.match(territory):
        raise ExtractError(f"territory {territory!r} is not a slug (lower-case ASCII words joined by '-')")
    if document is not None and not SLUG.match(document):
        raise ExtractError(f"document {document!r} is not a slug (lower-case ASCII words joined by '-')")
    cleaned = clean(raw)
    if not cleaned.lines:
        raise ExtractError("the file is empty")
    report = Report(
        [], [line.number for line in cleaned.furniture], [line.number for line in cleaned.footnotes]
    )
    protocol = read_protocol(cleaned, report)
    check_protocol(protocol)
    slug = document or (
        f"avenant-{protocol.period[0]}-{protocol.period[1]}" if protocol.period else "avenant"
    )
    minter = Minter(base_iri, territory, slug, registry or Registry())
    graph, notes = build_graph(protocol, minter, source_file)
    report.extend(notes)
    return Extraction(graph, protocol, report, slug)
