"""The extractor's edges: read a protocol file, write the draft atomically (no partial file ever left)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rdflib import RDF, Literal, Namespace

from server.core.rdfio import DataError
from server.extract import DEFAULT_BASE, ExtractError, Extraction, decode, extract
from server.extract.registry import Registry, load_registry

HEADER = (
    "# Draft graph of {source}, extracted by `cdv extract` (cdv-graph). Review it against the text before\n"
    "# publishing: the report printed with it lists, by line, what could not be placed.\n\n"
)


def read_text(path: Path) -> str:
    """The text of a protocol file; ExtractError if it cannot be read or is not text."""
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise ExtractError(f"{path} is a folder, not a text file") from None
    except OSError as err:
        raise ExtractError(f"cannot read {path}: {err.strerror or err}") from None
    return decode(data)


def registry_of(paths: Sequence[Path]) -> Registry:
    """The organisations and posts described in `paths`; ExtractError if one of them is not valid RDF."""
    try:
        return load_registry(paths)
    except DataError as err:
        raise ExtractError(f"cannot read the organisations to reuse: {err}") from None


def turtle(extraction: Extraction, source: str) -> bytes:
    """The draft as Turtle, with a header saying what it is."""
    body = extraction.graph.serialize(format="turtle", encoding="utf-8")
    return HEADER.format(source=source).encode("utf-8") + body


def current_umask() -> int:
    """The process's umask (reading it means setting it: set it back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it: `path` is whole or untouched."""
    if not path.parent.is_dir():
        raise ExtractError(f"cannot write {path}: the folder {path.parent} does not exist")
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise ExtractError(f"cannot write {path}: {err.strerror or err}") from None
    try:
        # mkstemp makes its file 0600; the draft is a file like any other: the mode the umask gives
        os.fchmod(handle, 0o666 & ~current_umask())
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError as err:
        Path(temporary).unlink(missing_ok=True)
        raise ExtractError(f"cannot write {path}: {err.strerror or err}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def extract_file(
    path: Path,
    territory: str,
    document: str | None = None,
    registry: Registry | None = None,
    base_iri: str = DEFAULT_BASE,
) -> tuple[Extraction, bytes]:
    """Read and extract a protocol file; the extraction and its Turtle."""
    extraction = extract(
        read_text(path), territory, document, source_file=path.name, registry=registry, base_iri=base_iri
    )
    return extraction, turtle(extraction, path.name)


CDV = Namespace("https://w3id.org/cdv/ontology#")
DRAFT = "draft.ttl"


@dataclass(frozen=True)
class Placed:
    """Where `extract --into` put a document: its folder, its draft and its source text."""

    folder: Path
    draft: Path
    text: Path


def source_name(territory: str, document: str) -> str:
    """The file name of a document's source text: after its territory and document, so no two share it."""
    return f"{territory}-{document}.txt"


def place(extraction: Extraction, protocol: Path, territory: str, data_dir: Path) -> Placed:
    """Write the draft and a copy of its text in DATA/<territory>/<document>/, the text named after the
    territory and document (the draft's cdv:fichier says so); ExtractError rather than overwrite a draft."""
    folder = data_dir / territory / extraction.document
    draft, text = folder / DRAFT, folder / source_name(territory, extraction.document)
    if draft.exists():
        raise ExtractError(f"{draft} exists: move it away (or extract with --out) to extract again")
    for source in extraction.graph.subjects(RDF.type, CDV.DocumentSource):
        extraction.graph.set((source, CDV.fichier, Literal(text.name)))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(protocol, text)
    except OSError as err:
        raise ExtractError(f"cannot write {folder}: {err.strerror or err}") from None
    write_atomically(draft, turtle(extraction, text.name))
    return Placed(folder, draft, text)
