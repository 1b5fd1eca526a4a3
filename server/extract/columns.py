"""Pure reading of lines printed in columns side by side, as `pdftotext -layout` leaves signature tables:

    Le Préfet de la Vère-Haute                  Le Maire de Brémonval
    Pierre-Yves LANGLOIS                        Odile MARCHETTI

A cell is a run of words separated by at most two spaces; a wider gap separates two cells. Where at least
two lines hold two cells or more, each cell goes to the column whose left edge is nearest at or before it,
and every column is read top to bottom as lines of its own (with the line numbers of the page).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from server.extract.text import Line, normalise_space

CELL = re.compile(r"\S+(?: {1,2}\S+)*")
TOLERANCE = 2  # characters a cell may start left of its column's edge (text tools align loosely)
MIN_ROWS = 2  # lines with several cells before a layout counts as columns


@dataclass(frozen=True)
class Cell:
    """A run of text in a line: where it starts (in characters, tabs expanded) and what it says."""

    start: int
    text: str


def cells(line: Line) -> list[Cell]:
    """The cells of a line as printed (a line without its printed spacing is one cell)."""
    if not line.raw:
        return [Cell(0, line.text)]
    return [Cell(m.start(), m.group(0)) for m in CELL.finditer(line.raw)]


def first_cell(line: Line) -> str:
    """The text of the leftmost cell of a line."""
    found = cells(line)
    return found[0].text if found else line.text


def edges(rows: Sequence[Sequence[Cell]]) -> list[int]:
    """The left edge of each column: the leftmost start of the k-th cell among the lines with several."""
    wide = [row for row in rows if len(row) >= 2]
    if len(wide) < MIN_ROWS:
        return [0]
    width = max(len(row) for row in wide)
    found = [min(row[k].start for row in wide if len(row) > k) for k in range(width)]
    return sorted(set(found))


def column_of(cell: Cell, starts: Sequence[int]) -> int:
    """The index of the column a cell belongs to."""
    return max((i for i, edge in enumerate(starts) if edge <= cell.start + TOLERANCE), default=0)


def split_columns(lines: Sequence[Line]) -> list[list[Line]]:
    """The lines read column by column; one column (the lines themselves) when nothing is side by side."""
    rows = [cells(line) for line in lines]
    starts = edges(rows)
    if len(starts) < 2:
        return [list(lines)]
    columns: list[list[Line]] = [[] for _ in starts]
    for line, row in zip(lines, rows, strict=True):
        for cell in row:
            columns[column_of(cell, starts)].append(Line(line.number, normalise_space(cell.text), cell.text))
    return [column for column in columns if column]
