"""server.core.iris: public IRIs ↔ local URLs, behind no proxy, a path prefix, or a configured public URL."""

from __future__ import annotations

import pytest

from server.core.iris import IriMap, iri_map, site_root

BASE = "https://w3id.org/cdv/"
MEASURE = BASE + "id/le-quesnoy/avenant-2020-2022/mesure/12"


@pytest.mark.parametrize(
    ("public_url", "url_root", "absolute", "expected"),
    [
        (None, "http://127.0.0.1:8000/", False, "/"),
        (None, "http://127.0.0.1:8000/", True, "http://127.0.0.1:8000/"),
        (None, "https://data.example.org/cdv/", False, "/cdv/"),
        (None, "https://data.example.org/cdv/", True, "https://data.example.org/cdv/"),
        ("https://data.example.org/cdv/", "http://127.0.0.1:8000/", False, "https://data.example.org/cdv/"),
        ("https://data.example.org/cdv", "http://127.0.0.1:8000/", True, "https://data.example.org/cdv/"),
        (None, "http://localhost", False, "/"),
    ],
    ids=[
        "local",
        "local-absolute",
        "prefix",
        "prefix-absolute",
        "public-url",
        "public-url-no-slash",
        "no-path",
    ],
)
def test_site_root(public_url: str | None, url_root: str, absolute: bool, expected: str) -> None:
    assert site_root(public_url, url_root, absolute=absolute) == expected


@pytest.mark.parametrize(
    ("root", "iri", "expected"),
    [
        ("/", MEASURE, "/id/le-quesnoy/avenant-2020-2022/mesure/12"),
        ("/cdv/", MEASURE, "/cdv/id/le-quesnoy/avenant-2020-2022/mesure/12"),
        (
            "https://data.example.org/",
            MEASURE,
            "https://data.example.org/id/le-quesnoy/avenant-2020-2022/mesure/12",
        ),
        ("/", BASE + "ontology#Mesure", "/ontology#Mesure"),
        ("/", BASE + "ontology", "/ontology"),
        (
            "/",
            BASE + "id/le-quesnoy/avenant-2020-2022/source#L1-L3",
            "/id/le-quesnoy/avenant-2020-2022/source#L1-L3",
        ),
        ("/", "http://www.w3.org/ns/org#Organization", "http://www.w3.org/ns/org#Organization"),
        ("/", "https://w3id.org/cdvx/id/a", "https://w3id.org/cdvx/id/a"),
    ],
    ids=["root", "prefix", "public-url", "term", "ontology", "hash-iri", "external", "look-alike-base"],
)
def test_url_maps_our_iris_and_leaves_others(root: str, iri: str, expected: str) -> None:
    assert IriMap(BASE, root).url(iri) == expected


@pytest.mark.parametrize(
    "path", ["id/le-quesnoy/avenant-2020-2022/mesure/12", "/id/organisation/caf-du-nord", "ontology"]
)
def test_path_to_iri_ignores_the_host(path: str) -> None:
    """The identity comes from the path: any host, any proxy, same IRI."""
    for url_root in ("http://127.0.0.1:8000/", "https://data.example.org/cdv/"):
        mapping = iri_map(BASE, None, url_root)
        iri = mapping.iri(path)
        assert iri == BASE + path.lstrip("/")
        assert mapping.url(iri).endswith(path.lstrip("/"))


def test_round_trip() -> None:
    mapping = iri_map(BASE, "https://data.example.org/", "http://127.0.0.1:8000/")
    url = mapping.url(MEASURE)
    assert mapping.iri(url.removeprefix(mapping.root)) == MEASURE
    assert mapping.is_local(MEASURE)
    assert not mapping.is_local("http://example.org/x")
