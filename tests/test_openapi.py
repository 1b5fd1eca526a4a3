"""The OpenAPI 3.1 document: generated from the query headers, valid by a spec validator, true to the API."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import jsonschema
import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from server import __version__
from server.core.config import PROJECT_ROOT, Settings
from server.core.library import load_library, parse_query
from server.web.app import create_app
from server.web.openapi import document

LIBRARY = load_library(PROJECT_ROOT / "queries")
POLE_EMPLOI = "https://w3id.org/cdv/id/organisation/pole-emploi"
DOC = "https://w3id.org/cdv/id/le-quesnoy/avenant-2020-2022"

SMALL_QUERY = """# title@fr: Essai
# title@en: Trial
# description@en: A query with one parameter of each type.
# param: chose iri values=instances(<http://example.org/C>) -- a thing
# param: texte string
# param: nombre integer
# param: jour date
# tags: essai
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
SELECT ?chose ?texte ?nombre ?jour WHERE {
  VALUES (?chose ?texte ?nombre ?jour) { (<http://example.org/a> "x" 3 "2020-01-02"^^xsd:date) }
}
"""


@pytest.fixture(scope="module")
def served(app: Flask) -> dict[str, Any]:
    response = app.test_client().get("/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def test_generated_document_is_valid_openapi_31_without_a_store() -> None:
    doc = document(LIBRARY, {}, "http://127.0.0.1:8000", "0.0.0")
    validate(doc, cls=OpenAPIV31SpecValidator)
    assert doc["openapi"].startswith("3.1")


def test_parameter_schemas_follow_the_header_types() -> None:
    query = parse_query("essai", SMALL_QUERY)
    doc = document([query], {"essai": {"chose": ["http://example.org/a", "http://example.org/b"]}}, "/", "1")
    validate(doc, cls=OpenAPIV31SpecValidator)
    params = {p["name"]: p for p in doc["paths"]["/api/queries/essai"]["get"]["parameters"]}
    assert params["chose"]["schema"] == {
        "type": "string",
        "format": "iri",
        "default": "http://example.org/a",
        "enum": ["http://example.org/a", "http://example.org/b"],
    }
    assert params["texte"]["schema"] == {"type": "string", "default": "x"}
    assert params["nombre"]["schema"]["type"] == "integer" and params["nombre"]["schema"]["default"] == 3
    assert params["jour"]["schema"] == {"type": "string", "format": "date", "default": "2020-01-02"}
    assert params["format"]["schema"]["enum"] == ["json", "sparql-json", "csv", "tsv"]
    assert all(not p["required"] for p in params.values())


def test_served_document_is_valid_and_has_one_path_per_query(served: dict[str, Any]) -> None:
    validate(served, cls=OpenAPIV31SpecValidator)
    assert served["info"]["version"] == __version__
    queries = {f"/api/queries/{q.name}" for q in LIBRARY}
    assert set(served["paths"]) == {"/api/queries", "/api/queries/{name}/parameters/{param}"} | queries


def test_enums_are_computed_from_the_data(served: dict[str, Any]) -> None:
    get = served["paths"]["/api/queries/measures-naming-organisation"]["get"]
    organisation = next(p for p in get["parameters"] if p["name"] == "organisation")
    assert organisation["schema"]["default"] == POLE_EMPLOI
    assert POLE_EMPLOI in organisation["schema"]["enum"]
    assert len(organisation["schema"]["enum"]) > 10
    numero = next(
        p
        for p in served["paths"]["/api/queries/measure-source"]["get"]["parameters"]
        if p["name"] == "numero"
    )
    assert numero["schema"]["enum"] == list(range(1, 33))


def test_response_media_types_are_documented(served: dict[str, Any]) -> None:
    for query in LIBRARY:
        responses = served["paths"][f"/api/queries/{query.name}"]["get"]["responses"]
        assert set(responses["200"]["content"]) == {
            "application/json",
            "application/sparql-results+json",
            "text/csv",
            "text/tab-separated-values",
        }
        assert {"400", "406"} <= set(responses)


@pytest.mark.parametrize("query", LIBRARY, ids=lambda q: q.name)
def test_every_answer_matches_its_documented_schemas(
    client: FlaskClient, served: dict[str, Any], query: Any
) -> None:
    content = served["paths"][f"/api/queries/{query.name}"]["get"]["responses"]["200"]["content"]
    records = client.get(f"/api/queries/{query.name}")
    jsonschema.validate(records.get_json(), content["application/json"]["schema"])
    sparql = client.get(f"/api/queries/{query.name}", headers={"Accept": "application/sparql-results+json"})
    jsonschema.validate(sparql.get_json(force=True), content["application/sparql-results+json"]["schema"])


def test_library_listing_matches_its_schema(client: FlaskClient, served: dict[str, Any]) -> None:
    schema = served["paths"]["/api/queries"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    jsonschema.validate(client.get("/api/queries").get_json(), schema)


def test_past_the_bound_a_parameter_points_to_its_lookup(settings: Settings) -> None:
    """With a bound of 3 values, the organisations (dozens) get no enum but the lookup route, which is in the
    document and answers as its schema says; the one avenant stays listed."""
    client = create_app(replace(settings, choices_bound=3, cache_bytes=0)).test_client()
    served = client.get("/api/openapi.json").get_json()
    validate(served, cls=OpenAPIV31SpecValidator)
    get = served["paths"]["/api/queries/measures-naming-organisation"]["get"]
    organisation = next(p for p in get["parameters"] if p["name"] == "organisation")
    assert "enum" not in organisation["schema"]
    lookup = "/api/queries/measures-naming-organisation/parameters/organisation"
    assert f"`GET {lookup}?q=…`" in organisation["description"]
    avenant = served["paths"]["/api/queries/signatories"]["get"]["parameters"][0]
    assert avenant["schema"]["enum"] == [f"{DOC}"]  # one avenant: under the bound, listed as before
    answer = client.get(lookup, query_string={"q": "pôle"})
    schema = served["paths"]["/api/queries/{name}/parameters/{param}"]["get"]["responses"]["200"]
    jsonschema.validate(answer.get_json(), schema["content"]["application/json"]["schema"])
    assert POLE_EMPLOI in [v["value"] for v in answer.get_json()["values"]]
