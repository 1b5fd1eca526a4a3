"""Pure reading of the signatures: blocks (a civility or article heading, then the name in capitals) or, failing
any, signatories named in prose ("Madame Anne LEROY, Maire d’Argenval ; …")."""

from __future__ import annotations

import re
from collections.abc import Sequence

from server.extract.model import Passage, Signature
from server.extract.names import FAMILY, GIVEN, is_signature_heading, parse_person, split_civility
from server.extract.report import Note
from server.extract.segments import SIGNED_AT
from server.extract.structure import ends_sentence
from server.extract.text import Line, Vocabulary, join_lines, passage_of

SIGNING_NOTE = "signing place and date: the model has no property for them yet"
PROSE_SIGNATORY = re.compile(
    rf"(?P<civility>Monsieur|Madame|M\.|Mme)\s+(?P<name>{GIVEN}\s+{FAMILY})\s*,\s*(?P<post>[^;]+?)\s*(?=;|\.\s|\.?$)"
)


def read_signatures(lines: Sequence[Line], vocab: Vocabulary) -> tuple[list[Signature], list[Note]]:
    """Signature blocks (a civility heading, then the name) or, failing any, signatories named in prose."""
    signatures, notes = _blocks(lines, vocab)
    if not signatures:
        return _prose(lines)
    return signatures, notes


def _blocks(lines: Sequence[Line], vocab: Vocabulary) -> tuple[list[Signature], list[Note]]:
    """Signature blocks: a civility (or article) heading, maybe over several lines, then the name."""
    signatures: list[Signature] = []
    notes: list[Note] = []
    heading: list[Line] = []
    for line in lines:
        person = parse_person(line.text)
        if person and heading:
            label = join_lines((h.text for h in heading), vocab)
            civility, post = split_civility(label)
            signatures.append(
                Signature(
                    label, civility, post, person.name, person.given, person.family,
                    Passage(heading[0].number, line.number), passage_of(heading), Passage(line.number, line.number),
                )
            )  # fmt: skip
            heading = []
        elif is_signature_heading(line.text) and not person:
            if heading:
                notes.append(Note(passage_of(heading), "signature heading without a name", heading[0].text))
            heading = [line]
        elif heading and not ends_sentence(line.text):
            heading.append(line)
        elif SIGNED_AT.match(line.text):
            notes.append(Note(Passage(line.number, line.number), SIGNING_NOTE, line.text))
        else:
            notes.append(Note(Passage(line.number, line.number), "not part of a signature", line.text))
    if heading:
        notes.append(Note(passage_of(heading), "signature heading without a name", heading[0].text))
    return signatures, notes


def _prose(lines: Sequence[Line]) -> tuple[list[Signature], list[Note]]:
    """ "Madame Anne LEROY, Maire d’Argenval ; Monsieur …": civility, name, comma, post, per signatory."""
    text, starts = "", []
    for line in lines:
        starts.append(len(text) + (1 if text else 0))
        text = f"{text} {line.text}" if text else line.text
    signatures: list[Signature] = []
    for match in PROSE_SIGNATORY.finditer(text):
        person = parse_person(match.group("name"))
        if person is None:
            continue
        first = _line_at(lines, starts, match.start())
        last = _line_at(lines, starts, match.end() - 1)
        name_line = _line_at(lines, starts, match.start("name"))
        civility, _ = split_civility(match.group("civility") + " ")
        signatures.append(
            Signature(
                match.group(0).strip(), civility, match.group("post").strip(), person.name, person.given,
                person.family, Passage(first, last), Passage(first, last), Passage(name_line, name_line),
            )
        )  # fmt: skip
    notes = [Note(passage_of([x]), SIGNING_NOTE, x.text) for x in lines if SIGNED_AT.match(x.text)]
    if not signatures:
        notes.append(Note(passage_of(lines), "no signatory found", lines[0].text))
    return signatures, notes


def _line_at(lines: Sequence[Line], starts: Sequence[int], offset: int) -> int:
    """The number of the line holding character `offset` of the lines joined by spaces."""
    index = max(i for i, start in enumerate(starts) if start <= offset)
    return lines[index].number
