"""Write synthetic documents as Turtle: one subject block per resource, byte-identical for the same input.

Hand-written rather than rdflib's serialiser: rdflib names blank nodes at random (the passages' selectors)
and orders blocks by subject, so its output is neither byte-identical across runs nor grouped by topic; it
is also ten times slower than formatting strings at a thousand documents. Literals are escaped by rdflib.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import rdflib

from server.core.vocab import DATA, prefixes

PREFIXES = prefixes("cdv", *DATA)
PREFIX_LINES = "".join(f"@prefix {name}: <{iri}> .\n" for name, iri in sorted(PREFIXES.items()))


def iri(value: str) -> str:
    """An IRI term."""
    return f"<{value}>"


def fr(text: str) -> str:
    """A French string."""
    return rdflib.Literal(text, lang="fr").n3()


def string(text: str) -> str:
    """A plain string."""
    return rdflib.Literal(text).n3()


def typed(text: str, datatype: str) -> str:
    """A literal of an xsd datatype given by its local name (gYear, date)."""
    return f"{rdflib.Literal(text).n3()}^^xsd:{datatype}"


def integer(value: int) -> str:
    """An xsd:integer."""
    return str(value)


@dataclass
class Block:
    """The description of one resource: its types and (predicate, objects) pairs, in writing order."""

    subject: str
    types: tuple[str, ...]
    properties: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def add(self, predicate: str, *objects: str) -> Block:
        if objects:
            self.properties.append((predicate, objects))
        return self

    def triples(self) -> int:
        return len(self.types) + sum(len(objects) for _, objects in self.properties)

    def turtle(self) -> str:
        lines = [f"{iri(self.subject)} a {', '.join(self.types)}"]
        lines.extend(f"    {predicate} {', '.join(objects)}" for predicate, objects in self.properties)
        return " ;\n".join(lines) + " .\n"


@dataclass
class TurtleFile:
    """One Turtle file: a header comment and the blocks it holds."""

    comment: str
    blocks: list[Block] = field(default_factory=list)

    def text(self) -> str:
        header = "".join(f"# {line}\n" for line in self.comment.splitlines())
        return header + "\n" + PREFIX_LINES + "\n" + "\n".join(b.turtle() for b in self.blocks)


def write_files(folder: Path, files: dict[str, TurtleFile]) -> int:
    """Write each file of `files` (name → content) in `folder`; return the number of triples written."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in sorted(files.items()):
        (folder / name).write_text(content.text(), "utf-8")
    return sum(b.triples() for f in files.values() for b in f.blocks)


def selector(start: int, end: int) -> str:
    """The RFC 5147 fragment selector of lines start..end, an inline blank node."""
    return (
        "[ a oa:FragmentSelector ; dcterms:conformsTo <http://tools.ietf.org/rfc/rfc5147> ; "
        f'rdf:value "line={start - 1},{end}" ]'
    )
