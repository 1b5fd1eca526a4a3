"""Content negotiation, pure: Accept header / ?format= / file extension → one media type of those offered.

werkzeug (Flask's own HTTP library) parses the Accept header with q-values and wildcards; this module only
adds the project's format names and the 406 message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from server.core.errors import NotAcceptable

if TYPE_CHECKING:  # werkzeug is imported where an Accept header is parsed: query processes never do
    from werkzeug.datastructures import MIMEAccept


@dataclass(frozen=True)
class Format:
    """A serialisation the server can produce."""

    name: str  # the ?format= value, e.g. "turtle"
    media_type: str  # the canonical media type, e.g. "text/turtle"
    extension: str  # without dot, e.g. "ttl"
    aliases: tuple[str, ...] = ()  # other media types clients send for it, and other ?format= names

    @property
    def content_type(self) -> str:
        """The Content-Type header value, with charset for text formats."""
        return f"{self.media_type}; charset=utf-8"

    def matches(self, value: str) -> bool:
        return value in {self.name, self.media_type, self.extension, *self.aliases}


HTML = Format("html", "text/html", "html", ("application/xhtml+xml",))
TURTLE = Format("turtle", "text/turtle", "ttl", ("ttl", "application/x-turtle"))
NTRIPLES = Format("ntriples", "application/n-triples", "nt", ("nt", "n-triples"))
JSONLD = Format("jsonld", "application/ld+json", "jsonld", ("json-ld",))
RDFXML = Format("rdfxml", "application/rdf+xml", "rdf", ("xml", "rdf"))
NQUADS = Format("nquads", "application/n-quads", "nq", ("nq", "n-quads"))
TRIG = Format("trig", "application/trig", "trig")
SPARQL_JSON = Format("json", "application/sparql-results+json", "srj", ("srj",))
SPARQL_XML = Format("xml", "application/sparql-results+xml", "srx", ("srx",))
CSV = Format("csv", "text/csv", "csv")
TSV = Format("tsv", "text/tab-separated-values", "tsv")
JSON = Format("json", "application/json", "json")
PLAIN = Format("text", "text/plain", "txt")

RDF_FORMATS: tuple[Format, ...] = (TURTLE, JSONLD, RDFXML, NTRIPLES)


def by_name(value: str, offered: Sequence[Format]) -> Format:
    """The offered format named by ?format= or an extension; NotAcceptable if none is."""
    for fmt in offered:
        if fmt.matches(value.strip().lower()):
            return fmt
    raise NotAcceptable(f"unknown format {value!r}; available: " + ", ".join(f.name for f in offered))


def best_match(accept: str | None, offered: Sequence[Format], default: Format | None = None) -> Format:
    """The offered format the Accept header prefers (q-values, wildcards; ties go to the order offered).

    An absent or empty header gets `default` (or the first offered format).
    """
    if not accept or not accept.strip():
        return default or offered[0]
    return _best_match(accept, tuple(offered))


@lru_cache(maxsize=1024)  # pure, and clients send few distinct Accept headers: each is parsed once per pair
def _best_match(accept: str, offered: tuple[Format, ...]) -> Format:
    from werkzeug.datastructures import MIMEAccept
    from werkzeug.http import parse_accept_header

    parsed = parse_accept_header(accept, MIMEAccept)
    best: tuple[float, int, int] | None = None
    chosen: Format | None = None
    for index, fmt in enumerate(offered):
        for media_type in (fmt.media_type, *[a for a in fmt.aliases if "/" in a]):
            quality = parsed.quality(media_type)
            if quality <= 0:
                continue
            specificity = _specificity(parsed, media_type)
            key = (quality, specificity, -index)
            if best is None or key > best:
                best, chosen = key, fmt
    if chosen is None:
        raise NotAcceptable(
            "none of the requested media types can be produced; available: "
            + ", ".join(f.media_type for f in offered)
        )
    return chosen


def _specificity(parsed: MIMEAccept, media_type: str) -> int:
    """2 when the header names the type exactly, 1 for type/*, 0 for */*: exact names beat wildcards."""
    names = {value.split(";")[0].strip().lower() for value, _q in parsed}
    if media_type in names:
        return 2
    if media_type.split("/")[0] + "/*" in names:
        return 1
    return 0


def negotiate(
    accept: str | None, format_param: str | None, offered: Sequence[Format], default: Format | None = None
) -> Format:
    """?format= wins over Accept; otherwise Accept decides."""
    if format_param:
        return by_name(format_param, offered)
    return best_match(accept, offered, default)
