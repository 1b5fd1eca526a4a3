"""Fuzz the named-query API from its own OpenAPI document, against the real server process (gunicorn).

Schemathesis generates requests from the document, valid ones and invalid ones, and checks every answer:
no 500, a documented status code and media type, a body valid against the documented schema, invalid
requests rejected and valid ones accepted. Bounded: a few examples per operation and mode.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from server.core.config import PROJECT_ROOT
from server.core.library import load_library

from .servers import LiveServer

pytestmark = pytest.mark.live

POSITIVE, NEGATIVE = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE
LIBRARY = load_library(PROJECT_ROOT / "queries")
QUERY_PATHS = [f"/api/queries/{q.name}" for q in LIBRARY]
# A search text's grammar (balanced quotes, `*` only after a word) is not a regular language a JSON schema
# can state: for these queries a schema-valid text may still be malformed, and must then get the documented
# 400 of the search syntax, naming the parameter.
SEARCHED = {f"/api/queries/{q.name}": q.engine.param for q in LIBRARY if q.engine is not None}
# The listing takes no parameter: there is no invalid request to make of it.
CASES = [("/api/queries", POSITIVE)] + [(path, mode) for path in QUERY_PATHS for mode in (POSITIVE, NEGATIVE)]
BOUNDED = settings(max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def api_schema(live_server: LiveServer) -> schemathesis.BaseSchema:
    """The OpenAPI document as the live server serves it."""
    return schemathesis.openapi.from_url(f"{live_server.url}/api/openapi.json")


@pytest.mark.parametrize(("path", "mode"), CASES, ids=[f"{p}-{m.value}" for p, m in CASES])
def test_api_answers_as_documented(
    api_schema: schemathesis.BaseSchema, path: str, mode: schemathesis.GenerationMode
) -> None:
    operation = api_schema.find_operation_by_path("GET", path)
    assert operation is not None, f"{path} is not in the OpenAPI document"

    @BOUNDED
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: schemathesis.Case) -> None:
        if path not in SEARCHED or mode is not POSITIVE:
            case.call_and_validate(timeout=30)
            return
        response = case.call_and_validate(timeout=30, excluded_checks=[positive_data_acceptance])
        assert response.status_code in (200, 400), response.text
        if response.status_code == 400:
            assert response.text.startswith(f"texte recherché {SEARCHED[path]!r} : "), response.text

    check()
