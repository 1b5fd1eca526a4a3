"""The signing place and date ("Fait à …, le …") and signature tables printed in columns side by side."""

from __future__ import annotations

from datetime import date

import pytest

from server.extract.columns import split_columns
from server.extract.model import Passage, Signing
from server.extract.signing import read_signing
from server.extract.text import clean


@pytest.mark.parametrize(
    ("text", "signing", "reasons"),
    [
        ("Fait à Argenval, le 12 mars 2019", Signing("Argenval", date(2019, 3, 12), Passage(1, 1)), []),
        ("Fait à Lauzerac le 4 juillet 2019", Signing("Lauzerac", date(2019, 7, 4), Passage(1, 1)), []),
        ("Fait à Le Quesnoy, le 1er juin 2020.", Signing("Le Quesnoy", date(2020, 6, 1), Passage(1, 1)), []),
        (
            "Signatures\nFait à Roche-sur-Elvin, le 28 juin 2019, en quatre exemplaires.",
            Signing("Roche-sur-Elvin", date(2019, 6, 28), Passage(2, 2)),
            [],
        ),
        (
            "Fait à Brémonval, en deux exemplaires, le 03/05/2019",
            Signing("Brémonval", date(2019, 5, 3), Passage(1, 1)),
            [],
        ),
        (
            "Fait à Argenval, le ……………… 2019",
            Signing("Argenval", None, Passage(1, 1)),
            ["signing date not read (expected a date such as '12 mars 2019')"],
        ),
        ("Le Préfet de la Brenne", None, []),
    ],
)
def test_read_signing(text: str, signing: Signing | None, reasons: list[str]) -> None:
    found, notes = read_signing(clean(text).lines)
    assert found == signing
    assert [n.reason for n in notes] == reasons


COLUMNS = (
    "Le Préfet de la Vère                    Le Maire de Brémonval\n"
    "\n"
    "Pierre-Yves LANGLOIS                    Odile MARCHETTI\n"
    "La Directrice de la Caisse d’Allocations\n"
    "                                        Le Président de Vère\n"
    "Salomé N’DIAYE                         Thierry BONNARDEL\n"
)


@pytest.mark.parametrize(
    ("text", "columns"),
    [
        (
            COLUMNS,
            [
                [
                    (1, "Le Préfet de la Vère"),
                    (3, "Pierre-Yves LANGLOIS"),
                    (4, "La Directrice de la Caisse d’Allocations"),
                    (6, "Salomé N’DIAYE"),
                ],
                [
                    (1, "Le Maire de Brémonval"),
                    (3, "Odile MARCHETTI"),
                    (5, "Le Président de Vère"),
                    (6, "Thierry BONNARDEL"),
                ],
            ],
        ),
        (
            "Le Préfet de la Brenne\nOlivier MARTIN\nLa Présidente  de la Communauté",
            [[(1, "Le Préfet de la Brenne"), (2, "Olivier MARTIN"), (3, "La Présidente de la Communauté")]],
        ),
        (
            "Une seule ligne    avec un grand blanc\nPuis une autre.",
            [[(1, "Une seule ligne avec un grand blanc"), (2, "Puis une autre.")]],
        ),
    ],
)
def test_split_columns(text: str, columns: list[list[tuple[int, str]]]) -> None:
    found = split_columns(clean(text).lines)
    assert [[(line.number, line.text) for line in column] for column in found] == columns
