"""The extractor's edges: read a protocol file, write the draft atomically (no partial file ever left)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

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


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it: `path` is whole or untouched."""
    if not path.parent.is_dir():
        raise ExtractError(f"cannot write {path}: the folder {path.parent} does not exist")
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise ExtractError(f"cannot write {path}: {err.strerror or err}") from None
    try:
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
