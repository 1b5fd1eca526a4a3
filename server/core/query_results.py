"""Pure: the answer of a named query as plain values: JSON records, an aligned text table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from server.core import rdf as ox
from server.core.backend import Term

XSD = "http://www.w3.org/2001/XMLSchema#"
JsonValue = str | int | float | bool | None
_NUMERIC = {XSD + "integer": int, XSD + "decimal": float, XSD + "double": float}


def json_value(term: Term | None) -> JsonValue:
    """A term as a plain JSON value: numbers for numeric literals, booleans, else the lexical form or IRI."""
    if term is None:
        return None
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        if datatype in _NUMERIC:
            try:
                return _NUMERIC[datatype](term.value)
            except ValueError:
                return term.value
        if datatype.endswith("#boolean"):
            return term.value in {"true", "1"}
        return term.value
    return str(term) if isinstance(term, ox.Triple) else term.value


def records(solutions: ox.QuerySolutions) -> list[dict[str, JsonValue]]:
    """The solutions as a list of plain records, one key per column (null when unbound)."""
    columns = [v.value for v in solutions.variables]
    return [{c: json_value(row[c]) for c in columns} for row in solutions]


def text_table(columns: Sequence[str], rows: Iterable[Mapping[str, JsonValue]], width: int = 70) -> str:
    """Rows as an aligned plain-text table for a terminal; cells longer than `width` are cut with "…"."""

    def show(value: JsonValue) -> str:
        text = "" if value is None else str(value)
        return text if len(text) <= width else text[: width - 1] + "…"

    cells = [[show(row.get(c)) for c in columns] for row in rows]
    sizes = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(s) for c, s in zip(columns, sizes, strict=True))]
    lines.append("  ".join("-" * s for s in sizes))
    lines.extend("  ".join(v.ljust(s) for v, s in zip(r, sizes, strict=True)).rstrip() for r in cells)
    return "\n".join(lines)
