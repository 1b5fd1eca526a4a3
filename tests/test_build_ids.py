"""Build ids: the build writes them, the server reads back when the build was made (Last-Modified)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from server.core.build_ids import built_at, new_build_id


@pytest.mark.parametrize(
    "made",
    [
        datetime(2026, 12, 3, 6, 30, 1, 123456, tzinfo=UTC),
        datetime(2026, 12, 3, 7, 30, 1, 123456, tzinfo=timezone(timedelta(hours=1))),  # the same instant
    ],
)
def test_a_build_id_says_when_its_build_was_made(made: datetime) -> None:
    build_id = new_build_id(made, "caafd1e2e9d4a7")
    assert build_id == "20261203T063001123456Z-caafd1e2e9"
    assert built_at(build_id) == made


@pytest.mark.parametrize("foreign", ["", "unversioned", "2026-12-03", "virtuoso-7.2"])
def test_another_engines_id_has_no_date(foreign: str) -> None:
    assert built_at(foreign) is None
