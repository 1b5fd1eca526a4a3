"""What the store says about one resource, in a constant number of queries whatever its number of links.

A page costs at most four queries: the outgoing description (with the labels and types of what it links
to), one page of incoming links (with their count), the labels of the properties and classes it uses, and
the document context (breadcrumb, previous/next, source file). Each is one SPARQL query, never one per link.

A resource named in several documents (a partner, a concept, a territory) has links, passages and sources
in each: those queries grow with the number of documents. The build computes them once for such resources
(server/engine/shared_descriptions.py) and `describe` and `context` take that answer when given one
(`Precomputed`), so its page costs the same whatever the number of documents.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from types import MappingProxyType
from typing import Protocol

from server.core import rdf as ox
from server.core.backend import Backend
from server.core.sparql_rewrite import values
from server.core.vocab import DATA, prefixes

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
DCAT = "http://www.w3.org/ns/dcat#"
FOAF = "http://xmlns.com/foaf/0.1/"
PROV = "http://www.w3.org/ns/prov#"
OA = "http://www.w3.org/ns/oa#"
ELI = "http://data.europa.eu/eli/ontology#"
ORG = "http://www.w3.org/ns/org#"

RDF_TYPE = RDF + "type"

# Prefixes of the serialisations and of the compact names shown in pages; `cdv` is added from the settings.
PREFIXES = prefixes(*DATA, "sd", "void")

VALUES_SHOWN = 50  # values of each of the resource's own properties an HTML page shows (the RDF has them all)

# What names a resource, best first: used for linked resources' labels and for page titles.
LABEL_PROPERTIES: tuple[str, ...] = (
    RDFS + "label",
    SKOS + "prefLabel",
    DCTERMS + "title",
    ELI + "title",
    FOAF + "name",
)


def link_properties(cdv: str) -> tuple[str, ...]:
    """What is fetched for every resource a description links to: enough for a labelled, typed, ordered link."""
    return (*LABEL_PROPERTIES, RDF_TYPE, SKOS + "notation", cdv + "ordre")


def prefixes(cdv_namespace: str) -> dict[str, str]:
    """The serialisation prefixes, with the project's own ontology namespace."""
    return {"cdv": cdv_namespace, **PREFIXES}


def _values(var: str, iris: Iterable[str]) -> str:
    """A VALUES clause built from terms (NamedNode validates and serialises each IRI)."""
    return values([var], ([ox.NamedNode(i)] for i in iris))


def _in(var: str, iris: Iterable[str]) -> str:
    """FILTER(?var IN (…)) built from terms: keeps the engine on the pattern already bound."""
    return f"FILTER(?{var} IN (" + ", ".join(str(ox.NamedNode(i)) for i in iris) + "))"


def sparql_prefixes(cdv_namespace: str) -> str:
    """PREFIX lines for the queries; IRIs serialised by pyoxigraph, never spliced from user input."""
    return "".join(f"PREFIX {name}: {ox.NamedNode(ns)}\n" for name, ns in prefixes(cdv_namespace).items())


def with_prefixes(cdv_namespace: str, body: str) -> str:
    """`body` after the PREFIX lines of the prefixes it uses: pyoxigraph parses every line of a query
    again at each run, and the page's queries run on every request (20 unused lines cost 60 µs a query)."""
    used = {
        name: ns
        for name, ns in prefixes(cdv_namespace).items()
        if re.search(rf"(?<![\w.-]){re.escape(name)}:", body)
    }
    return "".join(f"PREFIX {name}: {ox.NamedNode(ns)}\n" for name, ns in used.items()) + body


@dataclass(frozen=True)
class Description:
    """The description of one resource: its triples, one page of incoming triples, and their count."""

    iri: ox.NamedNode
    outgoing: tuple[ox.Triple, ...]
    incoming: tuple[ox.Triple, ...]
    incoming_total: int
    page: int
    page_size: int
    texts: Mapping[str, str] = field(default_factory=dict)  # cdv:texte of incoming subjects, for HTML only
    # cdv:parent and cdv:mentionne of incoming subjects, for HTML only: the outline of a structural page
    parents: Mapping[str, str] = field(default_factory=dict)
    mentions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # values of the resource's own properties left out of what a page shows (`shown`), by property IRI
    omitted: Mapping[str, int] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        """The store says something about the resource (as subject or object)."""
        return bool(self.outgoing) or self.incoming_total > 0

    @cached_property
    def triples(self) -> list[ox.Triple]:
        """Every triple of the description once: the resource's own first, then by subject, predicate."""
        return sorted(
            dict.fromkeys((*self.outgoing, *self.incoming)),
            key=lambda t: (t.subject != self.iri, str(t.subject), str(t.predicate), str(t.object)),
        )

    @cached_property
    def core(self) -> list[ox.Triple]:
        """The resource's own triples and those of what they reach within two steps (labels and types of
        linked resources, blank nodes, a passage and its selector): the description without its incoming
        links and without the fragments of a document (`…/source#L1-L3`) that nothing of it points at."""
        by_subject: dict[object, list[ox.Triple]] = {}
        for t in self.outgoing:
            by_subject.setdefault(t.subject, []).append(t)
        kept, frontier = [], [self.iri]
        for _step in range(3):
            reached = [t for s in frontier for t in by_subject.pop(s, [])]
            kept += reached
            frontier = [t.object for t in reached if isinstance(t.object, ox.NamedNode | ox.BlankNode)]
        return kept

    @property
    def pages(self) -> int:
        """How many pages the incoming links span (at least 1)."""
        return max(1, -(-self.incoming_total // self.page_size))


def shown(desc: Description, limit: int) -> Description:
    """Pure: the description an HTML page shows: at most `limit` values of each of the resource's own
    properties (its classes all), the first in the order of their N-Triples form, with what those values
    hold (a passage's selector); `omitted` counts the values left out, by property.

    A partner named by every document has one passage and one source per document: its page would quote
    thousands of passages, and read as many source texts, at each request. The RDF variants keep them all.
    """
    own: dict[str, list[ox.Triple]] = {}
    for t in desc.outgoing:
        if t.subject == desc.iri and t.predicate.value != RDF_TYPE:
            own.setdefault(t.predicate.value, []).append(t)
    dropped: set[ox.Triple] = set()
    omitted: dict[str, int] = {}
    for prop, triples in own.items():
        distinct = sorted(dict.fromkeys(triples), key=str)
        if len(distinct) > limit:
            dropped.update(distinct[limit:])
            omitted[prop] = len(distinct) - limit
    if not dropped:
        return desc
    kept = [t for t in desc.outgoing if t not in dropped]
    unreached = _reach(desc.outgoing, {t.object for t in dropped}) - _reach(kept, _roots(desc.iri, kept))
    outgoing = tuple(t for t in kept if t.subject not in unreached)
    return replace(desc, outgoing=outgoing, omitted=MappingProxyType(omitted))


def _roots(iri: ox.NamedNode, triples: Iterable[ox.Triple]) -> set[object]:
    """What a page shows from: the resource, and its own fragments (a document's passages)."""
    fragment = iri.value + "#"
    return {iri} | {
        t.subject
        for t in triples
        if isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(fragment)
    }


def _reach(triples: Iterable[ox.Triple], start: set[object], steps: int = 3) -> set[object]:
    """The subjects reached from `start` in `steps` steps along `triples` (the outgoing query's depth)."""
    by_subject: dict[object, list[ox.Triple]] = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)
    reached, frontier = set(start), set(start)
    for _step in range(steps):
        frontier = {t.object for s in frontier for t in by_subject.get(s, ())} - reached
        reached |= frontier
    return reached


@lru_cache(maxsize=64)
def outgoing_query(cdv: str, id_base: str, graph_base: str) -> str:
    # Blank nodes and our own hash IRIs (passages `…/source#L1-L3`) have no page of their own: their
    # triples, and those of the blank nodes they hold (a passage's selector), are part of the description
    # of the resource that points at them, or of the document they are a fragment of. Each branch starts
    # from ?r so the engine walks out from the resource (FILTER … IN, not VALUES: pyoxigraph joins VALUES
    # before the bound pattern and scans the store). What ?n holds is read once for both kinds of ?n: four
    # branches (each kind of ?n, then its triples or its blank nodes') cost pyoxigraph 30 % more.
    # What it links to is named (labels, types, order) as the graph holding the link names it, and as the
    # ontology's and the metadata graphs do (the concepts, the ontology's terms, the documents' titles), those
    # two by name: asked of the union default graph, a partner described alike in every document gave its
    # names once per document (300 resources drawn from the 187,931 of 1,000 documents: 10 ms a query, 0.8
    # read this way; 0.47 and 0.58 at N = 1, where the longer query costs its parsing). The same answers
    # for every resource of N = 1 and of 31 documents (tests/test_build_scale.py) and the 300. As in the
    # incoming query, a resource described only in another document's graph is not named.
    held = f'?r ?p0 ?n . FILTER(isBlank(?n) || (STRSTARTS(STR(?n), {ox.Literal(id_base)}) && CONTAINS(STR(?n), "#")))'
    fragment = '?n ?l0 ?r . FILTER(isIRI(?n) && STRSTARTS(STR(?n), CONCAT(STR(?r), "#")))'
    blank = "?n ?nb ?b . FILTER(isBlank(?b)) ?b ?bp ?bo ."
    names = f"?o ?lp ?lo . {_in('lp', link_properties(cdv))}"
    ontology, metadata = (ox.NamedNode(graph_base + name) for name in ("ontology", "metadata"))
    named = f"{{ GRAPH ?g {{ {names} }} }} UNION {{ GRAPH {ontology} {{ {names} }} }} UNION {{ GRAPH {metadata} {{ {names} }} }}"
    return with_prefixes(
        cdv,
        f"""CONSTRUCT {{ ?r ?p ?o . ?o ?lp ?lo . ?n ?np ?no . ?b ?bp ?bo . }}
WHERE {{
  {{ ?r ?p ?o }}
  UNION {{ GRAPH ?g {{ ?r ?p ?o . FILTER(isIRI(?o) && ?p != rdf:type) }} {named} }}
  UNION {{ {{ {{ {held} }} UNION {{ {fragment} }} }} {{ ?n ?np ?no . }} UNION {{ {blank} }} }}
}}""",
    )


@lru_cache(maxsize=64)
def incoming_query(cdv: str, graph_base: str, limit: int, offset: int) -> str:
    # limit and offset are integers computed by the server, not user text. Incoming links are sorted by
    # property, then class, then reading order, so a page of them reads like the document. The resource's
    # own fragments (`…#L1-L3`) are not listed: the outgoing description already holds them whole.
    # Each link's subject is read in the graph that holds the link (?g): a shared subject (a scheme derived
    # from a document's source, a partner) is described alike in every document, and reading it in the
    # union default graph returned its types and labels once per document (66,000 rows for a source page at
    # 1,000 documents). The page is chosen on the sort keys alone; only its links get their text, parent,
    # mentions and labels.
    # The ontology and its terms are named in the ontology's graph, and the metadata graph types and titles
    # the ontology too: those two graphs, by name. Asked of the union default graph, pyoxigraph read that
    # branch for every document's labels and types (a source page's query: 20 ms at 100 documents, 86 ms at
    # 1,000; now 12 and 15 ms, the same answers for each of the 27,772 resources of the N = 1 and 100 builds).
    ontology = ox.Literal(cdv.rstrip("#/"))
    graphs = " ".join(str(ox.NamedNode(graph_base + name)) for name in ("ontology", "metadata"))
    labels = _in("lp", link_properties(cdv))

    def not_fragment(var: str) -> str:
        return f'FILTER(!STRSTARTS(STR(?{var}), CONCAT(STR(?r), "#")))'

    # What each link's subject says (text, parent, mentions, labels) is one UNION under one OPTIONAL, a row
    # per value, gathered by `describe`: grouping them in the query (SAMPLE, GROUP_CONCAT) cost pyoxigraph
    # twice the time of the whole rest of the query.
    return with_prefixes(
        cdv,
        f"""SELECT ?r ?total ?s ?p ?type ?order ?text ?parent ?mention ?lp ?lo WHERE {{
  {{ SELECT ?r (COUNT(*) AS ?total) WHERE {{ SELECT DISTINCT ?r ?s0 ?p0 WHERE {{ ?s0 ?p0 ?r {not_fragment("s0")} }} }} GROUP BY ?r }}
  OPTIONAL {{
    {{ SELECT ?r ?s ?p (MIN(STR(?t)) AS ?type) (MIN(?o) AS ?order) (SAMPLE(?h) AS ?g) WHERE {{
        GRAPH ?h {{ ?s ?p ?r {not_fragment("s")} OPTIONAL {{ ?s a ?t }} OPTIONAL {{ ?s cdv:ordre ?o }} }}
      }} GROUP BY ?r ?s ?p ORDER BY ?p ?type ?order ?s LIMIT {int(limit)} OFFSET {int(offset)} }}
    OPTIONAL {{
      {{ GRAPH ?g {{ ?s cdv:texte ?text }} }}
      UNION {{ GRAPH ?g {{ ?s cdv:parent ?parent }} }}
      UNION {{ GRAPH ?g {{ ?s cdv:mentionne ?mention }} }}
      UNION {{ GRAPH ?g {{ ?s ?lp ?lo . {labels} }} }}
      UNION {{ GRAPH ?og {{ ?s ?lp ?lo . {labels} }} VALUES ?og {{ {graphs} }} FILTER(STRSTARTS(STR(?s), {ontology})) }}
    }}
  }}
}} ORDER BY ?p ?type ?order ?s""",
    )


@dataclass(frozen=True)
class Incoming:
    """One page of a resource's incoming links: their triples (each link, then its subject's labels and
    types), their total, and what the links' subjects say for an HTML page (text, parent, mentions)."""

    triples: tuple[ox.Triple, ...] = ()
    total: int = 0
    texts: Mapping[str, str] = field(default_factory=dict)
    parents: Mapping[str, str] = field(default_factory=dict)
    mentions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


class Precomputed(Protocol):
    """What the build computed ahead for the resources named in several documents (None: not one of them)."""

    def incoming(self, iri: str, offset: int, limit: int) -> Incoming | None:
        """The incoming links from `offset`, at most `limit`, as the incoming query gives them."""

    def outgoing(self, iri: str, shown: bool) -> tuple[tuple[ox.Triple, ...], Mapping[str, int]] | None:
        """The outgoing description, or what an HTML page shows of it (`shown`) and the values it leaves out."""

    def context(self, iri: str) -> Context | None:
        """The context `context` would answer, within what the HTML page shows (`within`)."""

    def names(self, iris: Iterable[str]) -> dict[str, tuple[ox.Triple, ...]]:
        """What the batched label query (`label_triples`) answers of each resource alone, for those of
        `iris` it holds."""


def describe(
    store: Backend,
    iri: str,
    *,
    cdv: str,
    id_base: str,
    graph_base: str,
    page: int = 1,
    page_size: int = 100,
    values_shown: int | None = None,
    precomputed: Precomputed | None = None,
) -> Description:
    """Two queries: the outgoing description, then one page of incoming triples with their total; none for a
    resource `precomputed` holds. With `values_shown`, what an HTML page shows of it (`shown`)."""
    node = ox.NamedNode(iri)
    offset = (page - 1) * page_size
    links = precomputed.incoming(iri, offset, page_size) if precomputed is not None else None
    # a resource the build computed has both parts: the other resources are not looked up twice
    kept = (
        precomputed.outgoing(iri, values_shown is not None)
        if precomputed is not None and links is not None
        else None
    )
    if links is None:
        query = incoming_query(cdv, graph_base, page_size, offset)
        links = incoming_of(node, store.query(query, substitutions={"r": node}))  # type: ignore[arg-type]
    if kept is not None:
        return _description(node, kept[0], links, page, page_size, MappingProxyType(dict(kept[1])))
    outgoing = store.query(outgoing_query(cdv, id_base, graph_base), substitutions={"r": node})
    desc = _description(node, tuple(dict.fromkeys(outgoing)), links, page, page_size)  # type: ignore[call-overload]
    return desc if values_shown is None else shown(desc, values_shown)


def _description(
    node: ox.NamedNode,
    outgoing: tuple[ox.Triple, ...],
    links: Incoming,
    page: int,
    page_size: int,
    omitted: Mapping[str, int] | None = None,
) -> Description:
    return Description(
        node,
        outgoing,
        links.triples,
        links.total,
        page,
        page_size,
        links.texts,
        links.parents,
        links.mentions,
        omitted if omitted is not None else {},
    )


def incoming_of(node: ox.NamedNode, rows: Iterable[ox.QuerySolution]) -> Incoming:
    """Pure: the incoming links from the incoming query's rows."""
    total = 0
    incoming: dict[ox.Triple, None] = {}
    texts: dict[str, str] = {}
    parents: dict[str, str] = {}
    mentioned: dict[str, set[str]] = {}
    for row in rows:
        total = int(row["total"].value)
        subject, predicate = row["s"], row["p"]
        if subject is None or predicate is None:
            continue
        incoming[ox.Triple(subject, predicate, node)] = None
        if row["lp"] is not None and row["lo"] is not None:
            incoming[ox.Triple(subject, row["lp"], row["lo"])] = None
        if row["text"] is not None:
            texts.setdefault(subject.value, row["text"].value)
        if isinstance(row["parent"], ox.NamedNode):
            parents.setdefault(subject.value, row["parent"].value)
        if row["mention"] is not None:
            mentioned.setdefault(subject.value, set()).add(row["mention"].value)
    mentions = {subject: tuple(sorted(values)) for subject, values in mentioned.items()}
    return Incoming(tuple(incoming), total, texts, parents, mentions)


@dataclass
class TermInfo:
    """Labels and definitions of a property or class, by language ("" for none)."""

    labels: dict[str, str] = field(default_factory=dict)
    definitions: dict[str, str] = field(default_factory=dict)
    inverses: dict[str, str] = field(default_factory=dict)  # how a property reads backwards ("mentionné par")


TERM_PROPERTIES = {RDFS + "label": 0, SKOS + "prefLabel": 1, SKOS + "definition": 2, RDFS + "comment": 3}


def inverse_label_property(cdv: str) -> str:
    """The ontology's annotation for how a property reads from its object to its subject."""
    return cdv + "libelleInverse"


def label_triples(
    store: Backend,
    iris: Iterable[str],
    cdv: str,
    vocabulary: Iterable[str] = (),
    known: dict[str, tuple[ox.Triple, ...]] | None = None,
    precomputed: Precomputed | None = None,
) -> tuple[ox.Triple, ...]:
    """One query, the batched one: labels, definitions, types, notations and orders of many IRIs at once.

    It names the properties and classes a page shows and the neighbours of its context (breadcrumb,
    previous/next), however many there are. The `vocabulary` terms (properties, classes, datatypes) change
    only with the build: those found in `known` (kept by the caller for the life of its store) are not
    asked again, and what the query says of the others is added to it. The resources `precomputed` holds
    (named in several documents) are not asked either: in the union graph their names come once per
    document that describes them (13 partners on an axis' page: 280 ms at 1,000 documents); the build
    asked once. No query when nothing is left to ask.
    """
    known = {} if known is None else known
    terms = set(vocabulary)
    missing = {t for t in terms if t not in known}
    asked = set(iris)
    held = {} if precomputed is None else precomputed.names(sorted(asked - terms))
    wanted = sorted((asked - held.keys()) | missing)
    found: tuple[ox.Triple, ...] = ()
    if wanted:
        properties = (*link_properties(cdv), *TERM_PROPERTIES, inverse_label_property(cdv))
        # whole IRIs only (terms serialised by pyoxigraph): no PREFIX line to parse
        query = f"""SELECT ?t ?k ?v WHERE {{
  {_values("t", wanted)}
  ?t ?k ?v . {_in("k", dict.fromkeys(properties))}
}}"""
        found = tuple(dict.fromkeys(ox.Triple(row["t"], row["k"], row["v"]) for row in store.query(query)))
    if missing:
        learned: dict[str, list[ox.Triple]] = {t: [] for t in missing}
        for t in found:
            if t.subject.value in learned:
                learned[t.subject.value].append(t)
        known.update((term, tuple(triples)) for term, triples in learned.items())
    cached = (t for term in sorted(terms - missing) for t in known[term])
    shared = (t for iri in sorted(held) for t in held[iri])
    return tuple(dict.fromkeys((*found, *shared, *cached)))


def term_infos(triples: Iterable[ox.Triple], inverse_property: str | None = None) -> dict[str, TermInfo]:
    """Pure: the labels (rdfs:label, then skos:prefLabel), definitions (skos:definition, then
    rdfs:comment) and inverse labels (`inverse_property`) of each subject, one per language."""
    infos: dict[str, TermInfo] = {}
    triples = list(triples)
    for t in triples:
        if inverse_property and t.predicate.value == inverse_property and isinstance(t.object, ox.Literal):
            info = infos.setdefault(t.subject.value, TermInfo())
            info.inverses.setdefault(t.object.language or "", t.object.value)
    relevant = [
        t for t in triples if t.predicate.value in TERM_PROPERTIES and isinstance(t.object, ox.Literal)
    ]
    for t in sorted(relevant, key=lambda t: TERM_PROPERTIES[t.predicate.value]):
        info = infos.setdefault(t.subject.value, TermInfo())
        target = info.labels if TERM_PROPERTIES[t.predicate.value] < 2 else info.definitions
        target.setdefault(t.object.language or "", t.object.value)
    return infos


@dataclass(frozen=True)
class Neighbour:
    """A resource of the document context: an ancestor, a sibling, or the source text."""

    kind: str  # "ancestor", "sibling", "source"
    iri: str
    parent: str | None = None
    order: int | None = None
    file: str | None = None


@dataclass(frozen=True)
class Context:
    """Where a resource sits in its document."""

    neighbours: tuple[Neighbour, ...] = ()

    def of_kind(self, kind: str) -> list[Neighbour]:
        """The neighbours of one kind."""
        return [n for n in self.neighbours if n.kind == kind]


@lru_cache(maxsize=64)
def context_query(cdv: str, file_property: str) -> str:
    # Previous and next: the elements of the same document and class whose order is one off. A document
    # is one named graph (the build loads each into its own), so the engine walks from ?r to its graph,
    # then to the elements of its class there (an index lookup; a size that grows with the document,
    # never with the graph): walking all the document's elements through `cdv:avenant` in the union
    # graph cost 4 times as much (0.5 ms a page at N = 1, 1.5 ms at N = 1,000). Computing the wanted
    # orders first (BIND, then a lookup by order) made pyoxigraph look up every element of that order in
    # every document: 7 s a page at 1,000 documents instead of 10 ms. The graph is the document: checking
    # `?x cdv:avenant ?doc` again (FILTER EXISTS) cost 30 % more, and Virtuoso misreads EXISTS under its
    # graph exclusion (server/engine/remote.py, `excludable`), which would send every page the graph list.
    own = "?r cdv:ordre ?own ; cdv:avenant ?doc ; a ?class ."
    file_prop = ox.NamedNode(file_property)
    return with_prefixes(
        cdv,
        f"""SELECT ?r ?kind ?x ?parent ?order ?file WHERE {{
  {{ ?r cdv:parent+ ?x . OPTIONAL {{ ?x cdv:parent ?parent }} BIND("ancestor" AS ?kind) }}
  UNION {{
    GRAPH ?g {{ {own} ?x a ?class ; cdv:ordre ?order . FILTER(?order = ?own - 1 || ?order = ?own + 1) }}
    BIND("sibling" AS ?kind)
  }}
  UNION {{ ?r cdv:passage/oa:hasSource ?x . ?x {file_prop} ?file . BIND("source" AS ?kind) }}
  UNION {{ ?r {file_prop} ?file . BIND(?r AS ?x) BIND("source" AS ?kind) }}
}}""",
    )


def context(
    store: Backend, iri: str, *, cdv: str, file_property: str, precomputed: Precomputed | None = None
) -> Context:
    """One query: ancestors along `cdv:parent`, previous/next by `cdv:ordre`, source text files; none for a
    resource `precomputed` holds."""
    if precomputed is not None:
        kept = precomputed.context(iri)
        if kept is not None:
            return kept
    rows = store.query(context_query(cdv, file_property), substitutions={"r": ox.NamedNode(iri)})
    return context_of(rows)  # type: ignore[arg-type]


def context_of(rows: Iterable[ox.QuerySolution]) -> Context:
    """Pure: the context from the context query's rows."""
    found: dict[tuple[str, str], Neighbour] = {}
    for row in rows:
        x = row["x"]
        if not isinstance(x, ox.NamedNode):
            continue
        parent, order, file = row["parent"], row["order"], row["file"]
        found.setdefault(
            (row["kind"].value, x.value),
            Neighbour(
                row["kind"].value,
                x.value,
                parent.value if isinstance(parent, ox.NamedNode) else None,
                int(order.value) if order is not None else None,
                file.value if file is not None else None,
            ),
        )
    return Context(tuple(found.values()))


def within(ctx: Context, desc: Description) -> Context:
    """Pure: the context without the source texts of passages the page does not show (see `shown`)."""
    named = {desc.iri.value} | {t.object.value for t in desc.outgoing if isinstance(t.object, ox.NamedNode)}
    return Context(tuple(n for n in ctx.neighbours if n.kind != "source" or n.iri in named))


def breadcrumb(ctx: Context, parent: str | None) -> list[str]:
    """The ancestors from the top of the document down to `parent` (the resource's own cdv:parent)."""
    parents = {n.iri: n.parent for n in ctx.of_kind("ancestor")}
    chain: list[str] = []
    current = parent
    while current is not None and current in parents and current not in chain:
        chain.append(current)
        current = parents[current]
    return chain[::-1]


def previous_next(ctx: Context, own_order: int | None) -> tuple[str | None, str | None]:
    """The previous and next resource of the same class in the document, by cdv:ordre."""
    if own_order is None:
        return None, None
    by_order = {n.order: n.iri for n in ctx.of_kind("sibling")}
    return by_order.get(own_order - 1), by_order.get(own_order + 1)


def used_prefixes(triples: Iterable[ox.Triple], names: Mapping[str, str]) -> dict[str, str]:
    """The prefixes whose namespace some IRI of `triples` lies in: a serialisation declares only those."""
    iris = {
        term.value
        for t in triples
        for term in (t.subject, t.predicate, t.object, getattr(t.object, "datatype", None))
        if isinstance(term, ox.NamedNode)
    }
    return {name: ns for name, ns in names.items() if any(iri.startswith(ns) for iri in iris)}
