"""The README lists every named query of queries/ with its purpose, and nothing else."""

from __future__ import annotations

import re

from server.core.config import PROJECT_ROOT
from server.core.library import load_library

ROW = re.compile(r"^\| `(?P<name>[a-z0-9-]+)` \| (?P<purpose>[^|]+?) \|$")


def readme_queries() -> dict[str, str]:
    """The query table of the README's "Named queries" section: name → purpose."""
    text = (PROJECT_ROOT / "README.md").read_text("utf-8")
    section = text.split("## Named queries", 1)[1].split("\n## ", 1)[0]
    table = section.split("| query | purpose |", 1)[1].split("\n\n", 1)[0]
    return {m["name"]: m["purpose"] for m in map(ROW.match, table.splitlines()) if m}


def test_readme_lists_exactly_the_queries_of_the_library() -> None:
    listed = readme_queries()
    names = {query.name for query in load_library(PROJECT_ROOT / "queries")}
    assert set(listed) == names, {"missing": names - set(listed), "not a query": set(listed) - names}


def test_every_listed_query_has_a_purpose() -> None:
    assert all(len(purpose.split()) >= 4 for purpose in readme_queries().values())


def test_readme_documents_the_routes_and_the_command() -> None:
    text = (PROJECT_ROOT / "README.md").read_text("utf-8")
    for route in (
        "/queries",
        "/queries/<name>",
        "/api/queries",
        "/api/queries/<name>",
        "/api/openapi.json",
        "/api/docs",
    ):
        assert f"`GET {route}" in text, route
    assert "`cdv query [NAME]" in text
