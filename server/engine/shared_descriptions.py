"""The pages of the resources named in several documents, computed once by the build (`shared.sqlite`).

A partner, a concept or a territory named by every document has, in each, links to it, a passage quoting it
and that passage's source: the queries of its page (server/core/describe.py) read all of them, 0.6 s at
1,000 documents, and more with each document. A release never changes, so the build runs those queries once
for each such resource and keeps their answers, here, in a SQLite file beside the store:

- its outgoing description, whole (the RDF variants) and as an HTML page shows it (`shown`: 50 values of
  each property at most);
- its context within what that page shows (`within`: the few sources of the passages it quotes);
- its incoming links in page order, one row each (the link, its subject's labels, parent and mentions;
  each subject's text once), so any page of any size is a range of rows;
- its names (labels, types, notation, order), as the batched label query of another page asks them when it
  names the resource (an axis's page names the partners its measures mention).

A page then reads a few rows by key instead of asking the store: the same work at 3 documents as at 1,000
(the RDF variants answer the whole description, as large as the documents make it: one compressed value).
Which resources: those named (typed, or linked to) in more than one document graph; a resource of one
document is read from the store as before. Terms are written and read back by pyoxigraph (N-Triples), so a
page built from here is the one the queries give (tested). SQLite (the standard library's) for lookups by
key in one read-only file, as the search index does (server/engine/sqlite_files.py).
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from server.core.backend import Backend
from server.core.describe import (
    VALUES_SHOWN,
    Context,
    Description,
    Incoming,
    Neighbour,
    context,
    incoming_of,
    incoming_query,
    label_triples,
    outgoing_query,
    shown,
    within,
)
from server.engine.sqlite_files import ReadOnlyFile, written

FILENAME = "shared.sqlite"
NAMES_BATCH = 500  # IRIs per lookup of their names (SQLite allows 999 parameters a statement before 3.32)
EVERY_LINK = 10**12  # the incoming query's LIMIT when the build reads all the links at once

SCHEMA = """
CREATE TABLE resources (
    id INTEGER PRIMARY KEY,
    iri TEXT NOT NULL UNIQUE,
    outgoing BLOB NOT NULL,  -- N-Triples, zlib: the outgoing description (the RDF variants)
    shown BLOB NOT NULL,  -- N-Triples, zlib: the outgoing description as an HTML page shows it (`shown`)
    omitted TEXT NOT NULL,  -- JSON: the values the HTML page leaves out, by property
    context TEXT NOT NULL,  -- JSON: the neighbours of the HTML page
    total INTEGER NOT NULL  -- the number of incoming links
);
CREATE TABLE names (  -- what the batched label query of a page says of the resource (its labels, types…)
    iri TEXT PRIMARY KEY,
    triples BLOB NOT NULL  -- N-Triples, zlib
) WITHOUT ROWID;
CREATE TABLE subjects (  -- what a page says of a link's subject, once for all the links it makes
    id INTEGER PRIMARY KEY,
    term TEXT NOT NULL,  -- N-Triples: the subject
    triples BLOB NOT NULL,  -- N-Triples, zlib: its labels, types, notation and order
    text TEXT,  -- its cdv:texte
    parent TEXT,  -- its cdv:parent
    mentions TEXT  -- JSON: what it mentions (cdv:mentionne)
);
CREATE TABLE links (
    resource INTEGER NOT NULL,  -- resources.id
    position INTEGER NOT NULL,  -- from 0, in page order
    subject INTEGER NOT NULL,  -- subjects.id
    predicate TEXT NOT NULL,  -- N-Triples: the link's property
    PRIMARY KEY (resource, position)
) WITHOUT ROWID;
"""

# Resources named in more than one document graph: typed there (described) or the object of a link. The
# ontology's and the catalogue's graphs name every document's resources once more and are not counted.
SHARED_QUERY = """
SELECT ?r WHERE {{
  {{ GRAPH ?g {{ ?r a ?type }} }} UNION {{ GRAPH ?g {{ ?s ?p ?r }} FILTER(isIRI(?r)) }}
  FILTER(?g NOT IN ({skipped}) && STRSTARTS(STR(?r), {base}) && !CONTAINS(STR(?r), "#"))
}} GROUP BY ?r HAVING (COUNT(DISTINCT ?g) > 1) ORDER BY ?r
"""

PAGE_QUERY = """
SELECT subjects.term, links.predicate, subjects.triples, subjects.text, subjects.parent, subjects.mentions
FROM links JOIN subjects ON subjects.id = links.subject
WHERE links.resource = ? AND links.position >= ? AND links.position < ? ORDER BY links.position
"""


def shared_resources(store: Backend, id_base: str, skip_graphs: Sequence[str]) -> list[str]:
    """The IRIs of the resource pages named in more than one of the graphs not skipped."""
    query = SHARED_QUERY.format(
        skipped=", ".join(str(ox.NamedNode(g)) for g in skip_graphs) or "<urn:x-cdv:none>",
        base=ox.Literal(id_base),
    )
    return [row["r"].value for row in store.query(query)]  # type: ignore[index, union-attr]


def by_link(rows: Iterable[ox.QuerySolution]) -> Iterator[list[ox.QuerySolution]]:
    """Pure: the incoming query's rows, one list per link (subject and property), in their order.

    The query sorts its rows by link, so a link's rows follow one another; a row without a link (only the
    total: a resource nothing links to) is left out.
    """
    link: list[ox.QuerySolution] = []
    for row in rows:
        if row["s"] is None or row["p"] is None:
            continue
        if link and (row["s"], row["p"]) != (link[0]["s"], link[0]["p"]):
            yield link
            link = []
        link.append(row)
    if link:
        yield link


def _ntriples(triples: Iterable[ox.Triple]) -> bytes:
    return ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES) or b""


def _triples(ntriples: bytes) -> Iterator[ox.Triple]:
    return (quad.triple for quad in ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES))


def write_shared_descriptions(
    store: Backend,
    path: Path,
    *,
    cdv: str,
    id_base: str,
    graph_base: str,
    skip_graphs: Sequence[str],
    build_id: str,
) -> int:
    """Write the file of the shared resources' pages atomically; return how many resources it holds."""
    with written(path, SCHEMA, build_id) as db:
        resources = shared_resources(store, id_base, skip_graphs)
        subjects: dict[str, int] = {}
        for iri in resources:
            _write_one(db, store, iri, subjects, cdv=cdv, id_base=id_base, graph_base=graph_base)
    return len(resources)


def _write_one(
    db: sqlite3.Connection,
    store: Backend,
    iri: str,
    subjects: dict[str, int],
    *,
    cdv: str,
    id_base: str,
    graph_base: str,
) -> None:
    """One resource: the page's three queries, with every incoming link at once, and the label query of the
    resource alone. `subjects`: the ids of the subjects written so far, by N-Triples term."""
    node = ox.NamedNode(iri)
    rows = store.query(incoming_query(cdv, graph_base, EVERY_LINK, 0), substitutions={"r": node})
    links = [incoming_of(node, link) for link in by_link(rows)]  # type: ignore[arg-type]
    query = outgoing_query(cdv, id_base, graph_base)
    outgoing = tuple(dict.fromkeys(store.query(query, substitutions={"r": node})))  # type: ignore[call-overload]
    page = shown(Description(node, outgoing, (), len(links), 1, 1), VALUES_SHOWN)
    ctx = within(context(store, iri, cdv=cdv, file_property=cdv + "fichier"), page)
    neighbours = [[n.kind, n.iri, n.parent, n.order, n.file] for n in ctx.neighbours]
    names = label_triples(store, [iri], cdv)
    db.execute("INSERT INTO names VALUES (?, ?)", (iri, zlib.compress(_ntriples(names))))
    resource = db.execute(
        "INSERT INTO resources (iri, outgoing, shown, omitted, context, total) VALUES (?, ?, ?, ?, ?, ?)",
        (
            iri,
            zlib.compress(_ntriples(outgoing)),
            zlib.compress(_ntriples(page.outgoing)),
            json.dumps(dict(page.omitted)),
            json.dumps(neighbours),
            len(links),
        ),
    ).lastrowid
    for position, link in enumerate(links):
        term = str(link.triples[0].subject)
        if term not in subjects:
            subjects[term] = db.execute(
                "INSERT INTO subjects (term, triples, text, parent, mentions) VALUES (?, ?, ?, ?, ?)",
                (
                    term,
                    zlib.compress(_ntriples(link.triples[1:])),
                    next(iter(link.texts.values()), None),
                    next(iter(link.parents.values()), None),
                    json.dumps(next(iter(link.mentions.values()))) if link.mentions else None,
                ),
            ).lastrowid
        predicate = str(link.triples[0].predicate)
        db.execute("INSERT INTO links VALUES (?, ?, ?, ?)", (resource, position, subjects[term], predicate))


class SharedDescriptions(ReadOnlyFile):
    """The shared resources' pages of one release, read-only, one SQLite connection per thread."""

    def _resource(self, iri: str, columns: str) -> Any:
        return self._db().execute(f"SELECT {columns} FROM resources WHERE iri = ?", (iri,)).fetchone()

    def holds_any(self) -> bool:
        """Whether the file holds any resource."""
        return self._db().execute("SELECT 1 FROM resources LIMIT 1").fetchone() is not None

    def incoming(self, iri: str, offset: int, limit: int) -> Incoming | None:
        """The incoming links from `offset`, at most `limit`; None: not a shared resource."""
        found = self._resource(iri, "id, total")
        if found is None:
            return None
        resource, total = found
        texts, parents, mentions = {}, {}, {}
        lines: list[bytes] = []
        target = str(ox.NamedNode(iri))
        for subject, predicate, triples, text, parent, mentioned in self._db().execute(
            PAGE_QUERY, (resource, offset, offset + limit)
        ):
            # the link from its terms as pyoxigraph wrote them, parsed by pyoxigraph below with the rest
            lines += [f"{subject} {predicate} {target} .\n".encode(), zlib.decompress(triples)]
            value = (
                subject[1:-1] if subject.startswith("<") else subject[2:]
            )  # the term's value, as `describe`
            if text is not None:
                texts.setdefault(value, text)
            if parent is not None:
                parents.setdefault(value, parent)
            if mentioned is not None:
                mentions.setdefault(value, tuple(json.loads(mentioned)))
        triples = tuple(dict.fromkeys(_triples(b"".join(lines))))
        return Incoming(triples, total, texts, parents, mentions)

    def outgoing(self, iri: str, shown: bool) -> tuple[tuple[ox.Triple, ...], Mapping[str, int]] | None:
        """The outgoing description, or as its HTML page shows it with the values left out; None: not shared."""
        found = self._resource(iri, "shown, omitted" if shown else "outgoing, '{}'")
        return None if found is None else (tuple(_triples(zlib.decompress(found[0]))), json.loads(found[1]))

    def context(self, iri: str) -> Context | None:
        """The context of the resource's HTML page; None: not a shared one."""
        found = self._resource(iri, "context")
        return (
            None if found is None else Context(tuple(Neighbour(*fields) for fields in json.loads(found[0])))
        )

    def names(self, iris: Iterable[str]) -> dict[str, tuple[ox.Triple, ...]]:
        """What the batched label query says of each resource alone, for the shared ones of `iris`."""
        found: dict[str, tuple[ox.Triple, ...]] = {}
        wanted = list(iris)
        for start in range(0, len(wanted), NAMES_BATCH):
            batch = wanted[start : start + NAMES_BATCH]
            marks = ", ".join("?" * len(batch))
            try:
                rows = self._db().execute(f"SELECT iri, triples FROM names WHERE iri IN ({marks})", batch)
            except sqlite3.OperationalError:  # a file written before it held names: the store is asked
                return {}
            found.update((iri, tuple(_triples(zlib.decompress(triples)))) for iri, triples in rows)
        return found


def shared_descriptions_of(store: Backend) -> SharedDescriptions | None:
    """The shared resources' pages of the store's release, when it has the file and the file any resource
    (a build from before them, of one document, a remote engine: None, and pages ask the store)."""
    store_path = getattr(store, "path", None)
    if store_path is None:
        return None
    path = Path(store_path).parent / FILENAME
    if not path.is_file():
        return None
    held = SharedDescriptions(path)
    # none named in several documents (one document's build): every page would look them up for nothing
    return held if held.holds_any() else None
