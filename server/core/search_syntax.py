"""Pure: the user's search syntax → a safe SQLite FTS5 MATCH expression, and snippets with marked ranges.

The syntax is small on purpose: words must all match (AND), `"…"` is a phrase, a trailing `*` searches a
prefix (`secur*`, `"accès aux dr"*`). Case and accents never matter (the index's tokenizer folds them).
Every term is sent to FTS5 as a double-quoted string, so nothing a user types is ever read as FTS5
syntax (`OR`, `NEAR`, `col:`, `^`, parentheses): the expression is built, never passed through.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from markupsafe import Markup, escape

from server.core.errors import ClientError

MAX_QUERY_CHARS = 200
MAX_TERMS = 16
MIN_PREFIX_CHARS = 2  # `a*` would match most of the index: too broad to rank, and slow at national scale
OPERATORS = frozenset({"AND", "OR", "NOT", "NEAR"})
HINT = 'words must all match; "…" for a phrase; * at the end of a word for a prefix, as in secur*'

# Private markers for FTS5 snippet()/highlight(): control characters, which the index never holds
# (index_text replaces them with spaces), so a marker in the output can only be one FTS5 put there.
MARK_START, MARK_END = "\x02", "\x03"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Ligatures FTS5's unicode61 tokenizer does not fold: "coeur" must find "Cœur". One letter for two keeps
# every token where it was, which snippets rely on (see search_index).
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE"})


class SearchSyntaxError(ClientError):
    """The search text is empty, too long or malformed."""


@dataclass(frozen=True)
class Term:
    """One term of a search: a word or a phrase, maybe a prefix."""

    text: str
    phrase: bool = False
    prefix: bool = False


@dataclass(frozen=True)
class SearchQuery:
    """A parsed search: its terms, all of which must match."""

    text: str
    terms: tuple[Term, ...]

    @property
    def match(self) -> str:
        """The FTS5 MATCH expression: quoted strings only, joined by AND."""
        return " AND ".join(_fts_string(t) for t in self.terms)


def clean_text(text: str) -> str:
    """Text as stored in the index: NFC (a decomposed "é" is one letter) and no control characters."""
    return _CONTROL.sub(" ", unicodedata.normalize("NFC", text))


def index_text(text: str) -> str:
    """Text as the tokenizer sees it: cleaned, and ligatures spelled out."""
    return clean_text(text).translate(_LIGATURES)


def is_token_char(char: str) -> bool:
    """Whether FTS5's unicode61 tokenizer keeps `char` in a token (letters, digits, private use).

    Mirrors the tokenizer's own rule (Unicode categories L*, N*, Co) so that a term that would yield no
    token at all is refused with a message instead of matching nothing.
    """
    category = unicodedata.category(char)
    return category[0] in "LN" or category == "Co"


def _searchable(text: str) -> int:
    return sum(1 for c in text if is_token_char(c))


def _fts_string(term: Term) -> str:
    quoted = '"' + index_text(term.text).replace('"', '""') + '"'
    return quoted + "*" if term.prefix else quoted


def parse_search(raw: str | None, name: str = "q") -> SearchQuery:
    """Parse the search text of parameter `name`; SearchSyntaxError (400) naming it and saying what is wrong."""
    try:
        return _parse(raw)
    except SearchSyntaxError as err:
        raise SearchSyntaxError(f"search text {name!r}: {err.message}") from None


def _parse(raw: str | None) -> SearchQuery:
    text = (raw or "").strip()
    if not text:
        raise SearchSyntaxError(f"empty; {HINT}")
    if len(text) > MAX_QUERY_CHARS:
        raise SearchSyntaxError(f"{len(text)} characters long; at most {MAX_QUERY_CHARS}")
    if _CONTROL.search(text):
        raise SearchSyntaxError("holds a control character")
    if text.count('"') % 2:
        raise SearchSyntaxError(f'unbalanced quote: a phrase opens with " and closes with "; {HINT}')
    terms = [_term(match) for match in re.finditer(r'"([^"]*)"(\*?)|([^\s"]+)', text)]
    if len(terms) > MAX_TERMS:
        raise SearchSyntaxError(f"{len(terms)} terms; at most {MAX_TERMS}")
    return SearchQuery(text, tuple(terms))


def _term(match: re.Match[str]) -> Term:
    """One word or phrase of the search text, checked."""
    if match[3] is None:
        phrase, prefix = match[1], match[2] == "*"
        if not phrase.strip():
            raise SearchSyntaxError(f"empty phrase {match[0]!r}; {HINT}")
        if "*" in phrase:
            raise SearchSyntaxError(f"'*' inside the phrase {match[0]!r}: put it after the closing quote")
        return _checked(Term(phrase.strip(), phrase=True, prefix=prefix), match[0])
    word = match[3]
    if word.upper() == word and word in OPERATORS:
        raise SearchSyntaxError(f"{word!r} is not an operator here: {HINT}")
    body, prefix = (word[:-1], True) if word.endswith("*") else (word, False)
    if "*" in body:
        raise SearchSyntaxError(f"'*' in the middle of {word!r}: only at the end of a word, for a prefix")
    return _checked(Term(body, prefix=prefix), word)


def _checked(term: Term, shown: str) -> Term:
    """Refuse terms without a letter or digit (stray operators) and prefixes too short to rank."""
    if not _searchable(term.text):
        raise SearchSyntaxError(f"{shown!r} has no letter or digit to search; {HINT}")
    if term.prefix and _searchable(re.split(r"[^\w]+", term.text)[-1]) < MIN_PREFIX_CHARS:
        raise SearchSyntaxError(
            f"the prefix {shown!r} is too short: give at least {MIN_PREFIX_CHARS} letters"
        )
    return term


@dataclass(frozen=True)
class Marked:
    """A text with the ranges a search matched, as [start, end) offsets in code points."""

    text: str
    marks: tuple[tuple[int, int], ...] = ()


def split_marks(marked: str) -> Marked:
    """Turn FTS5 output with private markers into plain text and the marked ranges."""
    plain: list[str] = []
    marks: list[tuple[int, int]] = []
    length, start = 0, None
    for part in re.split(f"([{MARK_START}{MARK_END}])", marked):
        if part == MARK_START:
            start = length
        elif part == MARK_END:
            if start is not None and length > start:
                marks.append((start, length))
            start = None
        else:
            plain.append(part)
            length += len(part)
    return Marked("".join(plain), tuple(marks))


def marked_html(marked: Marked) -> Markup:
    """The text as HTML: every piece escaped, the marked ranges in <mark>."""
    parts, last = [], 0
    for start, end in marked.marks:
        parts += [escape(marked.text[last:start]), Markup("<mark>"), escape(marked.text[start:end])]
        parts.append(Markup("</mark>"))
        last = end
    parts.append(escape(marked.text[last:]))
    return Markup("").join(parts)
