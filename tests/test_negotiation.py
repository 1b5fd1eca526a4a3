"""Content negotiation of the SPARQL endpoint: real clients' Accept headers and format names → media type."""

from __future__ import annotations

import pytest

from server.core import sparql_formats as formats
from server.core.errors import NotAcceptable
from server.core.negotiation import HTML, SPARQL_JSON, TURTLE, best_match, negotiate
from server.web.errors import http_headers, http_status
from server.web.sparql import DESCRIPTION_FORMATS, choices, choose

FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CHROME = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,"
    "application/signed-exchange;v=b3;q=0.7"
)
SPARQLWRAPPER_JSON = "application/sparql-results+json,application/json,text/javascript,application/javascript"
SPARQLWRAPPER_N3 = "application/turtle,text/turtle,text/rdf+n3,application/n-triples,application/n3,text/n3"
RDFLIB_XML = "application/sparql-results+xml, application/rdf+xml"
JENA_SELECT = (
    "application/sparql-results+json, application/sparql-results+xml;q=0.9, text/tab-separated-values;q=0.7, "
    "text/csv;q=0.5, application/json;q=0.2, application/xml;q=0.2, */*;q=0.1"
)
JENA_GRAPH = "text/turtle, application/n-triples;q=0.9, application/ld+json;q=0.8, application/rdf+xml;q=0.7, */*;q=0.3"
YASGUI_SELECT = "application/sparql-results+json,*/*;q=0.9"
YASGUI_GRAPH = "text/turtle,*/*;q=0.9"

S, B, G = formats.SOLUTIONS, formats.BOOLEAN, formats.GRAPH


@pytest.mark.parametrize(
    ("form", "accept", "names", "media_type"),
    [
        (S, None, (), "application/sparql-results+json"),
        (S, "", (), "application/sparql-results+json"),
        (S, "*/*", (), "application/sparql-results+json"),
        (G, None, (), "text/turtle"),
        (G, "*/*", (), "text/turtle"),
        (S, "application/sparql-results+json", (), "application/sparql-results+json"),
        (S, "application/sparql-results+xml", (), "application/sparql-results+xml"),
        (S, "text/csv", (), "text/csv"),
        (S, "text/tab-separated-values", (), "text/tab-separated-values"),
        (S, "application/json", (), "application/json"),
        (S, "application/xml", (), "application/xml"),
        (S, "text/plain", (), "text/plain"),
        (S, "text/*", (), "text/csv"),
        (S, "application/*", (), "application/sparql-results+json"),
        (S, "text/csv;q=0.5, application/sparql-results+xml;q=0.8", (), "application/sparql-results+xml"),
        (S, "text/csv, application/sparql-results+xml;q=0.8", (), "text/csv"),
        (S, "image/png, */*;q=0.1", (), "application/sparql-results+json"),
        (S, FIREFOX, (), "application/xml"),
        (S, CHROME, (), "application/xml"),
        (S, SPARQLWRAPPER_JSON, (), "application/sparql-results+json"),
        (S, RDFLIB_XML, (), "application/sparql-results+xml"),
        (S, JENA_SELECT, (), "application/sparql-results+json"),
        (S, YASGUI_SELECT, (), "application/sparql-results+json"),
        (B, "application/sparql-results+xml", (), "application/sparql-results+xml"),
        (B, None, (), "application/sparql-results+json"),
        (G, "text/turtle", (), "text/turtle"),
        (G, "application/n-triples", (), "application/n-triples"),
        (G, "text/plain", (), "text/plain"),
        (G, "application/ld+json", (), "application/ld+json"),
        (G, "application/json", (), "application/json"),
        (G, "application/rdf+xml", (), "application/rdf+xml"),
        (G, "application/xml", (), "application/xml"),
        (G, "application/n-quads", (), "application/n-quads"),
        (G, "application/trig", (), "application/trig"),
        (G, RDFLIB_XML, (), "application/rdf+xml"),
        (G, SPARQLWRAPPER_N3, (), "text/turtle"),
        (G, "text/n3", (), "text/turtle"),
        (G, JENA_GRAPH, (), "text/turtle"),
        (G, YASGUI_GRAPH, (), "text/turtle"),
        (G, FIREFOX, (), "application/xml"),
        # format= wins over Accept; SPARQLWrapper sends its names, sometimes twice with a media type
        (S, "text/csv", ("json",), "application/sparql-results+json"),
        (S, None, ("xml",), "application/sparql-results+xml"),
        (S, None, ("csv",), "text/csv"),
        (S, None, ("tsv", "text/tab-separated-values"), "text/tab-separated-values"),
        (S, None, ("text",), "text/plain"),
        (S, None, ("application/sparql-results+json",), "application/sparql-results+json"),
        (S, None, ("JSON",), "application/sparql-results+json"),
        (G, None, ("turtle",), "text/turtle"),
        (G, None, ("n3",), "text/turtle"),
        (G, None, ("ntriples",), "application/n-triples"),
        (G, None, ("jsonld",), "application/ld+json"),
        (G, None, ("json-ld", "application/ld+json"), "application/ld+json"),
        (G, None, ("rdfxml",), "application/rdf+xml"),
        (G, None, ("rdf+xml", "application/rdf+xml"), "application/rdf+xml"),
        (G, None, ("xml",), "application/rdf+xml"),
        (G, None, ("json",), "application/json"),
        (G, None, ("nquads",), "application/n-quads"),
        (G, None, ("trig",), "application/trig"),
        (G, None, ("bogus", "turtle"), "text/turtle"),
    ],
)
def test_choose(form: str, accept: str | None, names: tuple[str, ...], media_type: str) -> None:
    assert choose(form, accept, names).media_type == media_type


@pytest.mark.parametrize(
    ("form", "accept", "names", "named"),
    [
        (S, "text/turtle", (), "text/csv"),
        (S, "image/png", (), "application/sparql-results+json"),
        (S, None, ("turtle",), "json, xml, csv, tsv"),
        (G, "application/sparql-results+json", (), "text/turtle"),
        (G, "text/csv", (), "application/ld+json"),
        (G, None, ("csv",), "turtle, ntriples"),
        (B, "application/rdf+xml;q=1, */*;q=0", (), "application/sparql-results+xml"),
    ],
)
def test_nothing_acceptable_names_what_is(
    form: str, accept: str | None, names: tuple[str, ...], named: str
) -> None:
    with pytest.raises(NotAcceptable) as raised:
        choose(form, accept, names)
    assert named.split(",")[0] in raised.value.message
    assert http_status(raised.value) == 406
    assert http_headers(raised.value) == {"Vary": "Accept"}


def test_a_request_is_refused_before_running_only_when_no_form_can_answer() -> None:
    chosen = choices("text/turtle", ())
    assert "can be produced for SELECT" in chosen[S]  # type: ignore[operator]
    assert chosen[G] is formats.GRAPH_TURTLE
    with pytest.raises(NotAcceptable) as raised:
        choices("image/png", ())
    assert "SELECT and ASK results" in raised.value.message and "text/turtle" in raised.value.message


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (FIREFOX, HTML),
        (CHROME, HTML),
        ("*/*", formats.GRAPH_TURTLE),
        (None, formats.GRAPH_TURTLE),
        ("text/turtle", formats.GRAPH_TURTLE),
        ("application/ld+json", formats.GRAPH_JSONLD),
        ("application/rdf+xml", formats.GRAPH_RDFXML),
    ],
)
def test_without_query_browsers_get_the_editor_and_rdf_clients_the_description(
    accept: str | None, expected
) -> None:
    assert best_match(accept, DESCRIPTION_FORMATS) == expected


def test_every_offered_format_has_a_serialiser() -> None:
    for form in formats.FORMS:
        for fmt in formats.offered(form):
            assert formats.serialiser(form, fmt.media_type) is not None
            assert fmt.content_type.endswith("; charset=utf-8")


def test_shared_negotiate_keeps_its_api() -> None:
    assert negotiate("text/turtle", None, (TURTLE, SPARQL_JSON)) is TURTLE
    assert negotiate("text/turtle", "json", (TURTLE, SPARQL_JSON)) is SPARQL_JSON
