"""Parse RDF in tests with rdflib (not the library that wrote it), quads with pyoxigraph."""

from __future__ import annotations

import gzip
import warnings
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import rdflib

RDFLIB_FORMATS = {
    "turtle": "turtle",
    "ntriples": "nt",
    "jsonld": "json-ld",
    "rdfxml": "xml",
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
}


def parse_graph(data: bytes, fmt: str) -> rdflib.Graph:
    """Triples in any of the four formats (by format name or media type); gzip is undone first."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    with warnings.catch_warnings():
        # rdflib's own JSON-LD parser builds a ConjunctiveGraph, which rdflib itself deprecates
        warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
        return rdflib.Graph().parse(data=data, format=RDFLIB_FORMATS[fmt.split(";")[0].strip()])


def parse_quads(data: bytes) -> list[ox.Quad]:
    """N-Quads (rdflib's Dataset parser warns of its own deprecations, so pyoxigraph reads them)."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return list(ox.parse(data, format=ox.RdfFormat.N_QUADS))


def quads_graph(quads: list[ox.Quad]) -> rdflib.Graph:
    """The union of the quads' graphs as one rdflib graph (the merge keeps blank nodes apart by label)."""
    data = ox.serialize((q.triple for q in quads), format=ox.RdfFormat.N_TRIPLES)
    return rdflib.Graph().parse(data=data, format="nt")


def load_turtle(paths: Iterable[Path]) -> rdflib.Graph:
    """One rdflib graph of several Turtle files."""
    graph = rdflib.Graph()
    for path in paths:
        graph.parse(path, format="turtle")
    return graph


@cache
def ontology_graph() -> rdflib.Graph:
    """The project's ontology and concept schemes (every ontology/*.ttl), parsed once per test session."""
    return load_turtle(sorted((Path(__file__).resolve().parent.parent / "ontology").glob("*.ttl")))
