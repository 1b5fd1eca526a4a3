"""Read RDF files with precise errors: which file, which line, what is wrong."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from server.core import rdf as ox

if TYPE_CHECKING:  # a server worker lists files (engine/store.py) but never parses them into rdflib
    import rdflib

RDF_EXTENSIONS = {
    ".ttl": "turtle",
    ".nt": "nt",
    ".nq": "nquads",
    ".trig": "trig",
    ".rdf": "xml",
    ".jsonld": "json-ld",
}


@dataclass(frozen=True)
class DataError(Exception):
    """A data file that cannot be read."""

    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


def rdf_files(paths: Iterable[Path]) -> list[Path]:
    """Expand folders into the RDF files they hold (recursively, sorted); keep files as given."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in RDF_EXTENSIONS and p.is_file()))
        else:
            found.append(path)
    return found


def check_syntax(path: Path) -> None:
    """Raise DataError with file and line if `path` is not well-formed RDF."""
    if not path.is_file():
        raise DataError(path, None, "no such file")
    fmt = ox.RdfFormat.from_extension(path.suffix.lstrip("."))
    if fmt is None:
        raise DataError(path, None, f"unknown RDF file extension {path.suffix!r}")
    try:
        for _ in ox.parse(path=str(path), format=fmt):
            pass
    except SyntaxError as err:
        message = str(err.msg if hasattr(err, "msg") else err).split(" (")[0]
        raise DataError(path, err.lineno, message) from None
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise DataError(path, None, str(err)) from None


def has_triples(path: Path) -> bool:
    """Whether the file states at least one triple (reads only up to the first one); a file that cannot be
    read counts as not empty, for check_syntax to report it precisely."""
    fmt = ox.RdfFormat.from_extension(path.suffix.lstrip("."))
    try:
        return fmt is None or next(iter(ox.parse(path=str(path), format=fmt)), None) is not None
    except (SyntaxError, OSError, UnicodeDecodeError, ValueError):
        return True


def load_rdflib(paths: Iterable[Path], graph: rdflib.Graph | None = None) -> rdflib.Graph:
    """Parse the files into one rdflib graph, syntax-checked first."""
    import rdflib  # the build's and the extractor's; not a server worker's (5 MiB each)

    graph = rdflib.Graph() if graph is None else graph
    for path in paths:
        check_syntax(path)
        graph.parse(path, format=RDF_EXTENSIONS[path.suffix])
    return graph
