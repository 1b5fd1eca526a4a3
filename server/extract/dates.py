"""Pure parsing of the dates French administrative texts print: "16 juillet 2018", "1er juillet 2019",
"16/07/2018", "13 et 14 décembre 2016" (adopted over two days), "du 3 au 5 mars 2019"."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

MONTHS = {
    "janvier": 1,
    "fevrier": 2,
    "mars": 3,
    "avril": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "aout": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "decembre": 12,
}
_MONTH = r"(janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre|d[ée]cembre)"
_DAY = r"(\d{1,2})(?:\s*(?:er|ER|°))?"
_YEAR = r"(\d{4})"
# Longest forms first, so "13 et 14 décembre 2016" is read as one span, not as "14 décembre 2016".
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "span-months",  # "30 novembre et 1er décembre 2016", "du 30 novembre au 2 décembre 2016"
        re.compile(
            rf"\b{_DAY}\s+{_MONTH}\s+(?:et|au|-|\u2013)\s+{_DAY}\s+{_MONTH}\s+{_YEAR}\b", re.IGNORECASE
        ),
    ),
    (
        "span-days",  # "13 et 14 décembre 2016", "du 3 au 5 mars 2019", "13-14 décembre 2016"
        re.compile(rf"\b{_DAY}\s*(?:et|au|-|\u2013)\s*{_DAY}\s+{_MONTH}\s+{_YEAR}\b", re.IGNORECASE),
    ),
    ("long", re.compile(rf"\b{_DAY}\s+{_MONTH}\s+{_YEAR}\b", re.IGNORECASE)),
    ("numeric", re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})\b")),
)


@dataclass(frozen=True)
class DateSpan:
    """A date as printed: its first day, its last day when it spans several, and where it was found."""

    start: date
    end: date | None = None
    text: str = ""
    position: int = 0


def _month(name: str) -> int:
    """The number of a French month name, accents and case ignored."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    return MONTHS["".join(c for c in folded if not unicodedata.combining(c))]


def _year(text: str) -> int:
    """A four-digit year as is; a two-digit one in the 2000s (protocols date from 2014 onwards)."""
    return int(text) if len(text) == 4 else 2000 + int(text)


def _build(kind: str, groups: tuple[str, ...]) -> tuple[date, date | None]:
    """The first and last day a match stands for; ValueError for an impossible date (31 février)."""
    if kind == "span-months":
        d1, m1, d2, m2, year = groups
        return date(int(year), _month(m1), int(d1)), date(int(year), _month(m2), int(d2))
    if kind == "span-days":
        d1, d2, month, year = groups
        return date(int(year), _month(month), int(d1)), date(int(year), _month(month), int(d2))
    if kind == "long":
        day, month, year = groups
        return date(int(year), _month(month), int(day)), None
    day, month, year = groups
    return date(_year(year), int(month), int(day)), None


def find_dates(text: str) -> list[DateSpan]:
    """Every valid date printed in `text`, in reading order; impossible dates are ignored."""
    found: list[DateSpan] = []
    taken: list[range] = []
    for kind, pattern in PATTERNS:
        for match in pattern.finditer(text):
            where = range(match.start(), match.end())
            if any(where.start < t.stop and t.start < where.stop for t in taken):
                continue
            taken.append(where)  # an impossible date is no date, and no shorter date hides inside it
            try:
                start, end = _build(kind, match.groups())
            except ValueError:
                continue
            if end is None or start < end:
                found.append(DateSpan(start, end, match.group(0), match.start()))
    return sorted(found, key=lambda d: d.position)


def parse_date(text: str) -> DateSpan | None:
    """The first date printed in `text`, or None."""
    dates = find_dates(text)
    return dates[0] if dates else None
