"""Which resources the build computes the pages of, and how the incoming query's rows become links.

That those pages are the ones the queries give is tested on a 31-document build (tests/test_build_scale.py).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pyoxigraph as ox
import pytest

from server.engine.shared_descriptions import (
    FILENAME,
    SharedDescriptions,
    by_link,
    shared_descriptions_of,
    shared_resources,
    write_shared_descriptions,
)
from server.engine.store import EmbeddedStore

ID, GRAPH = "https://w3id.org/cdv/id/", "https://w3id.org/cdv/graph/"
SKIPPED = [GRAPH + "ontology", GRAPH + "metadata"]
TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
LINK = ox.NamedNode("https://w3id.org/cdv/ontology#mentionne")
THING = ox.NamedNode("https://w3id.org/cdv/ontology#Chose")


def quad(subject: str, predicate: ox.NamedNode, obj: ox.NamedNode | str, graph: str) -> ox.Quad:
    target = ox.NamedNode(ID + obj) if isinstance(obj, str) else obj
    return ox.Quad(ox.NamedNode(ID + subject), predicate, target, ox.NamedNode(GRAPH + graph))


# (quads, shared): the resource `r` is shared when two document graphs name it, the ontology's and the
# catalogue's graphs not counted
CASES = [
    ([quad("r", TYPE, THING, "a/doc"), quad("r", TYPE, THING, "b/doc")], True),  # described in two
    ([quad("x", LINK, "r", "a/doc"), quad("y", LINK, "r", "b/doc")], True),  # linked to from two
    (
        [quad("r", TYPE, THING, "a/doc"), quad("y", LINK, "r", "b/doc")],
        True,
    ),  # described in one, linked from another
    ([quad("r", TYPE, THING, "a/doc"), quad("x", LINK, "r", "a/doc")], False),  # one document
    ([quad("r", TYPE, THING, "a/doc"), quad("r", TYPE, THING, "metadata")], False),  # and the catalogue
    ([quad("r", TYPE, THING, "a/doc"), quad("x", LINK, "r", "ontology")], False),  # and the ontology
    ([quad("r#L1", TYPE, THING, "a/doc"), quad("r#L1", TYPE, THING, "b/doc")], False),  # a fragment: no page
]


@pytest.mark.parametrize(("quads", "shared"), CASES)
def test_a_resource_is_shared_when_two_document_graphs_name_it(quads: list[ox.Quad], shared: bool) -> None:
    store = ox.Store()
    store.extend(quads)
    found = shared_resources(EmbeddedStore(store, "test"), ID, SKIPPED)
    assert found == ([ID + "r"] if shared else [])


def rows(*links: tuple[str | None, str | None, str]) -> list[ox.QuerySolution]:
    """Rows of ?s ?p ?lo as the incoming query gives them (None: unbound)."""

    def term(value: str | None) -> str:
        return "UNDEF" if value is None else f"<{ID}{value}>"

    body = " ".join(f"({term(s)} {term(p)} {term(lo)})" for s, p, lo in links)
    return list(ox.Store().query(f"SELECT ?s ?p ?lo WHERE {{ VALUES (?s ?p ?lo) {{ {body} }} }}"))


BY_LINK = [
    ([(None, None, "n")], []),  # the total alone: no link
    ([("a", "p", "1"), ("a", "p", "2")], [["1", "2"]]),  # one link, two rows
    ([("a", "p", "1"), ("b", "p", "1"), ("a", "q", "1"), ("a", "q", "2")], [["1"], ["1"], ["1", "2"]]),
]


@pytest.mark.parametrize(("given", "links"), BY_LINK)
def test_the_rows_of_a_link_are_grouped_in_their_order(given: list, links: list[list[str]]) -> None:
    grouped = by_link(rows(*given))
    assert [[row["lo"].value.removeprefix(ID) for row in link] for link in grouped] == links


def test_a_file_written_before_names_has_none_and_pages_ask_the_store(tmp_path: Path) -> None:
    """A release built before the file held names: `names` finds none (the label query asks the store)."""
    store = ox.Store()
    store.extend([quad("r", TYPE, THING, "a/doc"), quad("r", TYPE, THING, "b/doc")])
    path = tmp_path / "shared.sqlite"
    backend = EmbeddedStore(store, "test")
    options = {"cdv": "https://w3id.org/cdv/ontology#", "id_base": ID, "graph_base": GRAPH}
    assert write_shared_descriptions(backend, path, **options, skip_graphs=SKIPPED, build_id="b") == 1
    assert set(SharedDescriptions(path).names([ID + "r", ID + "x"])) == {ID + "r"}
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE names")
    assert SharedDescriptions(path).names([ID + "r"]) == {}


@pytest.mark.parametrize(("quads", "held"), [(CASES[0][0], True), (CASES[3][0], False)], ids=["two", "one"])
def test_a_file_of_no_shared_resource_is_not_looked_up(tmp_path: Path, quads: list, held: bool) -> None:
    """A build of one document names nothing in two: its pages ask the store, with no lookup in the file."""
    store = ox.Store()
    store.extend(quads)
    backend = EmbeddedStore(store, "test", tmp_path / "store")
    options = {"cdv": "https://w3id.org/cdv/ontology#", "id_base": ID, "graph_base": GRAPH}
    write_shared_descriptions(backend, tmp_path / FILENAME, **options, skip_graphs=SKIPPED, build_id="b")
    assert (tmp_path / FILENAME).is_file()
    assert (shared_descriptions_of(backend) is not None) is held
