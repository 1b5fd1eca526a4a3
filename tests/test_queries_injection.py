"""Parameters cannot change a query: any string gives the correct answer for that literal, or a 400.

The runner sends the same SPARQL text whatever the values (a recording wrapper around the real store sees
it), and the answer to a text search is exactly the measures whose text contains the string. The runner here
is the portable SPARQL (a store without search index); over HTTP the build's search index answers.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping, Sequence

import pyoxigraph as ox
import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.core.config import PROJECT_ROOT
from server.core.library import ParameterError, find, load_library
from server.core.query_results import records
from server.engine.named_queries import run
from server.engine.release import Release
from server.engine.store import EmbeddedStore, QueryResult, Term

from .source_text import elements

LIBRARY = load_library(PROJECT_ROOT / "queries")
SEARCH = find(LIBRARY, "search-measures")
PAYLOADS = [
    '"',
    "'",
    '" } ?s ?p ?o . FILTER(true) #',
    "'} UNION { ?s ?p ?o } #",
    "> . ?s ?p ?o",
    "<https://w3id.org/cdv/id/organisation/pole-emploi> . ?s ?p ?o",
    "https://w3id.org/cdv/id/organisation/pole-emploi> } UNION { ?s ?p ?o . <x:y",
    "}}} #",
    "\n} LIMIT 1000\n#",
    'santé" ) || true || ("',
    "\\u0022",
    "\x00",
    "",
    "?texte",
    "$texte",
    "{}",
]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class Recording:
    """The real store, remembering the SPARQL text of every query it is asked to run."""

    def __init__(self, store: EmbeddedStore) -> None:
        self.store = store
        self.build_id = store.build_id
        self.query_count = 0
        self.texts: list[str] = []

    def query(
        self,
        sparql: str,
        *,
        substitutions: Mapping[str, Term] | None = None,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
    ) -> QueryResult:
        self.texts.append(sparql)
        return self.store.query(sparql, substitutions=substitutions)

    def triple_count(self) -> int:
        return self.store.triple_count()


@pytest.fixture(scope="module")
def store(release: Release) -> Iterator[EmbeddedStore]:
    yield EmbeddedStore.open_release(release)


def folded(text: str) -> str:
    """Lower case, without the accents and ligatures of French, apostrophes straightened (as the query does)."""
    table = str.maketrans("àâäéèêëîïôöùûüç\u2019\u2018", "aaaeeeeiioouuuc''")
    return text.lower().translate(table).replace("œ", "oe").replace("æ", "ae")


MEASURES = [(m.number, m.text) for m in elements("mesure")]


def expected_search(needle: str) -> list[int]:
    return [number for number, text in MEASURES if folded(needle) in folded(text)]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_injection_payloads_in_a_string_are_just_text(store: EmbeddedStore, payload: str) -> None:
    recording = Recording(store)
    rows = records(run(recording, SEARCH, {"texte": payload}))  # type: ignore[arg-type]
    assert recording.texts == [SEARCH.body]
    assert [r["numero"] for r in rows] == expected_search(payload)
    assert all(r["texte"] == payload for r in rows)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_injection_payloads_in_an_iri_are_refused(client: FlaskClient, payload: str) -> None:
    response = client.get("/api/queries/measures-naming-organisation", query_string={"organisation": payload})
    assert response.status_code == 400
    assert "'organisation'" in response.get_data(as_text=True)


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize(("name", "param"), [("measure-source", "numero"), ("reference-texts", "depuis")])
def test_injection_payloads_in_typed_literals_are_refused(
    client: FlaskClient, payload: str, name: str, param: str
) -> None:
    response = client.get(f"/api/queries/{name}", query_string={param: payload})
    assert response.status_code == 400
    assert f"'{param}'" in response.get_data(as_text=True)


@FUZZ
@given(needle=st.text())
def test_any_string_searches_for_itself(store: EmbeddedStore, needle: str) -> None:
    recording = Recording(store)
    rows = records(run(recording, SEARCH, {"texte": needle}))  # type: ignore[arg-type]
    assert recording.texts == [SEARCH.body]
    assert [r["numero"] for r in rows] == expected_search(needle)
    assert all(r["texte"] == needle for r in rows)


@FUZZ
@given(needle=st.text(alphabet=st.characters(codec="utf-8")))
def test_any_string_over_http_answers_the_index_measures_or_a_400(client: FlaskClient, needle: str) -> None:
    """Over HTTP the search index answers (issue #9): its search syntax can refuse a text (400, saying why);
    otherwise the rows are the measures /search finds for the same text, best first."""
    response = client.get("/api/queries/search-measures", query_string={"texte": needle})
    assert response.status_code in {200, 400}, response.get_data(as_text=True)
    if response.status_code == 400:
        assert response.get_data(as_text=True).startswith("texte recherché 'texte' : ")
        return
    rows = response.get_json()
    assert all(r["texte"] == needle for r in rows)
    found = client.get("/search", query_string={"q": needle, "type": "cdv:Mesure", "format": "json"})
    assert found.status_code == 200
    assert found.get_json()["total"] == len(rows)
    assert [r["mesure"] for r in rows][:20] == [hit["iri"] for hit in found.get_json()["results"]]


@FUZZ
@given(value=st.text(alphabet=st.characters(codec="utf-8")))
def test_any_string_as_an_iri_is_a_known_organisation_or_a_400(client: FlaskClient, value: str) -> None:
    response = client.get("/api/queries/measures-naming-organisation", query_string={"organisation": value})
    assert response.status_code in {200, 400}
    if response.status_code == 400:
        assert "'organisation'" in response.get_data(as_text=True)
    else:
        assert all(r["organisation"] == value.strip() for r in response.get_json())


@FUZZ
@given(value=st.text())
def test_any_string_as_an_integer_binds_an_integer_or_raises(value: str) -> None:
    param = find(LIBRARY, "measure-source").parameter("numero")
    try:
        term = param.parse(value)
    except ParameterError as err:
        assert "'numero'" in err.message
        return
    assert isinstance(term, ox.Literal)
    assert term.datatype.value.endswith("#integer") and int(term.value) == int(value)


def test_folding_matches_unicode_decomposition_on_french_letters() -> None:
    letters = "àâäéèêëîïôöùûüç"
    stripped = "".join(c for c in unicodedata.normalize("NFD", letters) if unicodedata.category(c) != "Mn")
    assert folded(letters) == stripped
