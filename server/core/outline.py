"""The home page's content: every document in the store as an outline, with its partners and signatories.

Three queries whatever the number of documents; the tree is built in Python (pure `build_outlines`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from server.core import rdf as ox
from server.core.backend import Backend
from server.core.describe import sparql_prefixes
from server.core.presentation import sort_key

STRUCTURE = ("Axe", "Thematique", "Objectif", "Mesure")  # the classes of the outline, top down


@dataclass
class Node:
    """An axis, thematic, objective or measure, and what it contains."""

    iri: str
    kind: str  # local name of the class: "Axe", "Thematique", "Objectif", "Mesure"
    label: str
    notation: str | None = None
    order: int = 0
    text: str | None = None
    parent: str | None = None
    children: list[Node] = field(default_factory=list)

    @property
    def measures(self) -> int:
        """How many measures this node holds (itself included)."""
        return (self.kind == "Mesure") + sum(child.measures for child in self.children)


@dataclass(frozen=True)
class Person:
    """A signatory or a partner organisation, in document order."""

    order: int
    iri: str | None
    name: str
    role: str | None = None  # the heading as printed ("Madame le Maire du Quesnoy") or the post
    org_iri: str | None = None
    org: str | None = None


@dataclass
class Document:
    """One avenant: its title, period, neighbourhoods, outline, partners and signatories."""

    iri: str
    label: str
    title: str | None = None
    start: str | None = None
    end: str | None = None
    places: dict[str, str] = field(default_factory=dict)
    axes: list[Node] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    partners: list[Person] = field(default_factory=list)
    signatories: list[Person] = field(default_factory=list)


def _structure_query(cdv: str) -> str:
    # FILTER … IN, not VALUES: pyoxigraph joins VALUES first and looked up every element of each class in
    # every document (0.9 s for one document's page at 1,000 documents, 14 ms now)
    classes = ", ".join(f"cdv:{name}" for name in STRUCTURE)
    return (
        sparql_prefixes(cdv)
        + f"""SELECT ?doc ?x ?class ?parent ?order ?notation ?label ?text WHERE {{
  ?doc a cdv:Avenant .
  ?x cdv:avenant ?doc ; a ?class .
  FILTER(?class IN ({classes}))
  OPTIONAL {{ ?x cdv:parent ?parent }}
  OPTIONAL {{ ?x cdv:ordre ?order }}
  OPTIONAL {{ ?x skos:notation ?notation }}
  OPTIONAL {{ ?x rdfs:label ?label FILTER(LANG(?label) IN ("fr", "")) }}
  OPTIONAL {{ ?x cdv:texte ?text }}
}}"""
    )


def _documents_query(cdv: str) -> str:
    return (
        sparql_prefixes(cdv)
        + """SELECT ?doc ?label ?title ?start ?end ?place ?placeLabel WHERE {
  ?doc a cdv:Avenant .
  OPTIONAL { ?doc rdfs:label ?label FILTER(LANG(?label) IN ("fr", "")) }
  OPTIONAL { ?doc dcterms:title ?title FILTER(LANG(?title) IN ("fr", "")) }
  OPTIONAL { ?doc dcterms:temporal ?period . OPTIONAL { ?period dcat:startDate ?start } OPTIONAL { ?period dcat:endDate ?end } }
  OPTIONAL { ?doc cdv:quartier ?place . OPTIONAL { ?place rdfs:label ?placeLabel FILTER(LANG(?placeLabel) IN ("fr", "")) } }
}"""
    )


def _people_query(cdv: str) -> str:
    # The organisation's label is looked up in each branch, where ?org is bound: after the UNION, pyoxigraph
    # read every label of the store and joined (3 s for one document's page at 1,000 documents, 32 ms now)
    return (
        sparql_prefixes(cdv)
        + """SELECT ?doc ?kind ?x ?order ?heading ?person ?name ?post ?postLabel ?org ?orgLabel WHERE {
  {
    ?doc a cdv:Avenant . ?x cdv:avenant ?doc ; a cdv:Signature . BIND("signature" AS ?kind)
    OPTIONAL { ?x cdv:ordre ?order }
    OPTIONAL { ?x rdfs:label ?heading FILTER(LANG(?heading) IN ("fr", "")) }
    OPTIONAL { ?x cdv:signataire ?person . OPTIONAL { ?person foaf:name ?name } }
    OPTIONAL { ?x cdv:poste ?post . OPTIONAL { ?post rdfs:label ?postLabel FILTER(LANG(?postLabel) IN ("fr", "")) } }
    OPTIONAL { ?x cdv:organisation ?org . OPTIONAL { ?org rdfs:label|foaf:name ?orgLabel FILTER(LANG(?orgLabel) IN ("fr", "")) } }
  }
  UNION {
    ?doc a cdv:Avenant . ?x cdv:avenant ?doc ; a cdv:Contribution ; prov:wasAttributedTo ?org . BIND("partner" AS ?kind)
    OPTIONAL { ?x cdv:ordre ?order }
    OPTIONAL { ?org rdfs:label|foaf:name ?orgLabel FILTER(LANG(?orgLabel) IN ("fr", "")) }
  }
}"""
    )


def _v(row: ox.QuerySolution, name: str) -> str | None:
    term = row[name]
    return term.value if term is not None else None


def _int(text: str | None) -> int:
    try:
        return int(text) if text is not None else 0
    except ValueError:
        return 0


def build_outlines(
    documents: Iterable[Mapping[str, str | None]],
    structure: Iterable[Mapping[str, str | None]],
    people: Iterable[Mapping[str, str | None]],
    cdv: str,
) -> list[Document]:
    """Pure: rows of the three queries → one Document per avenant, its tree sorted in reading order."""
    docs: dict[str, Document] = {}
    for row in documents:
        doc = docs.setdefault(row["doc"] or "", Document(row["doc"] or "", row["label"] or row["doc"] or ""))
        doc.title = doc.title or row["title"]
        doc.start, doc.end = doc.start or row["start"], doc.end or row["end"]
        if row["place"]:
            doc.places.setdefault(row["place"], row["placeLabel"] or row["place"])
    nodes: dict[str, Node] = {}
    owner: dict[str, str] = {}
    for row in structure:
        iri = row["x"] or ""
        kind = (row["class"] or "")[len(cdv) :]
        node = nodes.get(iri)
        if node is None or STRUCTURE.index(kind) > STRUCTURE.index(node.kind):
            nodes[iri] = Node(
                iri, kind, row["label"] or "", row["notation"], _int(row["order"]), row["text"], row["parent"]
            )
            owner[iri] = row["doc"] or ""
    for node in nodes.values():
        doc = docs.get(owner[node.iri])
        if doc is None:
            continue
        doc.counts[node.kind] = doc.counts.get(node.kind, 0) + 1
        parent = nodes.get(node.parent or "")
        (parent.children if parent is not None else doc.axes).append(node)
    for children in [*(n.children for n in nodes.values()), *(d.axes for d in docs.values())]:
        children.sort(key=lambda n: (STRUCTURE.index(n.kind), n.order, n.iri))
    _add_people(docs, people)
    return sorted(docs.values(), key=lambda d: sort_key(d.label))


def _add_people(docs: dict[str, Document], people: Iterable[Mapping[str, str | None]]) -> None:
    seen: set[tuple[str, str]] = set()
    for row in people:
        doc = docs.get(row["doc"] or "")
        key = (row["kind"] or "", row["x"] or "")
        if doc is None or key in seen:
            continue
        seen.add(key)
        if row["kind"] == "signature":
            doc.signatories.append(
                Person(
                    _int(row["order"]),
                    row["person"],
                    row["name"] or row["heading"] or "",
                    row["heading"] or row["postLabel"],
                    row["org"],
                    row["orgLabel"],
                )
            )
        else:
            doc.partners.append(Person(_int(row["order"]), row["org"], row["orgLabel"] or row["org"] or ""))
    for doc in docs.values():
        doc.signatories.sort(key=lambda p: (p.order, sort_key(p.name)))
        doc.partners.sort(key=lambda p: (p.order, sort_key(p.name)))


def home_outline(store: Backend, cdv: str, document: str | None = None) -> list[Document]:
    """The published documents (or one `document`): one query lists them; when there is one, two more give
    its structure, partners and signatories. With several, each outline stays on its document's page: the
    outlines of every document would make the home page grow with the graph (30,000 measures at 1,000
    documents)."""
    bindings = {"doc": ox.NamedNode(document)} if document else None

    def rows(query: str) -> list[dict[str, str | None]]:
        result = store.query(query, substitutions=bindings)
        names = [v.value for v in result.variables]
        return [{name: _v(row, name) for name in names} for row in result]

    documents = rows(_documents_query(cdv))
    if len({row["doc"] for row in documents}) > 1:
        return build_outlines(documents, [], [], cdv)
    return build_outlines(documents, rows(_structure_query(cdv)), rows(_people_query(cdv)), cdv)
