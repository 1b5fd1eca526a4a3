"""The protocol as the recognisers read it: plain dataclasses, no RDF, every part with its source lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


@dataclass(frozen=True)
class Passage:
    """Lines `first`..`last` (1-based, inclusive) of the source file."""

    first: int
    last: int


class Kind(StrEnum):
    """The levels of an avenant's structure."""

    AXIS = "axe"
    THEMATIC = "thematique"
    OBJECTIVE = "objectif"
    MEASURE = "mesure"


@dataclass
class Part:
    """An axis, thematic, objective or measure: printed number (if any), text as printed, lines, children."""

    kind: Kind
    notation: str | None
    text: str
    passage: Passage
    children: list[Part] = field(default_factory=list)


@dataclass(frozen=True)
class Qpv:
    """A priority neighbourhood named in the text: national code, printed name, the lines naming it."""

    code: str
    name: str | None
    passages: tuple[Passage, ...]


@dataclass(frozen=True)
class Reference:
    """An entry of the "textes de référence": the entry as printed and what it says of the text it cites."""

    entry: str
    passage: Passage
    title: str
    type_slug: str | None
    start: date | None
    end: date | None
    issuer: str | None
    local_issuer: bool


@dataclass(frozen=True)
class Section:
    """A numbered section of a partner contribution."""

    notation: str
    title: str
    passage: Passage


@dataclass(frozen=True)
class Contribution:
    """A partner contribution: its heading as printed, the partner's name, its lines and its sections."""

    heading: str
    organisation: str
    passage: Passage
    heading_passage: Passage
    sections: tuple[Section, ...] = ()


@dataclass(frozen=True)
class Signature:
    """One signatory: heading as printed, civility, post as printed, person's name as printed."""

    label: str
    civility: str | None
    post: str
    name: str
    given: str
    family: str
    passage: Passage
    post_passage: Passage
    name_passage: Passage
    organisation: str | None = None  # the organisation a sentence names ("Pour la Commune de X, son Maire")


@dataclass(frozen=True)
class Signing:
    """Where and when the protocol was signed ("Fait à Argenval, le 12 mars 2019"), as printed."""

    place: str
    day: date | None
    passage: Passage


@dataclass
class Protocol:
    """Everything the recognisers placed."""

    title: str | None = None
    subtitle: str | None = None
    label: str | None = None  # the avenant's name: the title line naming the contract
    label_line: str | None = None  # that title line in full, neighbourhoods included
    title_passage: Passage | None = None
    contract: str | None = None
    contract_passage: Passage | None = None
    period: tuple[int, int] | None = None
    period_passage: Passage | None = None
    qpvs: list[Qpv] = field(default_factory=list)
    preamble: str | None = None
    preamble_passage: Passage | None = None
    purpose: str | None = None
    purpose_passage: Passage | None = None
    references: list[Reference] = field(default_factory=list)
    axes: list[Part] = field(default_factory=list)
    contributions: list[Contribution] = field(default_factory=list)
    signatures: list[Signature] = field(default_factory=list)
    signing: Signing | None = None
