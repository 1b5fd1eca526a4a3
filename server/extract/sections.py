"""Pure readers of the title page and identification (title, contract, period, neighbourhoods) and of the
partner contributions with their numbered sections."""

from __future__ import annotations

import re
from collections.abc import Sequence

from server.extract.model import Contribution, Passage, Qpv, Section
from server.extract.text import Line, passage_of

PERIOD = re.compile(r"\b(20\d\d|19\d\d)\s*[-\u2013/]\s*(20\d\d)\b")
QPV_CODE = re.compile(r"\bQP\s?(\d{2}[\dAB]\d{3})\b")
QPV_SEPARATOR = r"\s[-\u2013\u2014]\s|[(),:;]|\s+et\s+"
QPV_NAME_AFTER = re.compile(
    r"\s*(?:[-\u2013\u2014:]\s*)?(?:[«\"(]\s*(?P<quoted>[^»\")]+?)\s*[»\")]"
    r"|[-\u2013\u2014:]\s*(?P<plain>[^,;()«»\"]+?)\s*(?:$|[,;]|\s[-\u2013\u2014]\s|\s+et\s+))"
)
QPV_PREFIX = re.compile(
    r"^(?:QPV?(?=\s)|quartiers?(?:\s+prioritaires?)?(?:\s+de\s+la\s+politique\s+de\s+la\s+ville)?)\s*[:«\"]?\s*",
    re.I,
)
SECTION = re.compile(r"^(?P<num>\d{1,2}(?:\.\d{1,2})*)\.?\s+(?P<title>[A-ZÀ-ÖØ-ÞŒ«\"].*)$")


# ---------------------------------------------------------------------------------------------------------
# Title and identification


def find_period(lines: Sequence[Line]) -> tuple[tuple[int, int], Passage] | None:
    """The first "2020-2022" of the lines, as years, with its line."""
    for line in lines:
        if (match := PERIOD.search(line.text)) and int(match.group(1)) < int(match.group(2)):
            return (int(match.group(1)), int(match.group(2))), Passage(line.number, line.number)
    return None


def find_qpvs(lines: Sequence[Line]) -> list[Qpv]:
    """Every QPV code in the lines, with the name printed beside it the first time one is, and its lines."""
    found: dict[str, tuple[str | None, list[Passage]]] = {}
    for line in lines:
        for match in QPV_CODE.finditer(line.text):
            code = "QP" + match.group(1)
            name, passages = found.get(code, (None, []))
            found[code] = (
                name or _qpv_name(line.text, match),
                [*passages, Passage(line.number, line.number)],
            )
    return [Qpv(code, name, tuple(passages)) for code, (name, passages) in found.items()]


def _qpv_name(text: str, match: re.Match[str]) -> str | None:
    """The name printed beside a code: "QP Cœur d’étoile - QP059043", "Les Hauts (QP061905)", "QP027911 « La Garenne »"."""
    head = text[: match.start()]
    segments = [s.strip() for s in re.split(QPV_SEPARATOR, head) if s.strip()]
    if segments:
        named = QPV_PREFIX.match(segments[-1])
        if (named and named.end() < len(segments[-1])) or head.rstrip().endswith("("):
            name = QPV_PREFIX.sub("", segments[-1]).strip(' "«»')
            if name and not QPV_CODE.search(name):
                return name
    tail = text[match.end() :]
    after = QPV_NAME_AFTER.match(tail)
    if after:
        name = (after.group("quoted") or after.group("plain") or "").strip()
        if name and not re.search(r"\d{6}", name) and not name.upper().startswith("QP"):
            return name
    return None


def avenant_label(title_lines: Sequence[Line]) -> tuple[str, str] | None:
    """The avenant's name and the line it is read from: a title line starting "Avenant" (without the
    neighbourhoods printed after it), else the first title line."""
    for line in title_lines:
        if re.match(r"^avenant\b", line.text, re.IGNORECASE):
            return _without_qpvs(line.text), line.text
    return (_without_qpvs(title_lines[0].text), title_lines[0].text) if title_lines else None


def _without_qpvs(text: str) -> str:
    """ "Avenant au contrat de ville du Quesnoy 2020-2022 - QP Cœur d’étoile - QP059043" → before " - QP"."""
    return re.split(r"\s[-\u2013\u2014]\s+(?:QPV?\b|quartier)|\s*\(QP", text, flags=re.IGNORECASE)[0].strip()


def contract_label(
    identification: Sequence[Line], title_lines: Sequence[Line], avenant: str | None
) -> str | None:
    """ "Contrat de ville du Quesnoy": under the identification, else on the title page, else from the avenant."""
    for line in [*identification, *title_lines]:
        if re.match(r"^contrat\s+de\s+ville\b", line.text, re.IGNORECASE):
            return _without_qpvs(PERIOD.sub("", line.text)).strip(" -\u2013\u2014")
    if avenant and (match := re.search(r"contrat\s+de\s+ville\b.*", avenant, re.IGNORECASE)):
        text = PERIOD.sub("", match.group(0)).strip(" -\u2013\u2014")
        return text[0].upper() + text[1:]
    return None


# ---------------------------------------------------------------------------------------------------------
# Partner contributions


def read_sections(lines: Sequence[Line]) -> list[Section]:
    """Numbered section headings, told apart from numbered lists by the sequence they continue.

    "1." after section 1 starts a list (its items go on 2, 3…); a number that continues the sections
    (the next sibling, or ".1" of the current one) and does not continue an open list is a section.
    """
    heads: list[tuple[int, str, str]] = []  # (index, notation, title)
    current: list[int] = []
    list_next: int | None = None
    for index, line in enumerate(lines):
        match = SECTION.match(line.text)
        if not match:
            continue
        number = [int(n) for n in match.group("num").split(".")]
        if list_next is not None and number == [list_next]:
            list_next += 1
        elif number in _next_sections(current):
            heads.append((index, match.group("num"), match.group("title").strip()))
            current, list_next = number, None
        elif number == [1]:
            list_next = 2
    sections = []
    for k, (index, notation, title) in enumerate(heads):
        end = len(lines) - 1
        for later_index, later_notation, _ in heads[k + 1 :]:
            if not later_notation.startswith(notation + "."):
                end = later_index - 1
                break
        sections.append(Section(notation, title, passage_of(lines[index : end + 1])))
    return sections


def _next_sections(current: list[int]) -> list[list[int]]:
    """The numbers that may follow section `current`: its first child, its next sibling, an ancestor's next."""
    if not current:
        return [[1]]
    options = [[*current, 1]]
    for depth in range(len(current), 0, -1):
        options.append([*current[: depth - 1], current[depth - 1] + 1])
    return options


def read_contribution(
    heading: Line, body: Sequence[Line], organisation: str, last_line: int | None = None
) -> Contribution:
    """A contribution: heading as printed, partner, lines (to `last_line`: its footnotes), numbered sections."""
    passage = passage_of([heading, *body])
    if last_line is not None and last_line > passage.last:
        passage = Passage(passage.first, last_line)
    heading_passage = Passage(heading.number, heading.number)
    return Contribution(heading.text, organisation, passage, heading_passage, tuple(read_sections(body)))
