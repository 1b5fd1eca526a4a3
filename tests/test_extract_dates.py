"""French dates as protocols print them."""

from __future__ import annotations

from datetime import date

import pytest

from server.extract.dates import find_dates, parse_date


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("Pacte de Dijon, signé le 16 juillet 2018", date(2018, 7, 16), None),
        ("délibération du 1er juillet 2019", date(2019, 7, 1), None),
        ("délibération du 1 er juillet 2019", date(2019, 7, 1), None),
        ("le 16/07/2018", date(2018, 7, 16), None),
        ("le 04/06/2015", date(2015, 6, 4), None),
        ("le 16.07.2018", date(2018, 7, 16), None),
        ("le 16-07-18", date(2018, 7, 16), None),
        ("des 13 et 14 décembre 2016, relative au cadre", date(2016, 12, 13), date(2016, 12, 14)),
        ("du 3 au 5 mars 2019", date(2019, 3, 3), date(2019, 3, 5)),
        ("les 13-14 décembre 2016", date(2016, 12, 13), date(2016, 12, 14)),
        ("des 30 novembre et 1er décembre 2017", date(2017, 11, 30), date(2017, 12, 1)),
        ("du 21 Février 2014", date(2014, 2, 21), None),
        ("du 21 fevrier 2014", date(2014, 2, 21), None),
        ("le 15 août 2019", date(2019, 8, 15), None),
        ("le 15 aout 2019", date(2019, 8, 15), None),
    ],
)
def test_parse_date(text: str, start: date, end: date | None) -> None:
    found = parse_date(text)
    assert found is not None
    assert (found.start, found.end) == (start, end)


@pytest.mark.parametrize(
    "text",
    [
        "la loi n° 2014-173",  # a number, not a date
        "la COG 2018/2022",  # a period
        "les jeunes de 16/25 ans",
        "le 31 février 2019",  # no such day
        "le 31/02/2019",
        "des 14 et 13 décembre 2016",  # a span that ends before it starts
        "en juillet 2018",  # no day: the model keeps years alone elsewhere
        "",
    ],
)
def test_no_date(text: str) -> None:
    assert parse_date(text) is None


def test_find_dates_in_reading_order_without_overlap() -> None:
    text = "Réunie les 13 et 14 décembre 2016 puis le 04/06/2015, l’assemblée du 1er juillet 2019"
    assert [(d.start.isoformat(), d.text) for d in find_dates(text)] == [
        ("2016-12-13", "13 et 14 décembre 2016"),
        ("2015-06-04", "04/06/2015"),
        ("2019-07-01", "1er juillet 2019"),
    ]
