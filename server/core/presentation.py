"""Pure: turn triples and term labels into what a page shows: labelled links, property rows, values."""

from __future__ import annotations

import contextlib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from server.core import rdf as ox
from server.core.describe import LABEL_PROPERTIES, RDF, RDF_TYPE, SKOS, XSD, TermInfo
from server.core.iris import IriMap
from server.core.labels_fr import STANDARD_INVERSE_LABELS, STANDARD_LABELS, french_date

LANGUAGES = ("fr", "", "en")  # the order labels are chosen in; any other language comes after


def sort_key(text: str) -> str:
    """Accent- and case-insensitive order, as a French reader expects ("Éducation" beside "education")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def shorten(text: str, limit: int = 70) -> str:
    """Cut a long label at a word boundary, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:.")
    return cut + "…"


def local_name(iri: str) -> str:
    """The last segment of an IRI, a label of last resort."""
    for sep in ("#", "/"):
        tail = iri.rstrip("/").rsplit(sep, 1)[-1]
        if tail and tail != iri:
            return tail
    return iri


def pick(values: Mapping[str, str]) -> tuple[str, str] | None:
    """The (language, text) to show among labels by language: French first, then untagged, then English."""
    for lang in LANGUAGES:
        if lang in values:
            return lang, values[lang]
    for lang in sorted(values):
        return lang, values[lang]
    return None


@dataclass(frozen=True)
class Ref:
    """A resource or a term shown as a link (no href for blank nodes)."""

    label: str
    href: str | None = None
    iri: str | None = None
    lang: str = ""
    title: str | None = None  # a tooltip: the full label, or a term's definition
    curie: str | None = None
    types: tuple[Ref, ...] = ()
    order: int | None = None
    summary: str | None = None  # the text of a measure, shown under its link
    notation: str | None = None  # the printed number (skos:notation)


@dataclass(frozen=True)
class Value:
    """One value of a property: a resource (ref) or a literal (text)."""

    ref: Ref | None = None
    text: str | None = None
    lang: str = ""
    datatype: Ref | None = None
    display: str | None = None  # a friendlier rendering of the literal (a date in French)
    rows: tuple[Row, ...] = ()  # the description of a blank node shown in place


@dataclass(frozen=True)
class Row:
    """A property and its values."""

    prop: Ref
    label_en: str | None
    values: tuple[Value, ...]


@dataclass
class Labels:
    """Everything needed to name resources and terms: link triples, term infos, the IRI map."""

    iris: IriMap
    prefixes: Mapping[str, str]
    terms: Mapping[str, TermInfo]
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    types: dict[str, list[str]] = field(default_factory=dict)
    notations: dict[str, str] = field(default_factory=dict)
    orders: dict[str, int] = field(default_factory=dict)
    order_property: str = ""
    # term() depends on nothing learn() changes: one Ref per property or class, not one per value shown
    _term_refs: dict[str, Ref] = field(default_factory=dict, repr=False, compare=False)

    def learn(self, triples: Iterable[ox.Triple]) -> Labels:
        """Index labels, types, notations and orders found in `triples`; return self."""
        ranked: dict[str, dict[str, tuple[int, str]]] = {}
        for t in triples:
            s, p, o = t.subject, t.predicate.value, t.object
            key = s.value
            if p in LABEL_PROPERTIES and isinstance(o, ox.Literal):
                rank = LABEL_PROPERTIES.index(p)
                current = ranked.setdefault(key, {}).get(o.language or "")
                if current is None or rank < current[0]:
                    ranked[key][o.language or ""] = (rank, o.value)
            elif p == RDF_TYPE and isinstance(o, ox.NamedNode):
                if o.value not in self.types.setdefault(key, []):
                    self.types[key].append(o.value)
            elif p == SKOS + "notation" and isinstance(o, ox.Literal):
                self.notations.setdefault(key, o.value)
            elif p == self.order_property and isinstance(o, ox.Literal):
                with contextlib.suppress(ValueError):
                    self.orders.setdefault(key, int(o.value))
        for key, by_lang in ranked.items():
            self.labels.setdefault(key, {}).update({lang: text for lang, (_r, text) in by_lang.items()})
        return self

    def curie(self, iri: str) -> str | None:
        """prefix:local for an IRI in a known namespace."""
        for name, ns in self.prefixes.items():
            if iri.startswith(ns) and len(iri) > len(ns):
                return f"{name}:{iri[len(ns) :]}"
        return None

    def label(self, iri: str) -> tuple[str, str]:
        """(language, label) of a resource: its label, else its notation, else its IRI's last segment."""
        chosen = pick(self.labels.get(iri, {}))
        if chosen:
            return chosen
        if iri in self.notations:
            return "", self.notations[iri]
        return "", local_name(iri)

    def term(self, iri: str) -> Ref:
        """A property or class: its French label (store, then built-in, then compact name), its definition."""
        if iri not in self._term_refs:
            self._term_refs[iri] = self._new_term(iri)
        return self._term_refs[iri]

    def _new_term(self, iri: str) -> Ref:
        info = self.terms.get(iri, TermInfo())
        chosen = pick({k: v for k, v in info.labels.items() if k in {"fr", ""}})
        lang, label = chosen or ("fr", STANDARD_LABELS.get(iri, ""))
        if not label:
            lang, label = ("", self.curie(iri) or local_name(iri))
        definition = pick(info.definitions)
        return Ref(
            label,
            self.iris.href(iri),
            iri,
            lang,
            definition[1] if definition else None,
            self.curie(iri),
        )

    def inverse(self, iri: str) -> str:
        """How a property reads backwards, in French: the ontology's inverse label, a standard one, or
        a phrase built on its label."""
        info = self.terms.get(iri, TermInfo())
        chosen = pick({k: v for k, v in info.inverses.items() if k in {"fr", ""}})
        if chosen:
            return chosen[1]
        if iri in STANDARD_INVERSE_LABELS:
            return STANDARD_INVERSE_LABELS[iri]
        return f"reliés par « {self.term(iri).label} » à cette ressource"

    def english(self, iri: str) -> str | None:
        """The English label of a term, where the store has one that differs from the French."""
        info = self.terms.get(iri)
        if not info or "en" not in info.labels:
            return None
        return None if info.labels["en"] == info.labels.get("fr") else info.labels["en"]

    def ref(self, term: ox.NamedNode | ox.BlankNode, summary: str | None = None) -> Ref:
        """A resource as a labelled, typed link."""
        iri = term.value
        lang, label = self.label(iri)
        is_iri = isinstance(term, ox.NamedNode)
        return Ref(
            shorten(label, 160),
            self.iris.href(iri) if is_iri else None,
            iri if is_iri else None,
            lang,
            label if len(label) > 160 else None,
            types=tuple(self.term(t) for t in self.types.get(iri, [])),
            order=self.orders.get(iri),
            summary=summary,
            notation=self.notations.get(iri),
        )

    def value(self, term: ox.NamedNode | ox.BlankNode | ox.Literal, nested: tuple[Row, ...] = ()) -> Value:
        """A property value ready to show."""
        if isinstance(term, ox.Literal):
            datatype = term.datatype.value
            shown = None if datatype in {XSD + "string", RDF + "langString"} else self.term(datatype)
            display = french_date(term.value) if datatype == XSD + "date" else None
            return Value(text=term.value, lang=term.language or "", datatype=shown, display=display)
        return Value(ref=self.ref(term), rows=nested)


def value_order(value: Value) -> tuple[int, int, str]:
    """Values in reading order (cdv:ordre), then by label or text."""
    if value.ref is not None:
        order = value.ref.order
        return (0 if order is not None else 1, order or 0, sort_key(value.ref.label))
    return (1, 0, sort_key(value.text or ""))


Object = ox.NamedNode | ox.BlankNode | ox.Literal
Index = dict[ox.NamedNode | ox.BlankNode, dict[str, list[Object]]]


def index(triples: Iterable[ox.Triple]) -> Index:
    """subject → predicate IRI → objects, in the order given: built once per page, read many times."""
    found: Index = {}
    for t in triples:
        if isinstance(t.subject, ox.NamedNode | ox.BlankNode):
            found.setdefault(t.subject, {}).setdefault(t.predicate.value, []).append(t.object)
    return found


def objects(graph: Index, subject: ox.NamedNode | ox.BlankNode, predicate: str) -> list[Object]:
    """The objects of (subject, predicate)."""
    return graph.get(subject, {}).get(predicate, [])


def rows(
    labels: Labels,
    subject: ox.NamedNode | ox.BlankNode,
    graph: Index,
    skip: Iterable[str] = (),
    depth: int = 0,
) -> list[Row]:
    """The properties of `subject`, each with its values; blank nodes described in place."""
    skipped = set(skip)
    result = []
    for prop, values in graph.get(subject, {}).items():
        if prop in skipped:
            continue
        shown = []
        for o in dict.fromkeys(values):
            nested = ()
            if isinstance(o, ox.BlankNode) and depth < 2:
                nested = tuple(rows(labels, o, graph, depth=depth + 1))
            shown.append(labels.value(o, nested))
        result.append(Row(labels.term(prop), labels.english(prop), tuple(sorted(shown, key=value_order))))
    type_first = {RDF_TYPE: 0}
    return sorted(result, key=lambda r: (type_first.get(r.prop.iri or "", 1), sort_key(r.prop.label)))
