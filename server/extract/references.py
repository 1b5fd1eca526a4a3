"""Pure reading of the textes de référence: entries (bulleted, numbered or "Vu …" lines), the type of text,
its date or span of days, its issuing body, and its title as printed."""

from __future__ import annotations

import re
from collections.abc import Sequence

from server.extract.dates import find_dates
from server.extract.model import Reference
from server.extract.names import STATE_POST, canonical_organisation, is_local_body
from server.extract.report import Note
from server.extract.text import Line, Vocabulary, join_lines, passage_of

BULLET = re.compile(r"^(?:[-\u2013\u2014•▪●◦*\uf0a7\uf0b7\uf0d8]|o(?=\s))\s*")
NUMBERED_ITEM = re.compile(r"^\d{1,2}[.)]\s+")
TYPES: tuple[tuple[str, str], ...] = (
    ("appel à projets", "appel-a-projets"),
    ("feuille de route", "feuille-de-route"),
    ("délibération", "deliberation"),
    ("circulaire", "circulaire"),
    ("instruction", "instruction"),
    ("convention", "convention"),
    ("stratégie", "strategie"),
    ("programme", "programme"),
    ("avenant", "avenant"),
    ("contrat", "contrat"),
    ("schéma", "schema"),
    ("arrêté", "arrete"),
    ("projet", "projet"),
    ("pacte", "pacte"),
    ("plan", "plan"),
    ("loi", "loi"),
)
VU = re.compile(r"^vu\s+(?:la\s+|le\s+|les\s+|l['’]\s*)?", re.IGNORECASE)
ISSUER_LEAD = re.compile(r"^\s*(?:de\s+la|de\s+l['’]|du|des|de|d['’])\s*", re.IGNORECASE)
ISSUER_TAIL = re.compile(
    r"[\s,]*(?:(?:en\s+date\s+)?(?:du|des|le)|sign[ée]e?\s+le|adopt[ée]e?\s+le)?\s*$", re.I
)
SIGNED_CLAUSE = re.compile(
    r",\s*(?:sign[ée]e?s?|adopt[ée]e?s?|conclue?s?|approuv[ée]e?s?)\s+(?:le|en|par)\b.*$", re.I
)


def entries(lines: Sequence[Line]) -> list[list[Line]]:
    """Group list lines into entries: each bullet (or number) starts one; without bullets, each text type does."""
    bulleted = any(BULLET.match(line.text) or NUMBERED_ITEM.match(line.text) for line in lines)
    groups: list[list[Line]] = []
    for line in lines:
        starts = (
            bool(BULLET.match(line.text) or NUMBERED_ITEM.match(line.text))
            if bulleted
            else text_type(line.text)[0] is not None
        )
        if starts or not groups:
            groups.append([line])
        else:
            groups[-1].append(line)
    return groups


def strip_bullet(text: str) -> str:
    """An entry's text without its bullet or item number."""
    return NUMBERED_ITEM.sub("", BULLET.sub("", text, count=1), count=1)


def text_type(entry: str) -> tuple[str | None, int]:
    """The type-de-texte slug an entry starts with ("Délibération du …" → "deliberation") and its length."""
    lead = VU.match(entry)
    start = lead.end() if lead else 0
    lowered = entry[start:].casefold()
    for words, slug in TYPES:
        if lowered.startswith(words) and not lowered[len(words) : len(words) + 1].isalpha():
            return slug, start + len(words)
    return None, start


def read_reference(lines: Sequence[Line], vocab: Vocabulary) -> tuple[Reference, list[Note]]:
    """One entry of the textes de référence: type, date(s), issuer and title as the entry prints them."""
    entry = join_lines([strip_bullet(lines[0].text), *(line.text for line in lines[1:])], vocab)
    passage = passage_of(lines)
    type_slug, after_type = text_type(entry)
    dates = find_dates(entry)
    first = dates[0] if dates else None
    issuer = _issuer(entry[after_type : first.position]) if first and type_slug else None
    title = SIGNED_CLAUSE.sub("", VU.sub("", entry)).rstrip(" .;")
    notes = []
    if type_slug is None:
        notes.append(Note(passage, "reference text of unknown type (no eli:type_document)", entry))
    if first is None:
        notes.append(Note(passage, "reference text without a date", entry))
    reference = Reference(
        entry=entry,
        passage=passage,
        title=title,
        type_slug=type_slug,
        start=first.start if first else None,
        end=first.end if first else None,
        issuer=issuer,
        local_issuer=bool(issuer and is_local_body(issuer)),
    )
    return reference, notes


def _issuer(between: str) -> str | None:
    """The body between a text's type and its date ("du Conseil Régional des Hauts-de-France des")."""
    name = ISSUER_TAIL.sub("", ISSUER_LEAD.sub("", between, count=1)).strip(" ,")
    if not name or not name[0].isupper():
        return None
    return canonical_organisation(name) if is_local_body(name) or STATE_POST.match(name) else None


def read_references(lines: Sequence[Line], vocab: Vocabulary) -> tuple[list[Reference], list[Note]]:
    """Every entry of the textes de référence section."""
    references: list[Reference] = []
    notes: list[Note] = []
    for group in entries(lines):
        reference, found = read_reference(group, vocab)
        references.append(reference)
        notes.extend(found)
    return references, notes
