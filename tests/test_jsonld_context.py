"""The JSON-LD context of the ontology (ontology/context.json): every cdv term, and data round-trips."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import graph_diff, isomorphic, to_isomorphic
from rdflib.namespace import XSD

from server.core.config import PROJECT_ROOT
from server.core.jsonld_context import CDV, CONTEXT_FILE, build_context, cdv_terms, render
from server.core.rdfio import load_rdflib, rdf_files

ONTOLOGY = PROJECT_ROOT / "ontology"
CONTEXT = ONTOLOGY / CONTEXT_FILE


def _context() -> dict[str, object]:
    return json.loads(CONTEXT.read_text("utf-8"))["@context"]


def _ontology() -> rdflib.Graph:
    return load_rdflib(p for p in rdf_files([ONTOLOGY]) if p.suffix == ".ttl")


def test_the_file_is_generated_from_the_current_ontology() -> None:
    assert CONTEXT.read_text("utf-8") == render(ONTOLOGY), "run: python -m server.core.jsonld_context"


def test_every_cdv_term_of_the_ontology_is_in_the_context() -> None:
    terms = cdv_terms(_ontology())
    assert len(terms) > 40
    context = _context()
    missing = [t for t in terms if str(t)[len(CDV) :] not in context]
    assert missing == []
    assert build_context(_ontology())["@context"] == context


@pytest.mark.parametrize(
    ("term", "definition"),
    [
        ("Mesure", "cdv:Mesure"),
        ("parent", {"@id": "cdv:parent", "@type": "@id"}),
        ("numero", {"@id": "cdv:numero", "@type": "xsd:integer"}),
        ("texte", {"@id": "cdv:texte", "@language": "fr"}),
        ("dateFin", {"@id": "cdv:dateFin", "@type": "xsd:date"}),
    ],
)
def test_term_definitions(term: str, definition: object) -> None:
    assert _context()[term] == definition


def _from_oxigraph(quads: Iterator[ox.Quad]) -> rdflib.Graph:
    """An rdflib graph of pyoxigraph's triples (xsd:string literals written plain, as in RDF 1.1)."""

    def term(node: ox.NamedNode | ox.BlankNode | ox.Literal) -> rdflib.term.Node:
        if isinstance(node, ox.NamedNode):
            return rdflib.URIRef(node.value)
        if isinstance(node, ox.BlankNode):
            return rdflib.BNode(node.value)
        if node.language:
            return rdflib.Literal(node.value, lang=node.language)
        datatype = rdflib.URIRef(node.datatype.value)
        return rdflib.Literal(node.value, datatype=None if datatype == XSD.string else datatype)

    graph = rdflib.Graph()
    for quad in quads:
        graph.add((term(quad.subject), term(quad.predicate), term(quad.object)))  # type: ignore[arg-type]
    return graph


@pytest.mark.parametrize(
    "files",
    [
        sorted((PROJECT_ROOT / "data" / "le-quesnoy" / "avenant-2020-2022").glob("*.ttl")),
        [PROJECT_ROOT / "tests" / "fixtures" / "protocols" / "argenval.expected.ttl"],
    ],
    ids=["le-quesnoy", "argenval-draft"],
)
def test_data_compacted_with_the_context_expands_back_to_the_same_graph(files: list[Path]) -> None:
    graph = load_rdflib(files)
    compact = graph.serialize(format="json-ld", context=_context(), auto_compact=True)
    document = json.loads(compact)
    keys = {key for node in document["@graph"] for key in node}
    assert not [k for k in keys if k.startswith("cdv:")], "every cdv property is a term of the context"
    assert {"parent", "ordre", "passage"} <= keys
    expanded = _from_oxigraph(ox.parse(compact.encode("utf-8"), format=ox.RdfFormat.JSON_LD))
    _, lost, added = graph_diff(to_isomorphic(graph), to_isomorphic(expanded))
    assert isomorphic(graph, expanded), f"lost {sorted(lost)[:3]}, added {sorted(added)[:3]}"
