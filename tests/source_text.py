"""Read the protocol's source text the way a careful reader does: lines, passages and their printed structure.

Tests compare the graph with what the text states, so this module knows nothing of the data: it reads
data/sources/ only. Rules for turning printed lines into text:
- page furniture (running header, "Page n sur m"), footnote bodies and bare URL lines are not text;
- a line ending with "-" continues the word on the next line (the hyphen belongs to the word: "tout-petits");
- footnote calls glued to a word ("soins1") are removed;
- whitespace runs become one space.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SOURCES = Path(__file__).resolve().parent.parent / "data" / "sources"
PROTOCOL = SOURCES / "protocole-le-quesnoy-2020-2022.txt"

MONTHS = (  # French month names, in order: dates in the text are written "16 juillet 2018"
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
RUNNING_HEADER = re.compile(r"^MESURES RÉCIPROQUES \u2013 Avenant au contrat de ville")  # en dash
PAGE_NUMBER = re.compile(r"^Page \d+ sur \d+$")
FOOTNOTE = re.compile(r"^(\d+) (?:Page \d+, )?(https?://\S+)$")
BARE_URL = re.compile(r"^https?://\S+$")
AXIS = re.compile(r"^Axe (\d+) : (.+)$")
MEASURE = re.compile(r"^(\d+)\. (.+)$")


@cache
def source_lines(path: Path = PROTOCOL) -> tuple[str, ...]:
    """The lines of a source file, without line ends; index 0 is line 1."""
    text = path.read_text("utf-8")
    return tuple(text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"))


def line(number: int, path: Path = PROTOCOL) -> str:
    """Line `number` (1-based) of the source, stripped."""
    return source_lines(path)[number - 1].strip()


def is_furniture(text: str) -> bool:
    """True for lines that carry no text of the document: blank, page furniture, footnotes."""
    text = text.strip()
    return (
        not text
        or bool(RUNNING_HEADER.match(text))
        or bool(PAGE_NUMBER.match(text))
        or bool(FOOTNOTE.match(text))
        or bool(BARE_URL.match(text))
    )


@cache
def footnotes(path: Path = PROTOCOL) -> dict[int, tuple[int, str]]:
    """Footnote number → (line, URL) for every footnote body in the source."""
    found: dict[int, tuple[int, str]] = {}
    for number, text in enumerate(source_lines(path), start=1):
        match = FOOTNOTE.match(text.strip())
        if match:
            found[int(match.group(1))] = (number, match.group(2))
    return found


def normalise(text: str) -> str:
    """Collapse whitespace runs into one space and strip."""
    return re.sub(r"\s+", " ", text).strip()


def join(lines: list[str]) -> str:
    """Join printed lines into one text: a line ending in '-' runs on into the next without a space."""
    text = ""
    for part in (normalise(p) for p in lines):
        if not part:
            continue
        if not text:
            text = part
        elif text.endswith("-"):
            text += part
        else:
            text += " " + part
    return text


def remove_footnote_calls(text: str, path: Path = PROTOCOL) -> str:
    """Remove footnote calls glued to the end of a word ("aux soins1 afin" → "aux soins afin")."""
    for number in footnotes(path):
        text = re.sub(rf"(?<=[a-zà-öø-ÿœ]){number}(?=[\s,;:.)]|$)", "", text)
    return text


def passage_text(start: int, end: int, path: Path = PROTOCOL) -> str:
    """The text of lines start..end (1-based, inclusive), cleaned by the rules above."""
    if not 1 <= start <= end <= len(source_lines(path)):
        raise ValueError(f"no passage L{start}-L{end} in {path.name}")
    kept = [text for text in source_lines(path)[start - 1 : end] if not is_furniture(text)]
    return remove_footnote_calls(join(kept), path)


@dataclass(frozen=True)
class Printed:
    """One element of the printed structure: its kind, number, text and lines."""

    kind: str  # "axe", "thematique", "objectif", "mesure"
    number: int | None
    text: str
    start: int
    end: int


STRUCTURE = (58, 238)  # from "Axe 1" to the last measure, before the first contribution


@cache
def structure(path: Path = PROTOCOL) -> tuple[Printed, ...]:
    """Axes, thematics, objectives and measures in reading order, parsed from the printed layout.

    A measure starts with "n. " and runs until a line that ends a sentence; an objective is a
    sentence printed alone; a thematic is a heading line without final period followed by a line
    that starts a new sentence (an objective).
    """
    rows = [
        (number, text.strip())
        for number, text in enumerate(source_lines(path), start=1)
        if STRUCTURE[0] <= number <= STRUCTURE[1] and not is_furniture(text)
    ]
    elements: list[Printed] = []
    index = 0
    while index < len(rows):
        number, text = rows[index]
        axis = AXIS.match(text)
        measure = MEASURE.match(text)
        if axis:
            elements.append(Printed("axe", int(axis.group(1)), axis.group(2), number, number))
            index += 1
            continue
        kind = "mesure" if measure else None
        first = index
        while not rows[index][1].endswith(".") and index + 1 < len(rows):
            following = rows[index + 1][1]
            if kind is None and (
                following[:1].isupper() or MEASURE.match(following) or AXIS.match(following)
            ):
                kind = "thematique"
                break
            index += 1
        parts = [t for _, t in rows[first : index + 1]]
        if measure:
            parts[0] = measure.group(2)
        elements.append(
            Printed(
                kind or "objectif",
                int(measure.group(1)) if measure else None,
                join(parts),
                rows[first][0],
                rows[index][0],
            )
        )
        index += 1
    return tuple(elements)


def elements(kind: str, path: Path = PROTOCOL) -> list[Printed]:
    """The printed elements of one kind, in reading order."""
    return [e for e in structure(path) if e.kind == kind]
