"""Pure: the view of one resource page, from its description, context, labels and source texts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from server.core import rdf as ox
from server.core.describe import (
    OA,
    RDF_TYPE,
    Context,
    Description,
    breadcrumb,
    inverse_label_property,
    previous_next,
    term_infos,
)
from server.core.iris import IriMap
from server.core.presentation import Index, Labels, Ref, Row, Value, index, objects, rows, shorten, sort_key


@dataclass(frozen=True)
class SourceText:
    """The text file of a source document: where to link to, and its lines."""

    href: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Quote:
    """A passage of a source text, quoted with its line numbers."""

    iri: str
    start: int
    end: int
    lines: tuple[tuple[int, str], ...]  # (number, text), blank lines left out
    source: Ref | None
    text_href: str | None  # the line in the text file


@dataclass(frozen=True)
class Part:
    """A hash-IRI part of the resource (a passage of a source document), shown under its anchor."""

    anchor: str
    ref: Ref
    rows: tuple[Row, ...]
    quote: Quote | None


@dataclass(frozen=True)
class Omitted:
    """Values of one property the page leaves out (see `describe.shown`), and where to read them all."""

    prop: Ref
    count: int
    href: str  # the SPARQL editor, holding the query that lists every value


@dataclass(frozen=True)
class IncomingGroup:
    """Resources pointing at this one through one property, under how that property reads backwards."""

    prop: Ref
    items: tuple[Ref, ...]
    reading: str = ""  # "mentionné par", "sous-organisation de"…


@dataclass(frozen=True)
class OutlineItem:
    """A thematic, objective or measure under the page's resource, in reading order, with what it names."""

    kind: str  # "Thematique", "Objectif", "Mesure"
    ref: Ref  # its summary is its text
    mentions: tuple[Ref, ...] = ()
    children: tuple[OutlineItem, ...] = ()


# The document's structure, top down: a page of one of these lists what it holds, in reading order.
STRUCTURE = ("Axe", "Thematique", "Objectif", "Mesure")


@dataclass(frozen=True)
class ResourcePage:
    """Everything the resource template shows."""

    iri: str
    title: str
    title_lang: str
    heading: str  # the title as printed: "Axe 3 : Emploi et développement économique"
    types: tuple[Ref, ...]
    lead: tuple[Value, ...]
    rows: tuple[Row, ...]
    mentions: tuple[Ref, ...]
    quotes: tuple[Quote, ...]
    parts: tuple[Part, ...]
    breadcrumb: tuple[Ref, ...]
    previous: Ref | None
    next: Ref | None
    incoming: tuple[IncomingGroup, ...]
    incoming_total: int
    page: int
    pages: int
    text_href: str | None = None  # a source document's own text file
    outline: tuple[OutlineItem, ...] = ()
    omitted: tuple[Omitted, ...] = ()

    @property
    def type_iris(self) -> set[str]:
        """The IRIs of the resource's classes."""
        return {t.iri for t in self.types if t.iri}


def _int_of(graph: Index, subject: ox.NamedNode, predicate: str) -> int | None:
    for o in objects(graph, subject, predicate):
        if isinstance(o, ox.Literal):
            try:
                return int(o.value)
            except ValueError:
                return None
    return None


def quote(
    labels: Labels,
    passage: ox.NamedNode,
    graph: Index,
    cdv: str,
    texts: Mapping[str, SourceText],
) -> Quote | None:
    """The lines a passage (cdv:ligneDebut … cdv:ligneFin of oa:hasSource) designates."""
    start = _int_of(graph, passage, cdv + "ligneDebut")
    end = _int_of(graph, passage, cdv + "ligneFin")
    if start is None or end is None:
        return None
    source = next(iter(objects(graph, passage, OA + "hasSource")), None)
    text = texts.get(source.value) if isinstance(source, ox.NamedNode) else None
    lines: tuple[tuple[int, str], ...] = ()
    if text is not None:
        numbered = range(max(start, 1), min(end, len(text.lines)) + 1)
        lines = tuple((n, text.lines[n - 1].strip()) for n in numbered if text.lines[n - 1].strip())
    return Quote(
        passage.value,
        start,
        end,
        lines,
        labels.ref(source) if isinstance(source, ox.NamedNode) else None,
        f"{text.href}#L{start}" if text is not None else None,
    )


def _incoming_groups(labels: Labels, desc: Description) -> tuple[IncomingGroup, ...]:
    """Incoming links grouped by property, in the order the store paged them."""
    groups: dict[str, list[Ref]] = {}
    for t in desc.incoming:
        if t.object == desc.iri and isinstance(t.subject, ox.NamedNode | ox.BlankNode):
            text = desc.texts.get(t.subject.value)
            groups.setdefault(t.predicate.value, []).append(
                labels.ref(t.subject, shorten(text, 200) if text else None)
            )
    return tuple(
        IncomingGroup(labels.term(p), tuple(items), labels.inverse(p)) for p, items in groups.items()
    )


def _kind(labels: Labels, iri: str, cdv: str) -> str | None:
    """The lowest class of the document's structure a resource has, by local name."""
    kinds = [
        t[len(cdv) :] for t in labels.types.get(iri, []) if t.startswith(cdv) and t[len(cdv) :] in STRUCTURE
    ]
    return max(kinds, key=STRUCTURE.index) if kinds else None


def outline(labels: Labels, desc: Description, cdv: str) -> tuple[OutlineItem, ...]:
    """Pure: the thematics, objectives and measures under the resource (they point at it: cdv:axe,
    cdv:parent…), as a tree along cdv:parent in reading order, each with its text and what it names."""
    root = desc.iri.value
    members = {
        t.subject.value: kind
        for t in desc.incoming
        if t.object == desc.iri
        and isinstance(t.subject, ox.NamedNode)
        and (kind := _kind(labels, t.subject.value, cdv)) is not None
    }

    def children(parent: str, depth: int) -> tuple[OutlineItem, ...]:
        under = [iri for iri in members if desc.parents.get(iri) == parent]
        under.sort(key=lambda iri: (STRUCTURE.index(members[iri]), labels.orders.get(iri, 0), iri))
        return tuple(
            OutlineItem(
                members[iri],
                labels.ref(ox.NamedNode(iri), desc.texts.get(iri)),
                tuple(
                    sorted(
                        (labels.ref(ox.NamedNode(m)) for m in desc.mentions.get(iri, ())),
                        key=lambda r: sort_key(r.label),
                    )
                ),
                children(iri, depth + 1) if depth < len(STRUCTURE) else (),
            )
            for iri in under
        )

    return children(root, 0)


def heading(labels: Labels, iri: str, title: str, cdv: str) -> str:
    """The title as the document prints it: an axis with its number ("Axe 3 : Emploi…")."""
    notation = labels.notations.get(iri)
    if cdv + "Axe" in labels.types.get(iri, []) and notation and not title.lower().startswith("axe"):
        return f"Axe {notation} : {title}"
    return title


def page_terms(desc: Description, ctx: Context) -> tuple[set[str], set[str]]:
    """The IRIs the batched label query must name: the vocabulary (properties, classes, datatypes), then the
    resources (context neighbours, and what the resources under a structural page name)."""
    vocabulary = set()
    for t in desc.triples:
        vocabulary.add(t.predicate.value)
        if t.predicate.value == RDF_TYPE:
            vocabulary.add(t.object.value)
        elif isinstance(t.object, ox.Literal):
            vocabulary.add(t.object.datatype.value)
    resources = {iri for named in desc.mentions.values() for iri in named}
    return vocabulary, resources | {n.iri for n in ctx.neighbours}


def resource_page(
    desc: Description,
    ctx: Context,
    names: Sequence[ox.Triple],
    iris: IriMap,
    cdv: str,
    texts: Mapping[str, SourceText],
    prefixes: Mapping[str, str],
) -> ResourcePage:
    """The view of one resource: header, lead text, source quotes, mentions, properties, incoming links.

    `names` are the triples of the batched label query (`describe.label_triples` of `page_terms`).
    """
    labels = Labels(
        iris, prefixes, term_infos(names, inverse_label_property(cdv)), order_property=cdv + "ordre"
    )
    labels.learn(desc.outgoing).learn(desc.incoming).learn(names)
    node, graph = desc.iri, index(desc.outgoing)
    lead_props, mention_prop, passage_prop = (cdv + "texte",), cdv + "mentionne", cdv + "passage"
    lang, title = labels.label(node.value)
    parents = [o.value for o in objects(graph, node, cdv + "parent") if isinstance(o, ox.NamedNode)]
    previous, following = previous_next(ctx, labels.orders.get(node.value))
    parts = []
    for part in (s for s in graph if isinstance(s, ox.NamedNode) and s.value.startswith(node.value + "#")):
        anchor = part.value[len(node.value) + 1 :]
        parts.append(
            Part(
                anchor,
                labels.ref(part),
                tuple(rows(labels, part, graph)),
                quote(labels, part, graph, cdv, texts),
            )
        )
    parts.sort(key=lambda p: (p.quote.start, p.quote.end) if p.quote else (0, 0))
    return ResourcePage(
        iri=node.value,
        title=title,
        title_lang=lang,
        heading=heading(labels, node.value, title, cdv),
        types=tuple(labels.term(t) for t in labels.types.get(node.value, [])),
        lead=tuple(labels.value(o) for p in lead_props for o in objects(graph, node, p)),
        rows=tuple(rows(labels, node, graph, skip=(RDF_TYPE, *lead_props, mention_prop, passage_prop))),
        mentions=tuple(
            sorted(
                (labels.ref(o) for o in objects(graph, node, mention_prop) if isinstance(o, ox.NamedNode)),
                key=lambda r: sort_key(r.label),
            )
        ),
        quotes=tuple(
            sorted(
                (
                    q
                    for o in objects(graph, node, passage_prop)
                    if isinstance(o, ox.NamedNode) and (q := quote(labels, o, graph, cdv, texts)) is not None
                ),
                key=lambda q: (q.start, q.end),
            )
        ),
        parts=tuple(parts),
        text_href=texts[node.value].href if node.value in texts else None,
        breadcrumb=tuple(
            labels.ref(ox.NamedNode(a)) for a in breadcrumb(ctx, parents[0] if parents else None)
        ),
        previous=labels.ref(ox.NamedNode(previous)) if previous else None,
        next=labels.ref(ox.NamedNode(following)) if following else None,
        incoming=_incoming_groups(labels, desc),
        incoming_total=desc.incoming_total,
        page=desc.page,
        pages=desc.pages,
        outline=outline(labels, desc, cdv),
        omitted=tuple(
            Omitted(labels.term(prop), count, values_query_link(iris, node.value, prop))
            for prop, count in sorted(desc.omitted.items())
        ),
    )


def values_query_link(iris: IriMap, iri: str, prop: str) -> str:
    """A link into the SPARQL editor, prefilled with the query listing every value of `prop` of `iri`."""
    query = (
        f"SELECT DISTINCT ?valeur WHERE {{ {ox.NamedNode(iri)} {ox.NamedNode(prop)} ?valeur }}"
        " ORDER BY STR(?valeur)"
    )
    return iris.editor(query)
