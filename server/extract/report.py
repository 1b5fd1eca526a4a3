"""What the extractor could not place, with line numbers, as a plain report for people."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from server.extract.model import Passage

PREVIEW = 70  # characters of a line shown in the report


@dataclass(frozen=True)
class Note:
    """A line range the extractor skipped or could not complete, and why."""

    passage: Passage
    reason: str
    text: str = ""

    def format(self) -> str:
        """One line: where, why, and the start of the text."""
        where = (
            f"line {self.passage.first}"
            if self.passage.first == self.passage.last
            else f"lines {self.passage.first}-{self.passage.last}"
        )
        preview = self.text if len(self.text) <= PREVIEW else self.text[: PREVIEW - 1] + "…"
        return f"{where}: {self.reason}" + (f": {preview!r}" if preview else "")


@dataclass
class Report:
    """The notes of one extraction, in line order when printed."""

    notes: list[Note] = field(default_factory=list)
    furniture: list[int] = field(default_factory=list)  # line numbers removed as page furniture
    footnotes: list[int] = field(default_factory=list)  # line numbers of footnote bodies, left out

    def add(self, passage: Passage, reason: str, text: str = "") -> None:
        """Record a note."""
        self.notes.append(Note(passage, reason, text))

    def extend(self, notes: Iterable[Note]) -> None:
        """Record several notes."""
        self.notes.extend(notes)

    def format(self) -> str:
        """The notes sorted by line, then a summary line."""
        lines = [note.format() for note in sorted(self.notes, key=lambda n: (n.passage.first, n.reason))]
        if self.furniture:
            lines.append(f"removed as page furniture: {_ranges(self.furniture)}")
        if self.footnotes:
            lines.append(f"left out as footnotes: {_ranges(self.footnotes)}")
        lines.append(f"{len(self.notes)} note(s) to review")
        return "\n".join(lines)


def _ranges(numbers: Iterable[int]) -> str:
    """1,2,3,7 → "1-3, 7"."""
    spans: list[list[int]] = []
    for n in sorted(numbers):
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)
