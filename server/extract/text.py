"""Pure cleaning of a protocol's plain text: page furniture, line-end hyphenation, whitespace.

Every kept line carries its number in the original file (1-based, counting "\\n" only, as `cat -n` and
the provenance passages do), so whatever the recognisers find maps back to the lines it came from.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from server.extract.model import Passage

# Page numbers as PDF-to-text tools leave them: "Page 3 sur 17", "p. 3", "3/17", "- 3 -", a bare "3".
PAGE_NUMBER = re.compile(
    r"^(?:(?:page|p\.)\s*\d{1,4}(?:\s*(?:sur|/|de)\s*\d{1,4})?|\d{1,4}\s*/\s*\d{1,4}|[-\u2013\u2014]\s*\d{1,4}\s*[-\u2013\u2014]|\d{1,3})$",
    re.IGNORECASE,
)
# Footnote bodies: "1 Page 7, http://…", "2 http://…", and the bare addresses PDF tools repeat under them.
FOOTNOTE = re.compile(r"^(?:\d{1,2}\s+\S.*https?://\S+|\d{1,2}\s+https?://\S+|(?:https?://|www\.)\S+)$")
# Words after which a line-end hyphen is part of a compound ("tout-petits", "demi-journée"), never a break:
# none of them is a syllable French hyphenation would cut a longer word after.
COMPOUND_FIRST_WORDS = frozenset(
    {"tout", "toute", "tous", "demi", "mi", "semi", "ex", "vice", "non", "quasi", "grand", "grande"}
    | {"petit", "petite", "arrière", "après", "avant", "belle", "beau", "bien", "mal", "sans", "porte"}
)
LETTERS = r"[^\W\d_]+"
WORD = re.compile(LETTERS)
COMPOUND = re.compile(rf"{LETTERS}(?:-{LETTERS})+")
LINE_END_HYPHEN = re.compile(rf"({LETTERS})-$")
RUNNING_TITLE_WINDOW = 2  # content lines either side of a page break where running titles sit
TITLE_LINES = 3  # the first lines of a document, whose wording running headers repeat
MIN_TITLE_OVERLAP = 20  # characters a running title shares with the document title


@dataclass(frozen=True)
class Line:
    """A non-blank line of the source: its number in the original file and its whitespace-normalised text
    (`raw` keeps the spacing as printed, tabs expanded: columns side by side are told apart by it)."""

    number: int
    text: str
    raw: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class Vocabulary:
    """The words and hyphenated compounds a document prints within a line: evidence for hyphenation."""

    words: frozenset[str] = frozenset()
    compounds: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CleanText:
    """The content lines of a document in reading order, the furniture taken out, and its vocabulary."""

    lines: tuple[Line, ...]
    furniture: tuple[Line, ...] = ()
    footnotes: tuple[Line, ...] = ()
    line_count: int = 0
    vocabulary: Vocabulary = field(default_factory=Vocabulary)


def normalise_space(text: str) -> str:
    """Collapse every run of whitespace (no-break spaces included) into one space; strip the ends."""
    return " ".join(text.split())


def split_lines(raw: str) -> list[str]:
    """Split on "\\n" only (form feeds and other separators stay inside their line, as in `cat -n`)."""
    return [line.removesuffix("\r") for line in raw.split("\n")]


def is_page_number(text: str) -> bool:
    """Whether a normalised line is a page number ("Page 3 sur 17", "3/17", "- 3 -", "3")."""
    return bool(PAGE_NUMBER.match(text))


def clean(raw: str) -> CleanText:
    """The content lines of `raw`, without page numbers and running headers or footers."""
    raw_lines = split_lines(raw)
    lines = [
        Line(n, normalise_space(t), t.replace("\f", " ").expandtabs(8).rstrip())
        for n, t in enumerate(raw_lines, start=1)
        if normalise_space(t)
    ]
    breaks = {i for i, line in enumerate(lines) if is_page_number(line.text)}
    breaks |= {i for i, line in enumerate(lines) if "\f" in raw_lines[line.number - 1] and i not in breaks}
    furniture = {i for i in breaks if is_page_number(lines[i].text)} | _running_titles(lines, breaks)
    footnotes = {i for i, line in enumerate(lines) if FOOTNOTE.match(line.text)} - furniture
    kept = tuple(line for i, line in enumerate(lines) if i not in furniture | footnotes)
    return CleanText(
        kept,
        tuple(lines[i] for i in sorted(furniture)),
        tuple(lines[i] for i in sorted(footnotes)),
        len(raw_lines),
        vocabulary(line.text for line in kept),
    )


def _near_breaks(lines: Sequence[Line], breaks: set[int]) -> set[int]:
    """Indexes of the lines within RUNNING_TITLE_WINDOW content lines of a page break."""
    near: set[int] = set()
    for index in breaks:
        for step in (-1, 1):
            found, cursor = 0, index + step
            while 0 <= cursor < len(lines) and found < RUNNING_TITLE_WINDOW:
                if cursor not in breaks or not is_page_number(lines[cursor].text):
                    near.add(cursor)
                    found += 1
                cursor += step
        if not is_page_number(lines[index].text):
            near.add(index)  # a form-feed line is itself the first line of the new page
    return near


def _running_titles(lines: Sequence[Line], breaks: set[int]) -> set[int]:
    """Lines beside page breaks that repeat near other breaks, or repeat the document's title."""
    near = _near_breaks(lines, breaks) - set(range(TITLE_LINES))
    counts = Counter(lines[i].text.casefold() for i in near)
    title = [line.text.casefold() for line in lines[:TITLE_LINES]]
    return {i for i in near if counts[lines[i].text.casefold()] >= 2 or _repeats_title(lines[i].text, title)}


def _repeats_title(text: str, title: Sequence[str]) -> bool:
    """Whether `text` shares a long run of characters (most of itself) with one of the title lines."""
    folded = text.casefold()
    for line in title:
        match = SequenceMatcher(None, folded, line, autojunk=False).find_longest_match()
        if match.size >= MIN_TITLE_OVERLAP and match.size * 2 >= len(folded):
            return True
    return False


def vocabulary(texts: Iterable[str]) -> Vocabulary:
    """Words and hyphenated compounds printed inside lines (a line-end hyphen is not evidence)."""
    words: set[str] = set()
    compounds: set[str] = set()
    for text in texts:
        body = text[:-1] if text.endswith("-") else text
        words.update(w.casefold() for w in WORD.findall(body))
        compounds.update(c.casefold() for c in COMPOUND.findall(body))
    return Vocabulary(frozenset(words), frozenset(compounds))


def keeps_hyphen(left: str, right: str, vocab: Vocabulary = Vocabulary()) -> bool:
    """Whether "left-" at a line end and "right" on the next line form a hyphenated compound.

    The rule, in order: a capital or digit after the hyphen is a compound ("crèche-PMI"); then the
    document's own spelling elsewhere decides ("parents-enfants" vs "accompagnement"); then a first word
    that only ever starts compounds ("tout-petits"); otherwise it is a line-break hyphenation.
    """
    if not right or right[0].isupper() or right[0].isdigit():
        return True
    head = WORD.match(right)
    first = head.group(0) if head else right
    if f"{left}-{first}".casefold() in vocab.compounds:
        return True
    if f"{left}{first}".casefold() in vocab.words:
        return False
    return left.casefold() in COMPOUND_FIRST_WORDS


def join_lines(parts: Iterable[str], vocab: Vocabulary = Vocabulary()) -> str:
    """Join printed lines into one text: line-end hyphenation undone, compounds kept, spaces normalised."""
    text = ""
    for raw in parts:
        part = normalise_space(raw)
        if not part:
            continue
        if not text:
            text = part
        elif text.endswith("\u00ad"):  # a soft hyphen is always a break
            text = text[:-1] + part
        elif (match := LINE_END_HYPHEN.search(text)) and part[0].isalnum():
            text = text + part if keeps_hyphen(match.group(1), part, vocab) else text[:-1] + part
        else:
            text = f"{text} {part}"
    return text.replace("\u00ad", "")


def passage_of(lines: Sequence[Line]) -> Passage:
    """The passage from the first to the last of `lines`."""
    return Passage(lines[0].number, lines[-1].number)
