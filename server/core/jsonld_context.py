"""Generate the JSON-LD context of the cdv ontology (ontology/context.json) from ontology/*.ttl.

Run `python -m server.core.jsonld_context` after changing the ontology; tests/test_jsonld_context.py checks the
file still names every cdv term. Each class becomes a term; each object property a term whose values are
IRIs ("@type": "@id"); each datatype property a term typed with its range (xsd:integer, xsd:date…), French
text for rdf:langString ranges, since every text of the graph is French.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import rdflib
from rdflib.namespace import OWL, RDF, RDFS, XSD

from server.core.config import PROJECT_ROOT
from server.core.rdfio import load_rdflib, rdf_files
from server.core.vocab import DATA, prefixes

CDV = "https://w3id.org/cdv/ontology#"
PREFIXES = prefixes("cdv", *DATA)
# Not ".jsonld": folders of RDF files are loaded whole (server.core.rdfio.rdf_files), and a context is no data.
CONTEXT_FILE = "context.json"


def _curie(iri: rdflib.URIRef) -> str:
    """The prefixed name of an IRI under one of PREFIXES, else the IRI."""
    for prefix, namespace in sorted(PREFIXES.items(), key=lambda item: -len(item[1])):
        if str(iri).startswith(namespace):
            return f"{prefix}:{str(iri)[len(namespace) :]}"
    return str(iri)


def term_definition(ontology: rdflib.Graph, term: rdflib.URIRef) -> str | dict[str, str] | None:
    """How the context defines one cdv term; None if the ontology does not declare it."""
    kinds = set(ontology.objects(term, RDF.type))
    curie = _curie(term)
    if OWL.Class in kinds or RDFS.Class in kinds:
        return curie
    if OWL.ObjectProperty in kinds:
        return {"@id": curie, "@type": "@id"}
    if OWL.DatatypeProperty in kinds:
        ranges = set(ontology.objects(term, RDFS.range))
        if RDF.langString in ranges:
            return {"@id": curie, "@language": "fr"}
        if len(ranges) == 1 and XSD.string not in ranges:  # a plain JSON string already is an xsd:string
            return {"@id": curie, "@type": _curie(next(iter(ranges)))}
        return {"@id": curie}
    return None


def cdv_terms(ontology: rdflib.Graph) -> list[rdflib.URIRef]:
    """Every class and property of the cdv namespace the ontology declares, sorted."""
    declared = {
        s
        for kind in (OWL.Class, RDFS.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
        for s in ontology.subjects(RDF.type, kind)
    }
    return sorted(t for t in declared if isinstance(t, rdflib.URIRef) and str(t).startswith(CDV))


def build_context(ontology: rdflib.Graph) -> dict[str, object]:
    """The JSON-LD context document: prefixes, then one term per cdv class and property."""
    context: dict[str, object] = dict(PREFIXES)
    for term in cdv_terms(ontology):
        definition = term_definition(ontology, term)
        if definition is not None:
            context[str(term)[len(CDV) :]] = definition
    return {"@context": context}


def render(ontology_dir: Path) -> str:
    """The context file's text for the ontology in `ontology_dir`."""
    ontology = load_rdflib(p for p in rdf_files([ontology_dir]) if p.suffix == ".ttl")
    return json.dumps(build_context(ontology), ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write ontology/context.json (or context.json in the folder given as argument)."""
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else PROJECT_ROOT / "ontology"
    (folder / CONTEXT_FILE).write_text(render(folder), "utf-8")
    print(f"wrote {folder / CONTEXT_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
