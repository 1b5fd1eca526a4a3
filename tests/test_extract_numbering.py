"""A measure's printed number kept as printed; its IRI and cdv:numero only where the numbers run across the
document, its rank (cdv:ordre) always."""

from __future__ import annotations

import pytest

from server.extract.graph import measure_key, numbered_across
from server.extract.model import Kind, Part, Passage


@pytest.mark.parametrize(
    ("notation", "key"),
    [("12", "12"), ("n°6", "6"), ("n° 12", "12"), ("3.1", "3.1"), ("A", None), (None, None)],
)
def test_measure_key(notation: str | None, key: str | None) -> None:
    assert measure_key(notation) == key


def _axes(*objectives: tuple[str, ...]) -> list[Part]:
    passage = Passage(1, 1)
    children = [
        Part(Kind.OBJECTIVE, None, "o", passage, [Part(Kind.MEASURE, n, "m", passage) for n in numbers])
        for numbers in objectives
    ]
    return [Part(Kind.AXIS, "1", "Cohésion sociale", passage, children)]


@pytest.mark.parametrize(
    ("objectives", "across"),
    [
        ((("1", "2"), ("3",)), True),
        ((("n°1", "n°2"), ("n°3",)), True),
        ((("1.1", "1.2"), ("2.1",)), True),
        ((("1", "2"), ("1", "2", "3")), False),  # restarts in each objective
        ((("1", "2"), ("2",)), False),
    ],
)
def test_numbered_across(objectives: tuple[tuple[str, ...], ...], across: bool) -> None:
    assert numbered_across(_axes(*objectives)) is across
