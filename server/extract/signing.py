"""Pure reading of the signing place and date: "Fait à Argenval, le 12 mars 2019", as printed."""

from __future__ import annotations

import re
from collections.abc import Sequence

from server.extract.dates import parse_date
from server.extract.model import Passage, Signing
from server.extract.report import Note
from server.extract.segments import SIGNED_AT
from server.extract.text import Line

# The place runs to the comma (or to " le ") before the date: "Fait à Le Quesnoy, le 2 mai 2019".
SIGNED = re.compile(r"^[Ff]ait\s+[àaÀA]\s+(?P<place>[^,]+?)\s*(?:,\s*(?:[^,]*,\s*)?|\s+)le\s+(?P<when>.+)$")


def read_signing(lines: Sequence[Line]) -> tuple[Signing | None, list[Note]]:
    """The first "Fait à …, le …" line of the lines: place as printed, date if one can be read."""
    for line in lines:
        if not SIGNED_AT.match(line.text):
            continue
        passage = Passage(line.number, line.number)
        match = SIGNED.match(line.text)
        if match is None:
            return None, [
                Note(passage, "signing place not read (expected 'Fait à <place>, le <date>')", line.text)
            ]
        day = parse_date(match.group("when"))
        notes = []
        if day is None:
            notes.append(
                Note(passage, "signing date not read (expected a date such as '12 mars 2019')", line.text)
            )
        return Signing(match.group("place").strip(), day.start if day else None, passage), notes
    return None, []


def is_signing_line(line: Line) -> bool:
    """Whether a line gives the signing place and date."""
    return bool(SIGNED_AT.match(line.text))
