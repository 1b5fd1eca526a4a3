"""Recognising a protocol's layout: headings, numbering styles, and the axes → measures tree."""

# ruff: noqa: RUF001 — the test data prints the en dashes protocols use

from __future__ import annotations

import pytest

from server.extract.model import Kind, Part
from server.extract.segments import SectionKind, section_heading, segment
from server.extract.structure import build_tree, recognise, walk
from server.extract.text import clean


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Axe 1 : Cohésion sociale", (Kind.AXIS, "1", "Cohésion sociale")),
        ("AXE 2 – LOGEMENT ET CADRE DE VIE", (Kind.AXIS, "2", "LOGEMENT ET CADRE DE VIE")),
        ("Pilier 2 — Habitat et cadre de vie", (Kind.AXIS, "2", "Habitat et cadre de vie")),
        ("Enjeu n°4 : Santé", (Kind.AXIS, "4", "Santé")),
        ("AXE III – RENOUVELLEMENT URBAIN", (Kind.AXIS, "3", "RENOUVELLEMENT URBAIN")),
        ("Axe IV. Emploi", (Kind.AXIS, "4", "Emploi")),
        ("Orientation stratégique 1 : Jeunesse", (Kind.AXIS, "1", "Jeunesse")),
        ("Thématique : Réussite scolaire", (Kind.THEMATIC, None, "Réussite scolaire")),
        ("Thème 2 – Santé", (Kind.THEMATIC, "2", "Santé")),
        ("Objectif 1 : Réduire le décrochage.", (Kind.OBJECTIVE, "1", "Réduire le décrochage.")),
        ("Objectif opérationnel 2.1 - Ouvrir", (Kind.OBJECTIVE, "2.1", "Ouvrir")),
        ("1. Poursuivre l'accompagnement.", (Kind.MEASURE, "1", "Poursuivre l'accompagnement.")),
        ("12) Ouvrir un accueil du soir.", (Kind.MEASURE, "12", "Ouvrir un accueil du soir.")),
        ("1.1 Ouvrir la médiathèque.", (Kind.MEASURE, "1.1", "Ouvrir la médiathèque.")),
        ("2.3. Ouvrir la médiathèque.", (Kind.MEASURE, "2.3", "Ouvrir la médiathèque.")),
        ("Mesure 3 : Proposer un programme.", (Kind.MEASURE, "3", "Proposer un programme.")),
        ("Mesure 3 :", (Kind.MEASURE, "3", "")),
        ("Action n°3 – Réduire les loyers.", (Kind.MEASURE, "n°3", "Réduire les loyers.")),
        ("Action n° 12 : Créer", (Kind.MEASURE, "n° 12", "Créer")),
        ("Mesure 3.1 : Ouvrir", (Kind.MEASURE, "3.1", "Ouvrir")),
        ("A. Éducation et jeunesse", (Kind.THEMATIC, "A", "Éducation et jeunesse")),
        ("B) Santé", (Kind.THEMATIC, "B", "Santé")),
        ("C – Habitat", (Kind.THEMATIC, "C", "Habitat")),
        ("ENJEU 2 : CADRE DE VIE", (Kind.AXIS, "2", "CADRE DE VIE")),
        ("A la rentrée, ouvrir", None),
        ("I. Préambule", None),
        ("Sécurité et prévention de la délinquance", None),
        ("Développer l’information sur l’aide aux victimes.", None),
        ("2 Les dispositifs de droit commun", None),
        ("Trois axes sont privilégiés :", None),
    ],
)
def test_recognise(line: str, expected: tuple[Kind, str | None, str] | None) -> None:
    assert recognise(line) == expected


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("TEXTES DE RÉFÉRENCE", SectionKind.REFERENCES),
        ("Textes de référence :", SectionKind.REFERENCES),
        ("Références", SectionKind.REFERENCES),
        ("PRÉAMBULE", SectionKind.PREAMBLE),
        ("I. Préambule", SectionKind.PREAMBLE),
        ("IDENTIFICATION DU CONTRAT DE VILLE", SectionKind.IDENTIFICATION),
        ("OBJET DE L’AVENANT", SectionKind.PURPOSE),
        ("Objet du protocole", SectionKind.PURPOSE),
        ("Article 2 – Objet du présent protocole", SectionKind.PURPOSE),
        ("MESURES RÉCIPROQUES", SectionKind.MEASURES),
        ("CONTRIBUTION DE LA CAISSE D’ALLOCATIONS FAMILIALES DU NORD", SectionKind.CONTRIBUTION),
        ("Contribution de Lorne Agglomération", SectionKind.CONTRIBUTION),
        ("Signatures", SectionKind.SIGNATURES),
        ("LES SIGNATAIRES", SectionKind.SIGNATURES),
        ("Le préambule rappelle", None),
        ("Mesure 3 : Proposer", None),
    ],
)
def test_section_headings(line: str, kind: SectionKind | None) -> None:
    assert section_heading(line) == kind


def _tree(text: str) -> tuple[list[Part], list[str]]:
    axes, notes = build_tree(clean(text).lines, clean(text).vocabulary)
    return axes, [n.reason for n in notes]


def _shape(parts: list[Part]) -> list[tuple[str, str | None, str, int, int]]:
    return [(p.kind.value, p.notation, p.text, p.passage.first, p.passage.last) for p in walk(parts)]


def test_positional_layout_thematic_then_objective_then_measures() -> None:
    axes, notes = _tree(
        "Axe 1 : Cohésion sociale\n\nSécurité et prévention\n\nDévelopper l’information.\n\n"
        "1. Poursuivre l’accompagnement.\n\n2. Développer le partenariat pour faciliter l’hébergement\n\n"
        "d’urgence.\nLutter contre les addictions.\n3. Poursuivre la prévention."
    )
    assert notes == []
    assert _shape(axes) == [
        ("axe", "1", "Cohésion sociale", 1, 1),
        ("thematique", None, "Sécurité et prévention", 3, 3),
        ("objectif", None, "Développer l’information.", 5, 5),
        ("mesure", "1", "Poursuivre l’accompagnement.", 7, 7),
        ("mesure", "2", "Développer le partenariat pour faciliter l’hébergement d’urgence.", 9, 11),
        ("objectif", None, "Lutter contre les addictions.", 12, 12),
        ("mesure", "3", "Poursuivre la prévention.", 13, 13),
    ]


def test_objective_wrapped_on_a_dash_and_axis_without_thematics() -> None:
    axes, _ = _tree(
        "Axe 2 : Logement\nDévelopper une gestion urbaine avec les bailleurs sociaux\n– en prenant appui sur la TFPB.\n"
        "22. Favoriser la cohérence des interventions de la\nCommunauté de Communes."
    )
    assert _shape(axes) == [
        ("axe", "2", "Logement", 1, 1),
        (
            "objectif",
            None,
            "Développer une gestion urbaine avec les bailleurs sociaux – en prenant appui sur la TFPB.",
            2,
            3,
        ),
        ("mesure", "22", "Favoriser la cohérence des interventions de la Communauté de Communes.", 4, 5),
    ]


def test_measure_continues_over_a_page_break() -> None:
    axes, _ = _tree(
        "Protocole\nAvenant au contrat de ville de Nulle-Part 2020-2022\nAxe 1 : Emploi\nOuvrir des stages.\n"
        "1) Accompagner les familles auprès de la caisse d’assu-\n"
        "MESURES — Avenant au contrat de ville de Nulle-Part 2020-2022\nPage 2 sur 3\nrance maladie.\n2) Ouvrir un forum.\n"
    )
    assert _shape(axes)[2] == (
        "mesure",
        "1",
        "Accompagner les familles auprès de la caisse d’assurance maladie.",
        5,
        8,
    )


def test_labelled_layout_with_second_sentence_and_text_on_next_line() -> None:
    axes, notes = _tree(
        "Enjeu 1 : Éducation\nThématique : Réussite scolaire\nObjectif 1 : Réduire le décrochage.\nMesure 1 :\n"
        "Créer une cellule de veille.\nMesure 2 : Proposer des activités.\nElles seront construites avec les associations.\n"
        "Enjeu 2 : Santé\nObjectif 2 : Faciliter l’accès aux droits.\nMesure 3 : Tenir une permanence."
    )
    assert notes == []
    assert [(p.kind.value, p.notation, p.text) for p in walk(axes)] == [
        ("axe", "1", "Éducation"),
        ("thematique", None, "Réussite scolaire"),
        ("objectif", "1", "Réduire le décrochage."),
        ("mesure", "1", "Créer une cellule de veille."),
        ("mesure", "2", "Proposer des activités. Elles seront construites avec les associations."),
        ("axe", "2", "Santé"),
        ("objectif", "2", "Faciliter l’accès aux droits."),
        ("mesure", "3", "Tenir une permanence."),
    ]


def test_dotted_measures_make_simple_numbers_objectives() -> None:
    axes, _ = _tree(
        "Axe 1 : Culture\n1. Développer l’accès à la culture.\n1.1 Ouvrir la médiathèque.\n1.2 Créer une résidence."
    )
    assert [(p.kind.value, p.notation) for p in walk(axes)] == [
        ("axe", "1"),
        ("objectif", "1"),
        ("mesure", "1.1"),
        ("mesure", "1.2"),
    ]
    assert axes[0].children[0].children[1].text == "Créer une résidence."


def test_what_has_no_place_is_reported() -> None:
    axes, notes = _tree(
        "1. Une mesure avant tout axe.\nAxe 1 : Emploi\n2. Une mesure sans objectif.\nUne phrase orpheline."
    )
    assert notes == [
        "measure before any axis",
        "measure without an objective",
        "not an axis, thematic, objective or measure",
    ]
    assert [p.kind for p in walk(axes)] == [Kind.AXIS, Kind.MEASURE]


def test_segment_splits_sections_and_finds_signature_blocks() -> None:
    text = (
        "Protocole\nAvenant 2020-2022\nPRÉAMBULE\nUn préambule.\nAxe 1 : Emploi\nUn objectif.\n1. Une mesure.\n"
        "CONTRIBUTION DU DÉPARTEMENT\nLa Présidente du Département soutient.\n1. Une section\nMadame la Maire de Nulle-Part\n"
        "\nJeanne DUPONT\n"
    )
    sections = segment(clean(text).lines)
    assert [(s.kind, s.lines[0].number) for s in sections] == [
        (SectionKind.TITLE, 1),
        (SectionKind.PREAMBLE, 3),
        (SectionKind.MEASURES, 5),
        (SectionKind.CONTRIBUTION, 8),
        (SectionKind.SIGNATURES, 11),
    ]


def test_only_contributions_and_signatures_open_sections_after_the_measures() -> None:
    text = "Titre\nAxe 1 : Emploi\nUn objectif.\n1. Une mesure.\nCONTRIBUTION DE LA CAF\nRéférences\nObjet\n"
    assert [s.kind for s in segment(clean(text).lines)] == [
        SectionKind.TITLE,
        SectionKind.MEASURES,
        SectionKind.CONTRIBUTION,
    ]
