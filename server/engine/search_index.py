"""The full-text index of a build: every literal text of the graph, in SQLite FTS5, one document per resource.

Built with the store (`<release>/search.sqlite`, by `cdv build`), or from any SPARQL backend, and opened
read-only (immutable) by each process that searches. Tables:

- `docs(id, iri, label, kinds, body, types, place)`: per resource its label, the French labels of its types,
  its other texts (one per line), its type IRIs (JSON) and its place in its document (search_place); what
  results show;
- `search`: the FTS5 index over `label`, `kinds`, `body` as written and `slabel`, `skinds`, `sbody`, the same
  texts as French stems (search_syntax.stem_text) (tokenizer unicode61 remove_diacritics 2: case and accents
  folded, apostrophes ’ and ' split words), an external-content table over the view `docs_text`, which gives
  each stem column the text as written: snippets and highlights show the real words;
- `doc_types(doc, type)`, `types(iri, curie, label, count)`: the type filter and its facets;
- `meta(key, value)`: the build id.

Why external content: FTS5 cannot fold "œ" into "oe" and stdlib sqlite3 cannot register a tokenizer, so the
index is given the texts with ligatures spelled out (and, in the stem columns, every word as its stem) while
`docs` keeps them as written; both tokenize into the same number of tokens at the same positions, so
snippet() and highlight() mark the right words of the real text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from server.core.backend import Backend
from server.core.describe import LABEL_PROPERTIES, PREFIXES
from server.core.labels_fr import STANDARD_LABELS
from server.core.search_place import Part, place
from server.core.search_syntax import (
    MARK_END,
    MARK_START,
    Marked,
    SearchQuery,
    clean_text,
    index_text,
    split_marks,
    stem_text,
)
from server.core.vocab import NAMESPACES
from server.engine.sqlite_files import ReadOnlyFile, written
from server.engine.store import EmbeddedStore

FILENAME = "search.sqlite"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
# bm25 weights of label, kinds, body, then of their stems: a word of the label weighs ten of the text
WEIGHTS = (10.0, 3.0, 1.0, 10.0, 3.0, 1.0)
SNIPPET_TOKENS = 24
LANG_RANK = {"fr": 0, "": 1, "en": 2}  # which label wins: French, then untagged, then English, then others

# Every text literal (plain strings and language-tagged) of the named graphs but `skip`, and every type.
# GRAPH ?g, not the union default graph: remote engines need not offer the union, and duplicates (a shared
# resource re-described in each document) are removed while grouping anyway.
TEXTS_QUERY = """SELECT ?s ?p ?o WHERE {
  GRAPH ?g { ?s ?p ?o }
  FILTER(isIRI(?s) && isLiteral(?o) && ?g NOT IN (%s)
         && (LANG(?o) != "" || DATATYPE(?o) = <http://www.w3.org/2001/XMLSchema#string>))
}"""
# The links that say where a resource sits: its parent in the document, the partner of a contribution.
LINKS_QUERY = """SELECT ?s ?p ?o WHERE {
  GRAPH ?g { ?s ?p ?o }
  FILTER(isIRI(?s) && isIRI(?o) && ?p IN (%s) && ?g NOT IN (%s))
}"""
PROV_ATTRIBUTED = "http://www.w3.org/ns/prov#wasAttributedTo"
SKOS_NOTATION = "http://www.w3.org/2004/02/skos/core#notation"
TYPES_QUERY = (
    """SELECT ?s ?t WHERE { GRAPH ?g { ?s a ?t } FILTER(isIRI(?s) && isIRI(?t) && ?g NOT IN (%s)) }"""
)

SCHEMA = """
CREATE TABLE docs(id INTEGER PRIMARY KEY, iri TEXT NOT NULL UNIQUE, label TEXT NOT NULL, kinds TEXT NOT NULL,
                  body TEXT NOT NULL, types TEXT NOT NULL, place TEXT NOT NULL);
CREATE VIEW docs_text AS SELECT id, label, kinds, body, label AS slabel, kinds AS skinds, body AS sbody FROM docs;
CREATE VIRTUAL TABLE search USING fts5(label, kinds, body, slabel, skinds, sbody, content='docs_text',
                                       content_rowid='id', tokenize='unicode61 remove_diacritics 2',
                                       prefix='2 3');
CREATE TABLE doc_types(doc INTEGER NOT NULL, type TEXT NOT NULL, PRIMARY KEY(type, doc)) WITHOUT ROWID;
CREATE INDEX doc_types_by_doc ON doc_types(doc, type);
CREATE TABLE types(iri TEXT PRIMARY KEY, curie TEXT NOT NULL, label TEXT NOT NULL, count INTEGER NOT NULL);
"""


class IndexMissing(RuntimeError):
    """The build has no search index (built before search existed, or by a remote engine without one)."""


@dataclass
class Resource:
    """What the index knows of one resource while it is built."""

    texts: dict[tuple[str, str, str], None] = field(default_factory=dict)  # (predicate, language, text)
    types: dict[str, None] = field(default_factory=dict)
    links: dict[str, str] = field(
        default_factory=dict
    )  # predicate → IRI: its parent, a contribution's partner


@dataclass(frozen=True)
class Document:
    """One row of the index: a resource's label, types and texts."""

    iri: str
    label: str
    types: tuple[str, ...]
    body: tuple[str, ...]
    place: str = ""


def pick_label(iri: str, texts: Iterable[tuple[str, str, str]]) -> tuple[str, str, str] | None:
    """Pure: the text that names a resource: the first label property (describe.LABEL_PROPERTIES), French first."""
    candidates = [t for t in texts if t[0] in LABEL_PROPERTIES]
    if not candidates:
        return None
    return min(candidates, key=lambda t: (LABEL_PROPERTIES.index(t[0]), LANG_RANK.get(t[1], 3), t[2]))


def documents(resources: Mapping[str, Resource], cdv: str = NAMESPACES["cdv"]) -> list[Document]:
    """Pure: one document per resource that has a text, its label apart; the other texts in a stable order."""
    places = places_of(resources, cdv)
    docs = []
    for iri in sorted(resources):
        resource = resources[iri]
        if not resource.texts:
            continue
        label = pick_label(iri, resource.texts)
        body = [t for t in sorted(resource.texts) if t != label]
        name = label[2] if label else _tail(iri)
        texts = tuple(dict.fromkeys(text for _p, _lang, text in body if text != name))
        docs.append(Document(iri, name, tuple(resource.types), texts, places.get(iri, "")))
    return docs


def places_of(resources: Mapping[str, Resource], cdv: str) -> dict[str, str]:
    """Pure: the place of every resource that has a parent (search_place), the document left out when the
    index holds only one."""
    parents = {iri: r.links[cdv + "parent"] for iri, r in resources.items() if cdv + "parent" in r.links}
    parts = {iri: _part(resources, iri) for iri in set(parents.values())}
    documents = {iri for iri, r in resources.items() if cdv + "Avenant" in r.types}
    skip = documents if len(documents) <= 1 else set()
    return {iri: place(iri, parents, parts, cdv, skip) for iri in parents}


def _part(resources: Mapping[str, Resource], iri: str) -> Part:
    """What a place says of an ancestor: its label, number, types and (a contribution's) partner."""
    resource = resources.get(iri, Resource())
    label = pick_label(iri, resource.texts)
    notation = next((text for p, _lang, text in sorted(resource.texts) if p == SKOS_NOTATION), None)
    partner_iri = resource.links.get(PROV_ATTRIBUTED)
    partner = pick_label(partner_iri, resources[partner_iri].texts) if partner_iri in resources else None
    return Part(
        label[2] if label else _tail(iri),
        notation,
        frozenset(resource.types),
        partner[2] if partner else None,
    )


def _tail(iri: str) -> str:
    """A name for a resource without a label: the end of its IRI (e.g. "L118-L120", "mesure/12")."""
    rest = iri.rsplit("#", 1)[-1] if "#" in iri else "/".join(iri.rstrip("/").split("/")[-2:])
    return rest or iri


def curie(iri: str) -> str:
    """`cdv:Mesure` for a known namespace, else the IRI itself."""
    namespaces = {"cdv": iri.split("#")[0] + "#"} if "/cdv/ontology#" in iri else {}
    for prefix, namespace in {**namespaces, **PREFIXES}.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


def collect(
    backend: Backend, skip_graphs: Sequence[str] = (), cdv: str = NAMESPACES["cdv"]
) -> dict[str, Resource]:
    """Every text, type and place link of the backend's named graphs (but `skip_graphs`), by resource."""
    skip = ", ".join(str(ox.NamedNode(g)) for g in skip_graphs) or "<urn:cdv:none>"
    resources: dict[str, Resource] = {}
    for row in backend.query(TEXTS_QUERY % skip):  # type: ignore[union-attr]
        literal = row["o"]
        text = literal.value.strip()
        if text:
            key = (row["p"].value, literal.language or "", text)
            resources.setdefault(row["s"].value, Resource()).texts[key] = None
    for row in backend.query(TYPES_QUERY % skip):  # type: ignore[union-attr]
        resources.setdefault(row["s"].value, Resource()).types[row["t"].value] = None
    links = ", ".join(str(ox.NamedNode(p)) for p in (cdv + "parent", PROV_ATTRIBUTED))
    for row in backend.query(LINKS_QUERY % (links, skip)):  # type: ignore[union-attr]
        resources.setdefault(row["s"].value, Resource()).links.setdefault(row["p"].value, row["o"].value)
    return resources


def type_labels(resources: Mapping[str, Resource], types: Iterable[str]) -> dict[str, str]:
    """The French name of each type, capitalised: the ontology's label, else the name the interface gives a
    standard term (labels_fr), else its CURIE."""
    labels = {}
    for type_ in types:
        known = resources.get(type_)
        label = pick_label(type_, known.texts) if known else None
        name = label[2] if label and label[0] == RDFS_LABEL and label[1] == "fr" else None
        name = name or STANDARD_LABELS.get(type_) or curie(type_)
        labels[type_] = name[:1].upper() + name[1:]
    return _distinct(labels)


def _distinct(labels: dict[str, str]) -> dict[str, str]:
    """Two types with one name (org:Organization, foaf:Organization) are told apart by their vocabulary."""
    seen: dict[str, int] = {}
    for label in labels.values():
        seen[label] = seen.get(label, 0) + 1
    return {
        t: f"{label} ({curie(t).split(':')[0]})" if seen[label] > 1 and curie(t) != t else label
        for t, label in labels.items()
    }


def write_index(path: Path, docs: Sequence[Document], labels: Mapping[str, str], build_id: str) -> None:
    """Write the index file atomically (a temporary file renamed into place)."""
    with written(path, SCHEMA, build_id) as db:
        counts: dict[str, int] = {}
        for rowid, doc in enumerate(docs, start=1):
            kinds = " · ".join(labels[t] for t in doc.types)
            body = "\n".join(clean_text(t) for t in doc.body)
            label = clean_text(doc.label)
            db.execute(
                "INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?)",
                (rowid, doc.iri, label, kinds, body, json.dumps(doc.types), clean_text(doc.place)),
            )
            texts = [index_text(label), index_text(kinds), index_text(body)]
            db.execute(
                "INSERT INTO search(rowid, label, kinds, body, slabel, skinds, sbody) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (rowid, *texts, *(stem_text(text) for text in texts)),
            )
            db.executemany("INSERT INTO doc_types VALUES (?, ?)", [(rowid, t) for t in doc.types])
            for t in doc.types:
                counts[t] = counts.get(t, 0) + 1
        db.executemany(
            "INSERT INTO types VALUES (?, ?, ?, ?)", [(t, curie(t), labels[t], n) for t, n in counts.items()]
        )
        db.execute("INSERT INTO search(search) VALUES ('optimize')")


def build_index_from_backend(
    backend: Backend,
    path: Path,
    skip_graphs: Sequence[str] = (),
    build_id: str | None = None,
    cdv: str = NAMESPACES["cdv"],
) -> int:
    """Build the index of everything `backend` holds into `path`; return the number of documents."""
    resources = collect(backend, skip_graphs, cdv)
    docs = documents(resources, cdv)
    labels = type_labels(resources, dict.fromkeys(t for d in docs for t in d.types))
    write_index(path, docs, labels, build_id or backend.build_id)
    return len(docs)


def build_index_from_store(
    store: ox.Store | Path,
    path: Path,
    skip_graphs: Sequence[str] = (),
    build_id: str = "",
    cdv: str = NAMESPACES["cdv"],
) -> int:
    """Build the index of a pyoxigraph store (or the store folder, opened read-only) into `path`."""
    opened = ox.Store.read_only(str(store)) if isinstance(store, Path) else store
    return build_index_from_backend(EmbeddedStore(opened, build_id), path, skip_graphs, build_id, cdv)


def index_path(backend: Backend) -> Path:
    """Where the index of the backend's build is: next to its store, in the release folder."""
    store_path = getattr(backend, "path", None)
    if store_path is None:
        raise IndexMissing(
            f"la version {backend.build_id} n’a pas de dossier local, donc pas d’index de recherche"
        )
    return Path(store_path).parent / FILENAME


@dataclass(frozen=True)
class TypeInfo:
    """A type of indexed resources: its IRI, CURIE, French label and how many resources (or hits) have it."""

    iri: str
    curie: str
    label: str
    count: int


@dataclass(frozen=True)
class Hit:
    """One result: the resource, its label and a snippet of its text with the matched words marked, and
    where it sits in its document."""

    iri: str
    label: Marked
    types: tuple[str, ...]
    snippet: Marked
    score: float
    place: str = ""


@dataclass(frozen=True)
class Results:
    """One page of results, the total number of hits and the hits per type."""

    total: int
    hits: tuple[Hit, ...]
    facets: tuple[TypeInfo, ...]


class SearchIndex(ReadOnlyFile):
    """A search index file opened read-only, one SQLite connection per thread."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise IndexMissing(f"pas d’index de recherche dans {path} : lancez `cdv build`")
        super().__init__(path)
        self._types: dict[str, TypeInfo] | None = None

    def types(self) -> dict[str, TypeInfo]:
        """Every type of indexed resources, by IRI (read once: the file never changes)."""
        if self._types is None:
            rows = self._db().execute("SELECT iri, curie, label, count FROM types ORDER BY count DESC, label")
            self._types = {row[0]: TypeInfo(*row) for row in rows}
        return self._types

    def search(
        self, query: SearchQuery, type_: str | None = None, offset: int = 0, limit: int = 20
    ) -> Results:
        """The hits of `query`, best first (bm25, label weighted), optionally only resources of `type_`."""
        page = self._page(query, type_, offset, limit)
        total = page[0][2] if page else self._count(query, type_)
        texts = self._texts(query, [row[0] for row in page])
        hits = tuple(
            Hit(iri, label, tuple(json.loads(types)), snippet, -score, place)
            for (rowid, score, _total) in page
            for iri, types, label, snippet, place in [texts[rowid]]
        )
        return Results(total, hits, self._facets(query))

    def ranked(self, query: SearchQuery, type_: str, limit: int) -> list[str]:
        """The IRIs of the best `limit` resources of `type_` matching `query` (for the named queries)."""
        ids = [row[0] for row in self._page(query, type_, 0, limit)]
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        iris = dict(self._db().execute(f"SELECT id, iri FROM docs WHERE id IN ({marks})", ids).fetchall())
        return [iris[i] for i in ids]

    # The full-text match runs once per statement, materialised, and the rest joins on its rowids: left to
    # itself SQLite may instead run one MATCH per resource of a type, or compute snippets for every hit.
    _HITS = """WITH hits AS MATERIALIZED (
                 SELECT rowid AS id, bm25(search, :w0, :w1, :w2, :w3, :w4, :w5) AS score
                 FROM search WHERE search MATCH :q),
               kept AS (SELECT id, score FROM hits WHERE :type IS NULL
                        OR EXISTS (SELECT 1 FROM doc_types WHERE type = :type AND doc = hits.id))"""

    def _params(self, query: SearchQuery, type_: str | None) -> dict[str, object]:
        return {"q": query.match, "type": type_, **{f"w{i}": w for i, w in enumerate(WEIGHTS)}}

    def _page(
        self, query: SearchQuery, type_: str | None, offset: int, limit: int
    ) -> list[tuple[int, float, int]]:
        """(rowid, bm25 score, number of hits) of one page of hits."""
        sql = f"""{self._HITS} SELECT id, score, count(*) OVER () FROM kept
                  ORDER BY score, id LIMIT :limit OFFSET :offset"""
        params = {**self._params(query, type_), "limit": limit, "offset": offset}
        return self._db().execute(sql, params).fetchall()

    def _count(self, query: SearchQuery, type_: str | None) -> int:
        sql = f"{self._HITS} SELECT count(*) FROM kept"
        return int(self._db().execute(sql, self._params(query, type_)).fetchone()[0])

    def _texts(
        self, query: SearchQuery, ids: Sequence[int]
    ) -> dict[int, tuple[str, str, Marked, Marked, str]]:
        """IRI, types, highlighted label, snippet and place of the hits of one page (and of those only).

        Words and phrases match the stem columns, prefixes the columns as written: the label's marks are
        those of both, the snippet the one of the text that holds a match (the stems' first).
        """
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        mark, cut = [MARK_START, MARK_END], [MARK_START, MARK_END, "…"]
        rows = self._db().execute(
            f"""SELECT search.rowid, d.iri, d.types, highlight(search, 0, ?, ?), highlight(search, 3, ?, ?),
                       snippet(search, 5, ?, ?, ?, {SNIPPET_TOKENS}), snippet(search, 2, ?, ?, ?, {SNIPPET_TOKENS}),
                       d.place
                FROM search JOIN docs d ON d.id = search.rowid
                WHERE search MATCH ? AND search.rowid IN ({marks})""",
            [*mark, *mark, *cut, *cut, query.match, *ids],
        )
        return {
            rowid: (iri, types, _merged(label, slabel), _matched(ssnippet, snippet), place)
            for rowid, iri, types, label, slabel, ssnippet, snippet, place in rows
        }

    def _facets(self, query: SearchQuery) -> tuple[TypeInfo, ...]:
        rows = self._db().execute(
            """WITH hits AS MATERIALIZED (SELECT rowid AS id FROM search WHERE search MATCH ?)
               SELECT t.iri, t.curie, t.label, count(*) AS n FROM hits
               JOIN doc_types dt ON dt.doc = hits.id JOIN types t ON t.iri = dt.type
               GROUP BY t.iri ORDER BY n DESC, t.label""",
            [query.match],
        )
        return tuple(TypeInfo(*row) for row in rows)


def _merged(*highlighted: str) -> Marked:
    """One text highlighted twice (as written, as stems): its ranges marked in either."""
    texts = [split_marks(h) for h in highlighted]
    ranges = sorted({r for text in texts for r in text.marks})
    return Marked(texts[0].text, tuple(ranges))


def _matched(*snippets: str) -> Marked:
    """The first snippet that marks a match; none ("") when the text matched only in the label or types."""
    for snippet in snippets:
        marked = split_marks(snippet)
        if marked.marks:
            return marked
    return Marked("")
