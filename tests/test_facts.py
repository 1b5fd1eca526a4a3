"""The facts of issue #17, asked the way an analyst asks them: over SPARQL, through the named queries and on the
pages, against the published build and the source text.

- The Procureure de la République signs for her own body, the parquet of the tribunal judiciaire
  d'Avesnes-sur-Helpe, not for the État the Préfet signs for: 16 signatures, 15 signing organisations.
- The social landlords are one category (a SKOS concept), so "which signatories are bailleurs sociaux?" has an
  answer: 3, and the actor "bailleurs sociaux" points to the same concept.
- A body printed under two names is two resources linked both ways by ORG, and each page links to the other.
"""

from __future__ import annotations

import json
import re

import pytest
from flask.testing import FlaskClient

from tests.source_text import line

ID = "https://w3id.org/cdv/id/"
DOC = ID + "le-quesnoy/avenant-2020-2022"
BAILLEUR_SOCIAL = ID + "concept/categorie-d-acteur/bailleur-social"
PARQUET = ID + "organisation/parquet-du-tribunal-judiciaire-d-avesnes-sur-helpe"
SPARQL_JSON = "application/sparql-results+json"

SIGNING_ORGANISATIONS = """PREFIX cdv: <https://w3id.org/cdv/ontology#>
SELECT (COUNT(?signature) AS ?signatures) (COUNT(DISTINCT ?organisation) AS ?organisations) WHERE {
  ?signature a cdv:Signature ; cdv:avenant <DOC> ; cdv:organisation ?organisation .
}""".replace("DOC", DOC)

SOCIAL_LANDLORD_SIGNATORIES = """PREFIX cdv: <https://w3id.org/cdv/ontology#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT DISTINCT ?organisation WHERE {
  ?signature a cdv:Signature ; cdv:organisation ?organisation .
  ?organisation org:classification ?categorie .
  ?categorie skos:prefLabel "bailleur social"@fr .
}"""


def select(client: FlaskClient, query: str) -> list[dict[str, str]]:
    """The rows of a SELECT over the SPARQL protocol, each variable's value as text."""
    response = client.get("/sparql", query_string={"query": query}, headers={"Accept": SPARQL_JSON})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = json.loads(response.get_data(as_text=True))
    return [{k: v["value"] for k, v in row.items()} for row in body["results"]["bindings"]]


def test_sixteen_signatures_by_fifteen_organisations(client: FlaskClient) -> None:
    [row] = select(client, SIGNING_ORGANISATIONS)
    assert (int(row["signatures"]), int(row["organisations"])) == (16, 15)


def test_the_procureure_signs_for_the_parquet_not_for_the_state(client: FlaskClient) -> None:
    rows = select(
        client,
        """PREFIX cdv: <https://w3id.org/cdv/ontology#>
           PREFIX org: <http://www.w3.org/ns/org#>
           SELECT ?organisation ?postIn ?parent WHERE {
             <DOC/signature/6> cdv:organisation ?organisation ; cdv:poste ?poste .
             ?poste org:postIn ?postIn .
             OPTIONAL { ?organisation org:subOrganizationOf ?parent }
           }""".replace("DOC", DOC),
    )
    assert rows == [{"organisation": PARQUET, "postIn": PARQUET, "parent": ID + "organisation/etat"}]
    # The préfet délégué still signs for the État.
    [prefet] = select(
        client, f"SELECT ?o WHERE {{ <{DOC}/signature/1> <https://w3id.org/cdv/ontology#organisation> ?o }}"
    )
    assert prefet["o"] == ID + "organisation/etat"


def test_the_procureure_is_printed_where_the_parquet_cites_its_passage() -> None:
    # The parquet's passage is lines 864-865, which print her post as it is the parquet's hidden label.
    printed = " ".join(line(n).strip() for n in (864, 865))
    assert printed == "Madame la Procureure de la République d’Avesnes-sur-Helpe"


def test_three_social_landlords_among_the_signatories(client: FlaskClient) -> None:
    rows = select(client, SOCIAL_LANDLORD_SIGNATORIES)
    assert {row["organisation"].removeprefix(ID + "organisation/") for row in rows} == {
        "partenord-habitat",
        "societe-immobiliere-du-grand-hainaut",
        "promocil",
    }


def test_the_actor_bailleurs_sociaux_stands_for_the_same_category(client: FlaskClient) -> None:
    rows = select(
        client,
        f"""SELECT ?acteur WHERE {{ ?acteur <https://w3id.org/cdv/ontology#categorie> <{BAILLEUR_SOCIAL}> }}""",
    )
    assert rows == [{"acteur": ID + "le-quesnoy/acteur/bailleurs-sociaux"}]


@pytest.mark.parametrize(
    ("query", "params", "rows"),
    [
        ("signing-organisations", {}, 15),
        ("signatories-by-category", {}, 3),
        ("signatories-by-category", {"categorie": BAILLEUR_SOCIAL}, 3),
    ],
)
def test_named_queries_answer_the_questions(
    client: FlaskClient, query: str, params: dict[str, str], rows: int
) -> None:
    response = client.get(f"/api/queries/{query}", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert len(response.get_json()) == rows


def test_the_caf_signs_twice_for_one_organisation(client: FlaskClient) -> None:
    rows = client.get("/api/queries/signing-organisations").get_json()
    counts = {row["organisation"].removeprefix(ID + "organisation/"): int(row["signatures"]) for row in rows}
    assert counts["caf-du-nord"] == 2 and sum(counts.values()) == 16


# (the body, how the text names it elsewhere, the ORG property from the second to the first, its inverse)
TWO_NAMES = [
    ("pole-emploi", "pole-emploi-hauts-de-france", "subOrganizationOf", "hasSubOrganization"),
    ("departement-du-nord", "conseil-departemental-du-nord", "unitOf", "hasUnit"),
    ("udaf", "agss-de-l-udaf", "unitOf", "hasUnit"),
    ("etat", "parquet-du-tribunal-judiciaire-d-avesnes-sur-helpe", "subOrganizationOf", "hasSubOrganization"),
]


@pytest.mark.parametrize(("body", "other", "up", "down"), TWO_NAMES)
def test_a_body_named_two_ways_is_linked_both_ways(
    client: FlaskClient, body: str, other: str, up: str, down: str
) -> None:
    org = "http://www.w3.org/ns/org#"
    a, b = ID + "organisation/" + body, ID + "organisation/" + other
    query = f"ASK {{ <{b}> <{org}{up}> <{a}> . <{a}> <{org}{down}> <{b}> }}"
    response = client.get("/sparql", query_string={"query": query}, headers={"Accept": SPARQL_JSON})
    assert json.loads(response.get_data(as_text=True))["boolean"] is True


@pytest.mark.parametrize(("body", "other"), [(b, o) for b, o, _, _ in TWO_NAMES])
def test_each_page_links_to_the_other_name(client: FlaskClient, body: str, other: str) -> None:
    for here, there in ((body, other), (other, body)):
        page = client.get(f"/id/organisation/{here}", headers={"Accept": "text/html"}).get_data(as_text=True)
        assert re.search(rf'href="[^"]*/id/organisation/{re.escape(there)}"', page), f"{here} → {there}"


def test_quoted_text_keeps_its_typos(client: FlaskClient) -> None:
    """ "comité de l’administration régional" (sic), line 325: the label is the printed words, not a correction."""
    [row] = select(
        client,
        f"""SELECT ?label WHERE {{ <{ID}organisation/comite-de-l-administration-regionale>
              <http://www.w3.org/2000/01/rdf-schema#label> ?label }}""",
    )
    assert row["label"] == "comité de l’administration régional"
    assert row["label"] in line(325)
