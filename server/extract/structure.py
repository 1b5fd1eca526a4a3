"""Pure recognition of the axes → thematics → objectives → measures tree of a protocol's measures part.

Two kinds of layout are read. Labelled ones say what each line is ("Axe 1 :", "Pilier 2 —", "ENJEU 3 :",
"Thématique :", "A. Santé", "Objectif 2 :", "Mesure 3 :", "Action n°3", "1.", "1)", "1.1"). Positional ones, like the
national template, print thematics and objectives as bare lines: there a bare paragraph followed by a measure
is an objective, and one followed by an objective is a thematic. A line continues the paragraph before it
when that paragraph has not ended (no final full stop, or it ends on a word like "de" or "la") or when the
line starts in lower case or with a dash — which is how wrapped lines and page breaks are crossed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from server.extract.model import Kind, Part, Passage
from server.extract.report import Note
from server.extract.text import Line, Vocabulary, join_lines

_SEP = r"\s*(?:[:.)\u2013\u2014-]\s*|\s+)"
_NUMBER = r"(?:n\s*[°o]\s*)?"
AXIS = re.compile(
    rf"^(?:axe|pilier|enjeu|orientation(?:\s+strat[ée]gique)?|volet)\s*{_NUMBER}(?P<num>\d+|[IVX]+){_SEP}(?P<label>\S.*)$",
    re.IGNORECASE,
)
THEMATIC = re.compile(
    rf"^(?:th[ée]matique|th[èe]me)\s*{_NUMBER}(?P<num>\d+(?:\.\d+)*)?\s*[:.)\u2013\u2014-]\s*(?P<label>.*)$",
    re.IGNORECASE,
)
OBJECTIVE = re.compile(
    r"^objectifs?(?:\s+(?:op[ée]rationnels?|strat[ée]giques?|g[ée]n[ée]ra(?:l|ux)))?\s*"
    rf"{_NUMBER}(?P<num>\d+(?:\.\d+)*)?\s*[:.)\u2013\u2014-]\s*(?P<label>.*)$",
    re.IGNORECASE,
)
# Thematics lettered "A.", "B)" or "C -": one capital (never I, V or X, which number axes) and a separator.
THEMATIC_LETTER = re.compile(
    r"^(?P<num>[A-HJ-UWYZ])\s*(?:[.)]\s*|\s+[\u2013\u2014-]\s+)(?P<label>[A-ZÀ-ÖØ-Þ].*)$"
)
# The measure's number is kept as printed, "n°6" included.
MEASURE_WORD = re.compile(
    r"^(?:mesure|action|engagement)\s*(?P<num>(?:n\s*[°o]\s*)?\d+(?:\.\d+)*)\s*(?:[:.)\u2013\u2014-]\s*|\s+|$)(?P<label>.*)$",
    re.IGNORECASE,
)
MEASURE_DOTTED = re.compile(r"^(?P<num>\d{1,2}(?:\.\d{1,2})+)\.?\s+(?P<label>\S.*)$")
MEASURE_SIMPLE = re.compile(r"^(?P<num>\d{1,3})\s*[.)]\s*(?P<label>\S.*)$")
ROMAN = {"i": 1, "v": 5, "x": 10}
# A line ending on one of these words has not ended, whatever case the next line starts with.
OPEN_ENDINGS = frozenset(
    [
        "de",
        "du",
        "des",
        "la",
        "le",
        "les",
        "l'",
        "d'",
        "et",
        "ou",
        "à",
        "au",
        "aux",
        "en",
        "avec",
        "pour",
        "par",
        "sur",
        "dans",
        "un",
        "une",
        "que",
        "qui",
        "entre",
        "vers",
    ]
)


@dataclass
class Block:
    """Consecutive lines read as one printed element; kind None until a bare paragraph is classified."""

    kind: Kind | None
    notation: str | None
    lines: list[Line]
    parts: list[str]
    labelled: bool = False

    @property
    def last(self) -> str:
        """The last printed part read so far."""
        return self.parts[-1] if self.parts else ""


def recognise(text: str) -> tuple[Kind, str | None, str] | None:
    """The kind, printed number and rest of a line that opens an axis, thematic, objective or measure."""
    for kind, pattern in (
        (Kind.AXIS, AXIS),
        (Kind.THEMATIC, THEMATIC),
        (Kind.THEMATIC, THEMATIC_LETTER),
        (Kind.OBJECTIVE, OBJECTIVE),
        (Kind.MEASURE, MEASURE_WORD),
        (Kind.MEASURE, MEASURE_DOTTED),
        (Kind.MEASURE, MEASURE_SIMPLE),
    ):
        if match := pattern.match(text):
            number = match.group("num")
            return kind, _arabic(number) if number else None, match.group("label").strip()
    return None


def _arabic(number: str) -> str:
    """Roman axis numbers as arabic ("II" → "2"); anything else as printed."""
    if not re.fullmatch(r"[ivx]+", number, re.IGNORECASE):
        return number
    values = [ROMAN[c] for c in number.lower()]
    total = sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))
    return str(total)


def ends_sentence(text: str) -> bool:
    """Whether printed text ends a sentence (full stop, question or exclamation mark, semicolon)."""
    return text.rstrip(" »”\"'’").endswith((".", "!", "?", "…", ";"))


def _open_ending(text: str) -> bool:
    """Whether a line stops mid-phrase: on a comma, a hyphen or a word like "de", "la", "et"."""
    stripped = text.rstrip()
    if stripped.endswith((",", "-", "\u2013", "(")):
        return True
    words = re.split(r"\s+", stripped.lower())
    return bool(words) and (words[-1] in OPEN_ENDINGS or words[-1].endswith(("'", "’")))


def _starts_lower(text: str) -> bool:
    """Whether a line goes on a phrase: a lower-case letter, a dash or a closing mark first."""
    return text[:1].islower() or text[:1] in "\u2013\u2014-(,;:»)"


def continues(block: Block, text: str) -> bool:
    """Whether a bare line continues `block` rather than starting a new paragraph."""
    if not block.last:
        return True  # "Mesure 3 :" with its text on the next line
    if _starts_lower(text) or _open_ending(block.last):
        return True
    if block.kind in (Kind.AXIS, Kind.THEMATIC):
        return False  # a heading wraps only onto a lower-case line
    return not ends_sentence(block.last) and block.kind is not None


def blocks_of(lines: Sequence[Line]) -> list[Block]:
    """Group the lines of the axes part into blocks: labelled starts and bare paragraphs."""
    blocks: list[Block] = []
    for line in lines:
        if found := recognise(line.text):
            kind, notation, rest = found
            blocks.append(Block(kind, notation, [line], [rest] if rest else [], labelled=True))
        elif blocks and continues(blocks[-1], line.text):
            blocks[-1].lines.append(line)
            blocks[-1].parts.append(line.text)
        else:
            blocks.append(Block(None, None, [line], [line.text]))
    return blocks


ENGLISH = {Kind.AXIS: "axis", Kind.THEMATIC: "thematic", Kind.OBJECTIVE: "objective", Kind.MEASURE: "measure"}
CONTINUATION = "continuation"
UNPLACED = "unplaced"


def classify(blocks: Sequence[Block]) -> list[Kind | str]:
    """The kind of every block; bare paragraphs by what follows them (read from the end backwards)."""
    labelled_objectives = any(b.kind == Kind.OBJECTIVE and b.labelled for b in blocks)
    kinds: list[Kind | str] = [b.kind if b.kind is not None else UNPLACED for b in blocks]
    if any(b.kind == Kind.MEASURE and "." in (b.notation or "") for b in blocks):
        # measures numbered "1.1", "1.2": the "1." before them numbers their objective
        labelled_objectives = True
        for i, block in enumerate(blocks):
            if block.kind == Kind.MEASURE and block.notation and block.notation.isdigit():
                kinds[i] = block.kind = Kind.OBJECTIVE
    for i in range(len(blocks) - 1, -1, -1):
        if blocks[i].kind is not None:
            continue
        after = kinds[i + 1] if i + 1 < len(blocks) else None
        before = kinds[i - 1] if i > 0 else None
        follows_element = before in (Kind.MEASURE, Kind.OBJECTIVE)
        if after == Kind.MEASURE:
            # where objectives are labelled, a bare line before a measure is more of the previous one
            kinds[i] = CONTINUATION if labelled_objectives and follows_element else Kind.OBJECTIVE
        elif after == Kind.OBJECTIVE:
            kinds[i] = Kind.THEMATIC
        elif labelled_objectives and follows_element:
            kinds[i] = CONTINUATION
    return kinds


def merge(blocks: Sequence[Block], kinds: Sequence[Kind | str]) -> list[tuple[Kind | str, Block]]:
    """Fold continuation blocks into the block before them."""
    merged: list[tuple[Kind | str, Block]] = []
    for kind, block in zip(kinds, blocks, strict=True):
        if kind == CONTINUATION and merged:
            previous = merged[-1][1]
            previous.lines.extend(block.lines)
            previous.parts.extend(block.parts)
        else:
            merged.append((kind, block))
    return merged


def build_tree(lines: Sequence[Line], vocab: Vocabulary) -> tuple[list[Part], list[Note]]:
    """The axes of the axes part with their thematics, objectives and measures; notes for what has no place."""
    blocks = blocks_of(lines)
    axes: list[Part] = []
    notes: list[Note] = []
    thematic: Part | None = None
    objective: Part | None = None
    for kind, block in merge(blocks, classify(blocks)):
        passage = Passage(block.lines[0].number, block.lines[-1].number)
        text = join_lines(block.parts, vocab)
        if kind == UNPLACED or not isinstance(kind, Kind):
            notes.append(Note(passage, "not an axis, thematic, objective or measure", text))
            continue
        part = Part(kind, block.notation, text, passage)
        if not text:
            notes.append(Note(passage, f"{ENGLISH[kind]} without text", block.lines[0].text))
        if kind == Kind.AXIS:
            axes.append(part)
            thematic = objective = None
        elif not axes:
            notes.append(Note(passage, f"{ENGLISH[kind]} before any axis", text))
        elif kind == Kind.THEMATIC:
            axes[-1].children.append(part)
            thematic, objective = part, None
        elif kind == Kind.OBJECTIVE:
            (thematic or axes[-1]).children.append(part)
            objective = part
        else:
            if objective is None:
                notes.append(Note(passage, "measure without an objective", text))
            (objective or thematic or axes[-1]).children.append(part)
    return axes, notes


def walk(parts: Sequence[Part]) -> list[Part]:
    """Every part in reading order (depth first)."""
    found: list[Part] = []
    for part in parts:
        found.append(part)
        found.extend(walk(part.children))
    return found
