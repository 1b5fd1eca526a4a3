"""Pure recognition of a protocol's top-level sections: title page, textes de référence, préambule,
identification, objet, the measures (from the first axis), partner contributions and signatures."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from server.extract.columns import first_cell
from server.extract.names import is_signature_heading, parse_person
from server.extract.structure import AXIS, ends_sentence
from server.extract.text import Line


class SectionKind(StrEnum):
    """The top-level parts of a protocol."""

    TITLE = "title"
    REFERENCES = "references"
    PREAMBLE = "preamble"
    IDENTIFICATION = "identification"
    PURPOSE = "purpose"
    MEASURES = "measures"
    CONTRIBUTION = "contribution"
    SIGNATURES = "signatures"


_PREFIX = (
    r"^(?:(?:article|titre|partie|chapitre)\s+\w+\s*[.:\u2013\u2014-]?\s*|[IVX]+\s*[.):\u2013\u2014-]\s*)?"
)
_END = r"\s*[:.]?$"
SECTION_HEADINGS: tuple[tuple[SectionKind, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(_PREFIX + body + _END, re.IGNORECASE))
    for kind, body in (
        (SectionKind.REFERENCES, r"(?:les\s+)?(?:textes?\s+de\s+r[ée]f[ée]rences?|r[ée]f[ée]rences|visas)"),
        (SectionKind.PREAMBLE, r"pr[ée]ambule"),
        (SectionKind.IDENTIFICATION, r"identification(?:\s+du\s+contrat(?:\s+de\s+ville)?)?"),
        (
            SectionKind.PURPOSE,
            r"objet(?:\s+(?:de\s+l['’]avenant|du\s+(?:pr[ée]sent\s+)?(?:protocole|avenant)))?",
        ),
        (
            SectionKind.MEASURES,
            r"(?:les\s+)?(?:mesures|engagements)(?:\s+(?:r[ée]ciproques|renforc[ée]s(?:\s+et\s+r[ée]ciproques)?|des\s+partenaires))?",
        ),
        (SectionKind.SIGNATURES, r"(?:les\s+)?signat(?:aires|ures)"),
    )
)
CONTRIBUTION = re.compile(
    _PREFIX + r"contribution\s+(?:de\s+la|de\s+l['’]|du|des|de|d['’])\s*(?P<org>\S.*?)" + _END, re.IGNORECASE
)
# "Fait à Argenval, le 12 mars 2019" (or "…, en deux exemplaires, le …"): the signing place and date open
# the signatures.
SIGNED_AT = re.compile(r"^fait\s+[àa]\s+[A-ZÀ-ÖØ-Þ][^,]*(?:,[^,]*)?,?\s+le\s+\S", re.IGNORECASE)


@dataclass
class SectionText:
    """A top-level section: its kind, its heading line (if printed) and its body lines."""

    kind: SectionKind
    heading: Line | None
    body: list[Line] = field(default_factory=list)

    @property
    def lines(self) -> list[Line]:
        """The heading (if printed) and the body."""
        return ([self.heading] if self.heading else []) + self.body


def section_heading(text: str) -> SectionKind | None:
    """The kind of top-level section a line opens, if it is a section heading."""
    for kind, pattern in SECTION_HEADINGS:
        if pattern.match(text):
            return kind
    if CONTRIBUTION.match(text):
        return SectionKind.CONTRIBUTION
    return None


def segment(lines: Sequence[Line]) -> list[SectionText]:
    """Split the content lines into top-level sections, in reading order."""
    sections = [SectionText(SectionKind.TITLE, None)]
    for index, line in enumerate(lines):
        current = sections[-1].kind
        kind = section_heading(line.text)
        if current in _AFTER_AXES_START | _AFTER_MEASURES and kind not in _AFTER_MEASURES:
            kind = None  # once the measures begin, only contributions and signatures open sections
        if kind is None and SIGNED_AT.match(line.text) and current != SectionKind.SIGNATURES:
            sections.append(SectionText(SectionKind.SIGNATURES, None, [line]))
            continue
        if kind is not None and not (kind == SectionKind.MEASURES and current == SectionKind.MEASURES):
            sections.append(SectionText(kind, line))
            continue
        if AXIS.match(line.text) and current not in _AFTER_MEASURES | {SectionKind.MEASURES}:
            sections.append(SectionText(SectionKind.MEASURES, None, [line]))
            continue
        if current in _AFTER_AXES_START and starts_signature_block(lines, index):
            sections.append(SectionText(SectionKind.SIGNATURES, None, [line]))
            continue
        sections[-1].body.append(line)
    return [s for s in sections if s.lines]


_AFTER_MEASURES = {SectionKind.CONTRIBUTION, SectionKind.SIGNATURES}
_AFTER_AXES_START = {SectionKind.MEASURES, SectionKind.CONTRIBUTION}
SIGNATURE_LOOKAHEAD = 4  # content lines between a signatory's heading and name


def starts_signature_block(lines: Sequence[Line], index: int) -> bool:
    """Whether a signature block starts here: a civility heading, then a name within a few lines."""
    head = first_cell(lines[index])  # signatures printed side by side: the left column decides
    if not is_signature_heading(head) or parse_person(head):
        return False
    for line in lines[index + 1 : index + 1 + SIGNATURE_LOOKAHEAD]:
        cell = first_cell(line)
        if parse_person(cell):
            return True
        if is_signature_heading(cell) or ends_sentence(cell):
            return False
    return False
