"""Pure: the content lines an extraction neither placed nor noted, each as a note saying what was expected.

The recognisers note what they read and cannot place; this is the net under them, so that every line of the
text is accounted for: in a passage of the draft, a section heading, page furniture, a footnote or a note.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from server.extract.model import Passage, Protocol
from server.extract.report import Note
from server.extract.segments import SectionKind, SectionText
from server.extract.structure import walk

EXPECTED = {
    SectionKind.TITLE: "the title, the avenant's name or a neighbourhood (QP code)",
    SectionKind.REFERENCES: "a reference text",
    SectionKind.PREAMBLE: "the preamble",
    SectionKind.IDENTIFICATION: "the contract's identification",
    SectionKind.PURPOSE: "the purpose of the avenant",
    SectionKind.MEASURES: "an axis, thematic, objective or measure",
    SectionKind.CONTRIBUTION: "a partner's contribution",
    SectionKind.SIGNATURES: "a signatory or 'Fait à <place>, le <date>'",
}


def passages(protocol: Protocol) -> list[Passage]:
    """Every passage a fact of the protocol was read from."""
    found = [
        protocol.title_passage,
        protocol.contract_passage,
        protocol.period_passage,
        protocol.preamble_passage,
        protocol.purpose_passage,
        protocol.signing.passage if protocol.signing else None,
    ]
    found += [p for qpv in protocol.qpvs for p in qpv.passages]
    found += [r.passage for r in protocol.references]
    found += [part.passage for part in walk(protocol.axes)]
    found += [c.passage for c in protocol.contributions]
    found += [p for s in protocol.signatures for p in (s.passage, s.post_passage, s.name_passage)]
    return [p for p in found if p is not None]


def lines_of(spans: Iterable[Passage]) -> set[int]:
    """The line numbers the passages span."""
    return {n for p in spans for n in range(p.first, p.last + 1)}


def unplaced(sections: Sequence[SectionText], protocol: Protocol, notes: Sequence[Note]) -> list[Note]:
    """A note for each content line in no passage, no note and no section heading: what was expected there."""
    covered = lines_of(passages(protocol)) | lines_of(n.passage for n in notes)
    covered |= {s.heading.number for s in sections if s.heading is not None}
    return [
        Note(Passage(line.number, line.number), f"not placed (expected {EXPECTED[section.kind]})", line.text)
        for section in sections
        for line in section.lines
        if line.number not in covered
    ]
