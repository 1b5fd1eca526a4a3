"""Pure reading of the signatures: blocks (a civility or article heading, then the name in capitals), also
printed in columns side by side, or, failing any, signatories named in prose ("Madame Anne LEROY, Maire
d’Argenval ; …", "Pour la Commune de X, son Maire, Madame Anne LEROY."). The signing place and date
("Fait à …, le …") are read by signing.py."""

from __future__ import annotations

import re
from collections.abc import Sequence

from server.extract.columns import split_columns
from server.extract.model import Passage, Signature
from server.extract.names import FAMILY, GIVEN, Person, is_signature_heading, parse_person, split_civility
from server.extract.report import Note
from server.extract.signing import is_signing_line
from server.extract.structure import ends_sentence
from server.extract.text import Line, Vocabulary, join_lines, passage_of

_CIVILITY = r"(?P<civility>Monsieur|Madame|M\.|Mme)"
# "Signé par Madame Anne LEROY, Maire d’Argenval ; Monsieur …": civility, name, comma, post.
PROSE_SIGNATORY = re.compile(
    rf"{_CIVILITY}\s+(?P<name>{GIVEN}\s+{FAMILY})\s*,\s*(?P<post>[^;]+?)\s*(?=;|\.\s|\.?$)"
)
# "Pour la Communauté de communes du Pays d’Elvin, son Président, Monsieur Gérard PELLOUX.": the organisation,
# the post (after "son", "sa", "le", "la"), then civility and name.
FOR_SIGNATORY = re.compile(
    r"\b[Pp]our\s+(?P<organisation>[^,;]+?)\s*,\s*(?:(?:son|sa|leur|le|la)\s+|l['’]\s*)(?P<post>[^,;]+?)\s*,\s*"
    rf"{_CIVILITY}\s+(?P<name>{GIVEN}\s+{FAMILY})(?=\s*[.;]|\s*$)"
)
ARTICLE = re.compile(r"^(?:la|le|les)\s+|^l['’]\s*", re.IGNORECASE)


def read_signatures(lines: Sequence[Line], vocab: Vocabulary) -> tuple[list[Signature], list[Note]]:
    """Signature blocks (a civility heading, then the name), column by column where they are printed side
    by side, in reading order (row, then column); failing any, signatories named in prose."""
    rows: list[tuple[int, int, Signature]] = []
    notes: list[Note] = []
    for column, lines_of_column in enumerate(split_columns(lines)):
        found, column_notes = _blocks(lines_of_column, vocab)
        rows.extend((signature.passage.first, column, signature) for signature in found)
        notes.extend(column_notes)
    if not rows:
        return _prose(lines)
    return [signature for _, _, signature in sorted(rows, key=lambda row: row[:2])], notes


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
        elif is_signing_line(line):
            continue  # the signing place and date (signing.py)
        else:
            notes.append(Note(Passage(line.number, line.number), "not part of a signature", line.text))
    if heading:
        notes.append(Note(passage_of(heading), "signature heading without a name", heading[0].text))
    return signatures, notes


def _prose(lines: Sequence[Line]) -> tuple[list[Signature], list[Note]]:
    """Signatories named in sentences ("Pour X, son Maire, Madame …" or "Madame …, Maire de X ;"), in order;
    a note for each line no signatory or signing line covers."""
    text, starts = "", []
    for line in lines:
        starts.append(len(text) + (1 if text else 0))
        text = f"{text} {line.text}" if text else line.text
    matches = sorted(
        [*FOR_SIGNATORY.finditer(text), *PROSE_SIGNATORY.finditer(text)], key=lambda m: m.start()
    )
    signatures: list[Signature] = []
    taken = -1
    for match in matches:
        person = parse_person(match.group("name"))
        if person is None or match.start() < taken:
            continue
        taken = match.end()
        signatures.append(_prose_signature(match, person, lines, starts))
    covered = {n for s in signatures for n in range(s.passage.first, s.passage.last + 1)}
    notes = [
        Note(passage_of([line]), "not part of a signature (expected 'Pour <organisation>, son <poste>, Monsieur "
             "<Prénom NOM>' or a civility heading then the name)", line.text)
        for line in lines
        if line.number not in covered and not is_signing_line(line)
    ]  # fmt: skip
    if not signatures:
        notes = [Note(passage_of(lines), "no signatory found", lines[0].text)]
    return signatures, notes


def _prose_signature(
    match: re.Match[str], person: Person, lines: Sequence[Line], starts: Sequence[int]
) -> Signature:
    """One signatory read from a sentence, with the lines of the sentence, of its post and of the name."""
    groups = match.groupdict()
    first = _line_at(lines, starts, match.start())
    last = _line_at(lines, starts, match.end() - 1)
    name_line = _line_at(lines, starts, match.start("name"))
    post_last = _line_at(lines, starts, match.end("post") - 1)
    civility, _ = split_civility(match.group("civility") + " ")
    organisation = ARTICLE.sub("", groups["organisation"]).strip() if groups.get("organisation") else None
    post_passage = Passage(first, post_last) if organisation else Passage(first, last)
    return Signature(
        match.group(0).strip(), civility, match.group("post").strip(), person.name, person.given, person.family,
        Passage(first, last), post_passage, Passage(name_line, name_line), organisation,
    )  # fmt: skip


def _line_at(lines: Sequence[Line], starts: Sequence[int], offset: int) -> int:
    """The number of the line holding character `offset` of the lines joined by spaces."""
    index = max(i for i, start in enumerate(starts) if start <= offset)
    return lines[index].number
