"""Cleaning a protocol's text: page furniture, footnotes, line-end hyphenation, whitespace, line numbers."""

# ruff: noqa: RUF001 — the test data prints the en dashes protocols use

from __future__ import annotations

import pytest

from server.extract.text import Line, Vocabulary, clean, is_page_number, join_lines, keeps_hyphen, vocabulary


@pytest.mark.parametrize(
    ("text", "page"),
    [
        ("Page 3 sur 17", True),
        ("page 12 / 40", True),
        ("p. 4", True),
        ("3/17", True),
        ("- 3 -", True),
        ("— 12 —", True),
        ("7", True),
        ("Page 7, http://example.org", False),
        ("3. Organiser des actions", False),
        ("2 Les dispositifs de droit commun", False),
        ("2018-2023", False),
    ],
)
def test_page_numbers(text: str, page: bool) -> None:
    assert is_page_number(text) is page


RUNNING = "\n".join(
    [
        "Protocole d’engagements renforcés et réciproques",  # 1: title
        "Avenant au contrat de ville de Nulle-Part 2020-2022",  # 2
        "1. Une mesure qui continue sur la page",  # 3
        "MESURES RÉCIPROQUES – Avenant au contrat de ville de Nulle-Part 2020-2022",  # 4: repeats the title
        "",
        "Page 2 sur 3",  # 6
        "suivante.",  # 7
        "Fin de page",  # 8
        "Nulle-Part · Contrat de ville",  # 9: repeated beside every page break
        "Page 3 sur 3",  # 10
        "Nulle-Part · Contrat de ville",  # 11
        "Texte de la dernière page.",  # 12
        "1 Page 7, http://example.org/document.pdf",  # 13: footnote body
        "http://example.org/document.pdf",  # 14: bare address under it
    ]
)


def test_clean_removes_furniture_and_footnotes_and_keeps_line_numbers() -> None:
    cleaned = clean(RUNNING)
    assert [line.number for line in cleaned.furniture] == [4, 6, 9, 10, 11]
    assert [line.number for line in cleaned.footnotes] == [13, 14]
    assert [line.number for line in cleaned.lines] == [1, 2, 3, 7, 8, 12]
    assert cleaned.line_count == 14


def test_clean_keeps_lines_that_repeat_away_from_page_breaks() -> None:
    text = "\n".join(
        ["Titre", "Monsieur le Directeur Général", "de A", "X Y", "Monsieur le Directeur Général"]
    )
    assert [line.text for line in clean(text).lines][1::3] == ["Monsieur le Directeur Général"] * 2


def test_form_feed_is_a_page_break_and_counts_no_line() -> None:
    text = "Titre\nMesure 7 : une mesure\n- 2 -\n\fEn-tête courant\nqui continue.\n- 3 -\n\fEn-tête courant\nFin."
    cleaned = clean(text)
    assert [(line.number, line.text) for line in cleaned.lines] == [
        (1, "Titre"),
        (2, "Mesure 7 : une mesure"),
        (5, "qui continue."),
        (8, "Fin."),
    ]


def test_whitespace_is_normalised_and_only_newlines_split_lines() -> None:
    cleaned = clean("  Axe 1 :\u00a0Cohésion\t sociale  \r\nligne\u2028même ligne")
    assert [line.text for line in cleaned.lines] == ["Axe 1 : Cohésion sociale", "ligne même ligne"]


VOCAB = vocabulary(["les parents-enfants et l’accompagnement", "un territoire intercommunal"])


@pytest.mark.parametrize(
    ("left", "right", "kept", "why"),
    [
        ("crèche", "PMI-école.", True, "a capital after the hyphen: a compound"),
        ("Saint", "Exupéry", True, "a capital after the hyphen: a compound"),
        ("2018", "2023", True, "digits"),
        ("parents", "enfants", True, "the document prints parents-enfants within a line"),
        ("accompa", "gnement", False, "the document prints accompagnement"),
        ("intercommu", "nal.", False, "the document prints intercommunal"),
        ("tout", "petits.", True, "tout- only ever starts a compound"),
        ("demi", "journée", True, "demi- only ever starts a compound"),
        ("engage", "ments", False, "no evidence: a line-break hyphenation"),
    ],
)
def test_hyphenation_rule(left: str, right: str, kept: bool, why: str) -> None:
    assert keeps_hyphen(left, right, VOCAB) is kept, why


@pytest.mark.parametrize(
    ("parts", "text"),
    [
        (
            ["Favoriser l’apprentissage chez les tout-", "petits."],
            "Favoriser l’apprentissage chez les tout-petits.",
        ),
        (["le partenariat crèche-", "PMI-école."], "le partenariat crèche-PMI-école."),
        (["un accompa-", "gnement renforcé"], "un accompagnement renforcé"),
        (["les bailleurs sociaux", "– en prenant appui"], "les bailleurs sociaux – en prenant appui"),
        (["la période 2018 -", "2023"], "la période 2018 - 2023"),
        (["un mot coupé\u00ad", "ici"], "un mot coupéici"),
        (["  espaces   multiples ", "", " fin "], "espaces multiples fin"),
    ],
)
def test_join_lines(parts: list[str], text: str) -> None:
    assert join_lines(parts, VOCAB) == text


def test_vocabulary_ignores_line_end_fragments() -> None:
    vocab = vocabulary(["une demi-", "journée", "le sous-préfet"])
    assert "sous-préfet" in vocab.compounds
    assert "demi" in vocab.words and "demi-journée" not in vocab.compounds
    assert vocab != Vocabulary()
    assert Line(3, "x").number == 3
