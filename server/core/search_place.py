"""Pure: where a search hit sits in its document, in words (the axis, the thematic, the partner…).

A result's label and snippet say what matched; its place says where: the chain of its ancestors along
`cdv:parent`, each named as the document prints it (an axis by its number and title, a partner's contribution
by the partner, a section by its number). The index computes it once per resource at build time, so showing
it costs no query.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

SEPARATOR = " \u203a "  # a single right-pointing angle quotation mark, as in a breadcrumb
SHORT_CHARS = 60  # an objective or a section title is a sentence: its start is enough to say where


@dataclass(frozen=True)
class Part:
    """What the place of a descendant says of one ancestor: its name, number, types and partner."""

    label: str
    notation: str | None = None
    types: frozenset[str] = frozenset()
    partner: str | None = None  # the label of the organisation a contribution is attributed to


def short(text: str, limit: int = SHORT_CHARS) -> str:
    """`text` cut at a word boundary before `limit` characters, with "…" when cut."""
    text = " ".join(text.split()).rstrip(" .:;")
    if len(text) <= limit:
        return text
    cut = text[: limit + 1].rsplit(" ", 1)[0].rstrip(" ,;:")
    return cut + "…"


def part_name(part: Part, cdv: str) -> str:
    """How a place names one ancestor ("" to leave it out)."""
    if cdv + "Liste" in part.types:
        return ""  # a list's label is its lead-in sentence; the section or contribution above says where
    if cdv + "Axe" in part.types:
        return f"Axe {part.notation} · {part.label}" if part.notation else part.label
    if cdv + "Contribution" in part.types:
        return f"Contribution : {part.partner}" if part.partner else short(part.label)
    if cdv + "Objectif" in part.types:
        return "Objectif : " + short(part.label)
    if cdv + "Section" in part.types and part.notation:
        return f"{part.notation}. {short(part.label)}"
    return short(part.label)


def ancestors(iri: str, parents: Mapping[str, str]) -> list[str]:
    """The ancestors of `iri` along its parents, top first (a cycle in bad data stops the walk)."""
    chain: list[str] = []
    current = parents.get(iri)
    while current is not None and current not in chain and current != iri:
        chain.append(current)
        current = parents.get(current)
    return chain[::-1]


def place(
    iri: str, parents: Mapping[str, str], parts: Mapping[str, Part], cdv: str, skip: Collection[str] = ()
) -> str:
    """The place of `iri` in its document: its ancestors' names, top first, but those in `skip` (the
    document itself when the index holds only one)."""
    names = (part_name(parts[a], cdv) for a in ancestors(iri, parents) if a in parts and a not in skip)
    return SEPARATOR.join(name for name in names if name)
