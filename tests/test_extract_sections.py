"""Reading the parts around the measures: names, posts, pillars, neighbourhoods, references, contribution
sections and signatures."""

from __future__ import annotations

from datetime import date

import pytest

from server.extract.model import Passage
from server.extract.names import organisation_slug, parse_person, slugify, split_civility, split_post
from server.extract.pillars import guess_pillar
from server.extract.references import read_references
from server.extract.sections import find_qpvs, read_sections
from server.extract.signatures import read_signatures
from server.extract.text import Line, clean


def _lines(text: str) -> list[Line]:
    return list(clean(text).lines)


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Cœur d’étoile", "coeur-d-etoile"),
        ("Jean-Pierre CHOËL", "jean-pierre-choel"),
        (
            "Procureure de la République d’Avesnes-sur-Helpe",
            "procureure-de-la-republique-d-avesnes-sur-helpe",
        ),
        ("convention d’abattement de 30% de la TFPB", "convention-d-abattement-de-30-de-la-tfpb"),
        ("  Île-de-France  ", "ile-de-france"),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Conseil Général du Nord", "conseil-departemental-du-nord"),  # renamed in 2015
        ("CAISSE D’ALLOCATIONS FAMILIALES DE LA MARNE-HAUTE", "caf-de-la-marne-haute"),
        ("Agence Régionale de Santé Hauts-de-France", "ars-hauts-de-france"),
        ("Caisse Primaire d’Assurance Maladie de la Somme", "cpam-de-la-somme"),
        ("Communauté de Communes du Pays de Mormal", "communaute-de-communes-du-pays-de-mormal"),
    ],
)
def test_organisation_slug(name: str, slug: str) -> None:
    assert organisation_slug(name) == slug


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("Daniel BARNIER", ("Daniel", "BARNIER")),
        ("Jean-René LECERF", ("Jean-René", "LECERF")),
        ("Étienne CHAMPION", ("Étienne", "CHAMPION")),
        ("Jean-Pierre CHOËL", ("Jean-Pierre", "CHOËL")),
        ("Anne-Laure DE LA TOUR", ("Anne-Laure", "DE LA TOUR")),
        ("François LE GALL", ("François", "LE GALL")),
        ("Sophie N’DIAYE", ("Sophie", "N’DIAYE")),
        ("Martine DUBOIS-RENAUD", ("Martine", "DUBOIS-RENAUD")),
        ("Monsieur le Préfet", None),
        ("Madame la Directrice Régionale", None),
        ("CONTRIBUTION DE LA CAF", None),
    ],
)
def test_parse_person(text: str, parts: tuple[str, str] | None) -> None:
    person = parse_person(text)
    assert (person.given, person.family) == parts if parts else person is None


@pytest.mark.parametrize(
    ("heading", "civility", "post"),
    [
        ("Madame le Maire du Quesnoy", "Madame", "Maire du Quesnoy"),
        (
            "Monsieur le Préfet Délégué pour l’Égalité des Chances",
            "Monsieur",
            "Préfet Délégué pour l’Égalité des Chances",
        ),
        ("Madame la Rectrice de l’Académie de Lille", "Madame", "Rectrice de l’Académie de Lille"),
        ("Le Préfet de la Brenne", None, "Préfet de la Brenne"),
        ("La Présidente de la Communauté de Communes", None, "Présidente de la Communauté de Communes"),
    ],
)
def test_split_civility(heading: str, civility: str | None, post: str) -> None:
    assert split_civility(heading) == (civility, post)


@pytest.mark.parametrize(
    ("post", "office", "organisation", "state"),
    [
        (
            "Préfet Délégué pour l’Égalité des Chances",
            "Préfet Délégué pour l’Égalité des Chances",
            None,
            True,
        ),
        (  # a procureur signs for the parquet of the tribunal judiciaire of the seat printed after the post
            "Procureure de la République d’Avesnes-sur-Helpe",
            "Procureure de la République",
            "Parquet du tribunal judiciaire d’Avesnes-sur-Helpe",
            False,
        ),
        (
            "Procureur de la République près le tribunal judiciaire de Lille",
            "Procureur de la République",
            "Parquet du tribunal judiciaire de Lille",
            False,
        ),
        (
            "Procureur de la République près le Tribunal de Grande Instance d’Arras",
            "Procureur de la République",
            "Parquet du tribunal judiciaire d’Arras",
            False,
        ),
        ("Procureur de la République", "Procureur de la République", None, True),  # no seat: the État
        (
            "Sous-Préfète chargée de la politique de la ville",
            "Sous-Préfète chargée de la politique de la ville",
            None,
            True,
        ),
        ("Maire du Quesnoy", "Maire", "Commune du Quesnoy", False),
        ("Maire d’Argenval", "Maire", "Commune d’Argenval", False),
        (
            "Président du Conseil Régional des Hauts-de-France",
            "Président",
            "Conseil Régional des Hauts-de-France",
            False,
        ),
        (
            "Président du directoire de la Société Immobilière du Grand Hainaut",
            "Président du directoire",
            "Société Immobilière du Grand Hainaut",
            False,
        ),
        (
            "Présidente du Conseil d’Administration de la Caisse d’Allocations Familiales du Nord",
            "Présidente du Conseil d’Administration",
            "Caisse d’Allocations Familiales du Nord",
            False,
        ),
        ("Directeur Général de Promocil", "Directeur Général", "Promocil", False),
        (
            "Directrice Régionale du Pôle Emploi Hauts-de-France",
            "Directrice Régionale",
            "Pôle Emploi Hauts-de-France",
            False,
        ),
        ("Directeur Général", "Directeur Général", None, False),
    ],
)
def test_split_post(post: str, office: str, organisation: str | None, state: bool) -> None:
    parts = split_post(post)
    assert (parts.office, parts.organisation, parts.state) == (office, organisation, state)


@pytest.mark.parametrize(
    ("label", "pillar"),
    [
        ("Cohésion sociale", "cohesion-sociale"),
        ("Solidarités et vivre-ensemble", "cohesion-sociale"),
        ("Éducation et jeunesse", "cohesion-sociale"),
        ("Santé et accès aux droits", "cohesion-sociale"),
        ("Logement et cadre de vie", "cadre-de-vie-et-renouvellement-urbain"),
        ("RENOUVELLEMENT URBAIN ET CADRE DE VIE", "cadre-de-vie-et-renouvellement-urbain"),
        ("Emploi et développement économique", "emploi-et-developpement-economique"),
        ("Emploi et insertion professionnelle", "emploi-et-developpement-economique"),
        ("Gouvernance et pilotage", None),  # no word of any pillar: reported for review
        ("Jeunesse et insertion", None),  # one word of two pillars: a tie, reported
    ],
)
def test_guess_pillar(label: str, pillar: str | None) -> None:
    assert guess_pillar(label) == pillar


@pytest.mark.parametrize(
    ("line", "qpvs"),
    [
        (
            "Avenant au contrat de ville du Quesnoy 2020-2022 - QP Cœur d’étoile - QP059043",
            [("QP059043", "Cœur d’étoile")],
        ),
        ("Quartier prioritaire : Les Hauts de Lorne (QP061905)", [("QP061905", "Les Hauts de Lorne")]),
        (
            "Quartiers prioritaires : QP027911 « La Garenne » et QP027912 « Les Tisserands »",
            [("QP027911", "La Garenne"), ("QP027912", "Les Tisserands")],
        ),
        (
            "Avenant 2019-2022 - QP Les Coteaux - QP080901 - QP Le Vieux Moulin - QP080902",
            [("QP080901", "Les Coteaux"), ("QP080902", "Le Vieux Moulin")],
        ),
        ("Avenant au contrat de ville 2020-2022 - QP059043", [("QP059043", None)]),
    ],
)
def test_find_qpvs(line: str, qpvs: list[tuple[str, str | None]]) -> None:
    assert [(q.code, q.name) for q in find_qpvs([Line(1, line)])] == qpvs


def test_references_bulleted_with_types_dates_issuers_and_titles() -> None:
    text = (
        "- Pacte de Dijon, signé le 16 juillet 2018 par le Premier ministre et les présidents\n"
        "d’intercommunalités\n"
        "- Circulaire du Premier Ministre du 22 janvier 2019 relative à la mobilisation\n"
        "- Délibération du Conseil Régional des Hauts-de-France des 13 et 14 décembre 2016, relative au cadre.\n"
        "- Délibération du Conseil Général du Nord du 3 novembre 2014, relative à la refonte.\n"
        "- Décret du 3 mars 2015 relatif aux quartiers\n"
    )
    references, notes = read_references(_lines(text), clean(text).vocabulary)
    assert [(r.type_slug, r.start, r.end, r.issuer, r.local_issuer, r.title) for r in references] == [
        ("pacte", date(2018, 7, 16), None, None, False, "Pacte de Dijon"),
        ("circulaire", date(2019, 1, 22), None, "Premier Ministre", False, references[1].entry),
        (
            "deliberation",
            date(2016, 12, 13),
            date(2016, 12, 14),
            "Conseil Régional des Hauts-de-France",
            True,
            "Délibération du Conseil Régional des Hauts-de-France des 13 et 14 décembre 2016, relative au cadre",
        ),
        (
            "deliberation",
            date(2014, 11, 3),
            None,
            "Conseil Départemental du Nord",
            True,
            "Délibération du Conseil Général du Nord du 3 novembre 2014, relative à la refonte",
        ),
        (None, date(2015, 3, 3), None, None, False, "Décret du 3 mars 2015 relatif aux quartiers"),
    ]
    assert [r.passage.first for r in references] == [1, 3, 4, 5, 6]
    assert references[0].passage.last == 2
    assert [(n.passage.first, n.reason) for n in notes] == [
        (6, "reference text of unknown type (no eli:type_document)")
    ]


def test_references_as_vu_lines_without_bullets() -> None:
    text = "Vu la loi n° 2014-173 du 21 février 2014 de programmation ;\nVu la délibération du Conseil Municipal\nde Nulle-Part du 12 mars 2019 ;"
    references, _ = read_references(_lines(text), clean(text).vocabulary)
    assert [(r.type_slug, r.title, r.issuer) for r in references] == [
        ("loi", "loi n° 2014-173 du 21 février 2014 de programmation", None),
        (
            "deliberation",
            "délibération du Conseil Municipal de Nulle-Part du 12 mars 2019",
            "Conseil Municipal de Nulle-Part",
        ),
    ]


def test_contribution_sections_are_told_from_numbered_lists() -> None:
    text = "\n".join(
        [
            "Introduction.",
            "1. L’accompagnement vers l’emploi",  # section 1
            "Il s’organise en 3 axes :",
            "1. Accès direct vers l'emploi",  # a list restarts at 1
            "2. Se préparer à l’emploi",  # …and goes on: not section 2
            "3. Lever les freins",
            "2. L’Enfance, la Famille",  # not the list's 4: section 2
            "2.1 Les contrats locaux de santé",  # first child of section 2
            "Texte.",
            "2.2 Les conseils locaux",
            "Texte.",
            "3 Les thématiques",  # next section, without a dot
            "4. L’autonomie",
        ]
    )
    sections = read_sections(_lines(text))
    assert [(s.notation, s.title, s.passage.first, s.passage.last) for s in sections] == [
        ("1", "L’accompagnement vers l’emploi", 2, 6),
        ("2", "L’Enfance, la Famille", 7, 11),
        ("2.1", "Les contrats locaux de santé", 8, 9),
        ("2.2", "Les conseils locaux", 10, 11),
        ("3", "Les thématiques", 12, 12),
        ("4", "L’autonomie", 13, 13),
    ]


def test_signature_blocks() -> None:
    text = (
        "Monsieur le Préfet\nDélégué pour l’Égalité des Chances\n\n\n\nDaniel BARNIER\n\n"
        "Madame la Présidente du Conseil\nd’Administration de la Caisse d’Allocations\n\nFamiliales du Nord\n\n\nLydie LIBRIZZI\n"
    )
    signatures, notes = read_signatures(_lines(text), clean(text).vocabulary)
    assert notes == []
    assert [(s.label, s.civility, s.post, s.name, s.passage.first, s.passage.last) for s in signatures] == [
        (
            "Monsieur le Préfet Délégué pour l’Égalité des Chances",
            "Monsieur",
            "Préfet Délégué pour l’Égalité des Chances",
            "Daniel BARNIER",
            1,
            6,
        ),
        (
            "Madame la Présidente du Conseil d’Administration de la Caisse d’Allocations Familiales du Nord",
            "Madame",
            "Présidente du Conseil d’Administration de la Caisse d’Allocations Familiales du Nord",
            "Lydie LIBRIZZI",
            8,
            14,
        ),
    ]
    assert (signatures[1].post_passage.first, signatures[1].post_passage.last) == (8, 11)


def test_signatures_in_prose() -> None:
    text = (
        "Fait à Nulle-Part, le 2 mai 2019.\nSigné par Madame Claire MARCHAND, Préfète de l’Orne ; Monsieur Paul DURAND,\n"
        "Maire de Nulle-Part ; Monsieur Hugo\nBERTIN, Directeur de Pôle Emploi Orne."
    )
    signatures, notes = read_signatures(_lines(text), clean(text).vocabulary)
    assert [(s.civility, s.name, s.post, s.passage.first, s.passage.last) for s in signatures] == [
        ("Madame", "Claire MARCHAND", "Préfète de l’Orne", 2, 2),
        ("Monsieur", "Paul DURAND", "Maire de Nulle-Part", 2, 3),
        ("Monsieur", "Hugo BERTIN", "Directeur de Pôle Emploi Orne", 3, 4),
    ]
    assert notes == []


def test_signatures_in_sentences_after_pour() -> None:
    text = (
        "Pour l’État, le Préfet de l’Elvin, Monsieur Arnaud VILLEMIN.\n"
        "Pour la Commune de Roche, son Maire, Madame Hélène COSTARD.\n"
        "Pour la Communauté de communes du Pays d’Elvin, son Président,\nMonsieur Gérard PELLOUX.\n"
        "Une ligne sans signataire."
    )
    signatures, notes = read_signatures(_lines(text), clean(text).vocabulary)
    assert [
        (s.civility, s.name, s.post, s.organisation, s.passage, s.name_passage.first) for s in signatures
    ] == [
        ("Monsieur", "Arnaud VILLEMIN", "Préfet de l’Elvin", "État", Passage(1, 1), 1),
        ("Madame", "Hélène COSTARD", "Maire", "Commune de Roche", Passage(2, 2), 2),
        (
            "Monsieur",
            "Gérard PELLOUX",
            "Président",
            "Communauté de communes du Pays d’Elvin",
            Passage(3, 4),
            4,
        ),
    ]
    assert [(n.passage.first, n.reason.split(" (")[0]) for n in notes] == [(5, "not part of a signature")]


def test_signatures_side_by_side_are_read_row_by_row() -> None:
    text = (
        "Le Préfet de la Vère                    Le Maire de Brémonval\n\n"
        "Pierre-Yves LANGLOIS                    Odile MARCHETTI\n\n"
        "La Directrice de la Caisse              Le Président de Vère\n"
        "d’Allocations Familiales                Agglomération\n"
        "Salomé N’DIAYE                          Thierry BONNARDEL"
    )
    signatures, notes = read_signatures(_lines(text), clean(text).vocabulary)
    assert [(s.post, s.name, s.passage) for s in signatures] == [
        ("Préfet de la Vère", "Pierre-Yves LANGLOIS", Passage(1, 3)),
        ("Maire de Brémonval", "Odile MARCHETTI", Passage(1, 3)),
        ("Directrice de la Caisse d’Allocations Familiales", "Salomé N’DIAYE", Passage(5, 7)),
        ("Président de Vère Agglomération", "Thierry BONNARDEL", Passage(5, 7)),
    ]
    assert notes == []


def test_signature_heading_without_a_name_is_reported() -> None:
    text = "Monsieur le Maire de Nulle-Part\n\nMadame la Préfète\n\nClaire MARCHAND\nUne ligne de trop."
    signatures, notes = read_signatures(_lines(text), clean(text).vocabulary)
    assert [s.name for s in signatures] == ["Claire MARCHAND"]
    assert [(n.passage.first, n.reason) for n in notes] == [
        (1, "signature heading without a name"),
        (6, "not part of a signature"),
    ]
