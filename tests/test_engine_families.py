"""Two engines, one answer, family by family: every request family of tests/engine_families.py sent to the
embedded store, Oxigraph server and Virtuoso (the same build), each answer compared with the embedded one as
its family says (bytes, graph isomorphism, multiset of solutions). A backend may differ only where
DIFFERENCES says why (and docs/deploy.md says it to operators). A documented difference may come and go
(Virtuoso's row order varies from one load to the next), so only an undocumented one fails.
benchmarks/engines.py prints the same table.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask.testing import FlaskClient

from server.core.config import Settings
from server.web.app import create_app

from .conftest import ENGINES
from .engine_families import BACKENDS, DIFFERENCES, Family, families, same_as_embedded

TIME_LIMIT = 2.0  # seconds: the time-limit family's runaway query is stopped quickly on every backend


@pytest.fixture(scope="module")
def by_backend(settings: Settings, request: pytest.FixtureRequest) -> dict[str, FlaskClient]:
    """A client per backend, every app with the same settings but its engine."""
    short = replace(settings, query_timeout=TIME_LIMIT)
    endpoints = {"embedded": None} | {
        name: request.getfixturevalue(fixture) for name, fixture in ENGINES.items()
    }
    clients = {
        name: create_app(replace(short, endpoint=url)).test_client() for name, url in endpoints.items()
    }
    for client in clients.values():  # the first query starts the embedded query processes
        client.post("/sparql", data={"query": "ASK {}"})
    return clients


def test_every_backend_is_in_the_table() -> None:
    assert set(BACKENDS) == {"embedded", *ENGINES}
    names = [family.name for family in families()]
    assert len(names) == len(set(names))
    assert {name for name, _ in DIFFERENCES} <= set(names)


@pytest.mark.parametrize("family", families(), ids=lambda family: f"{family.group}: {family.name}")
def test_each_family_gives_the_embedded_answer_or_a_documented_difference(
    family: Family, by_backend: dict[str, FlaskClient]
) -> None:
    outcome = same_as_embedded(family, by_backend)
    differ = {backend for backend, (_, same) in outcome.items() if not same}
    assert differ <= {backend for name, backend in DIFFERENCES if name == family.name}, outcome
