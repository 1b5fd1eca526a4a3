"""Pure: the user's search syntax → a safe SQLite FTS5 MATCH expression, and snippets with marked ranges.

The syntax is small on purpose: words must all match (AND), `"…"` is a phrase, a trailing `*` searches a
prefix (`secur*`, `"accès aux dr"*`). Case and accents never matter (the index's tokenizer folds them), nor
do French plurals and endings: words and phrases are matched by their stems (Snowball's French stemmer, at
index and query time: "ecole" finds "écoles"), prefixes by the words as written. Every term is sent to FTS5
as a double-quoted string, so nothing a user types is ever read as FTS5 syntax (`OR`, `NEAR`, `col:`, `^`,
parentheses): the expression is built, never passed through. Messages are in French, as the site is.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from itertools import groupby
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from server.core.errors import ClientError

if TYPE_CHECKING:
    from snowballstemmer.basestemmer import BaseStemmer

MAX_QUERY_CHARS = 200
MAX_TERMS = 16
MIN_PREFIX_CHARS = 2  # `a*` would match most of the index: too broad to rank, and slow at national scale
OPERATORS = frozenset({"AND", "OR", "NOT", "NEAR"})
HINT = (
    'tous les mots doivent figurer ; "…" pour une expression ; * en fin de mot pour un préfixe, comme secur*'
)
# The index's columns: each text as written (prefixes match there) and as stems (words and phrases do).
WORD_COLUMNS = "{label kinds body}"
STEM_COLUMNS = "{slabel skinds sbody}"
# A Snowball stemmer keeps the word it is stemming as its own state: one shared by a server worker's threads
# mixed their words (IndexError in the middle of a search, a 500, seen in the soak test). One per thread.
_STEMMERS = threading.local()

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
        """The FTS5 MATCH expression: quoted strings only, each limited to its columns, joined by AND."""
        return " AND ".join(_fts_string(t) for t in self.terms)


def fold(word: str) -> str:
    """Lower case, accents and ligatures removed: what the stemmer is given, so "ecoles" and "écoles" agree."""
    decomposed = unicodedata.normalize("NFD", word.lower().translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _french() -> BaseStemmer:
    """This thread's French stemmer."""
    if not hasattr(_STEMMERS, "french"):
        # Imported at the first search: the package imports the stemmers of its 30 languages (3 MiB in each
        # server worker), which a worker that is never asked to search does without
        import snowballstemmer

        _STEMMERS.french = snowballstemmer.stemmer("french")
    return _STEMMERS.french


def stem_word(word: str) -> str:
    """The French stem of one word: folded, stemmed by Snowball, then a final plural s or x dropped.

    Snowball keeps the s of "emplois" and the x of "jeux" (it cannot tell them from "bois" or "prix"); for
    search, conflating those few words costs less than missing every plural in -ois, -ais, -eux.
    """
    stem = _french().stemWord(fold(word)) or fold(word)
    return stem[:-1] if len(stem) > 2 and stem[-1] in "sx" else stem


def stem_text(text: str) -> str:
    """Every token of `text` (a run of the characters FTS5 keeps, is_token_char) replaced by its stem and
    everything between tokens kept: one token for one token, at the same position, so FTS5's snippets over
    the stems mark the right words of the text as written."""
    return "".join(
        (stem_word(run) or run) if is_token else run
        for is_token, chars in groupby(text, key=is_token_char)
        for run in ["".join(chars)]
    )


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
    if term.prefix:
        return f'{WORD_COLUMNS} : "' + index_text(term.text).replace('"', '""') + '"*'
    return f'{STEM_COLUMNS} : "' + stem_text(index_text(term.text)).replace('"', '""') + '"'


def parse_search(raw: str | None, name: str = "q") -> SearchQuery:
    """Parse the search text of parameter `name`; SearchSyntaxError (400) naming it and saying what is wrong."""
    try:
        return _parse(raw)
    except SearchSyntaxError as err:
        raise SearchSyntaxError(f"texte recherché {name!r} : {err.message}") from None


def _parse(raw: str | None) -> SearchQuery:
    text = (raw or "").strip()
    if not text:
        raise SearchSyntaxError(f"vide ; {HINT}")
    if len(text) > MAX_QUERY_CHARS:
        raise SearchSyntaxError(f"{len(text)} caractères ; au plus {MAX_QUERY_CHARS}")
    if _CONTROL.search(text):
        raise SearchSyntaxError("contient un caractère de contrôle")
    if text.count('"') % 2:
        raise SearchSyntaxError(f'guillemet non refermé : une expression s’ouvre et se ferme par " ; {HINT}')
    terms = [_term(match) for match in re.finditer(r'"([^"]*)"(\*?)|([^\s"]+)', text)]
    if len(terms) > MAX_TERMS:
        raise SearchSyntaxError(f"{len(terms)} termes ; au plus {MAX_TERMS}")
    return SearchQuery(text, tuple(terms))


def _term(match: re.Match[str]) -> Term:
    """One word or phrase of the search text, checked."""
    if match[3] is None:
        phrase, prefix = match[1], match[2] == "*"
        if not phrase.strip():
            raise SearchSyntaxError(f"expression vide {match[0]!r} ; {HINT}")
        if "*" in phrase:
            raise SearchSyntaxError(
                f"'*' dans l’expression {match[0]!r} : placez-le après le guillemet fermant"
            )
        return _checked(Term(phrase.strip(), phrase=True, prefix=prefix), match[0])
    word = match[3]
    if word.upper() == word and word in OPERATORS:
        raise SearchSyntaxError(f"{word!r} n’est pas un opérateur ici : {HINT}")
    body, prefix = (word[:-1], True) if word.endswith("*") else (word, False)
    if "*" in body:
        raise SearchSyntaxError(f"'*' au milieu de {word!r} : seulement en fin de mot, pour un préfixe")
    return _checked(Term(body, prefix=prefix), word)


def _checked(term: Term, shown: str) -> Term:
    """Refuse terms without a letter or digit (stray operators) and prefixes too short to rank."""
    if not _searchable(term.text):
        raise SearchSyntaxError(f"{shown!r} n’a ni lettre ni chiffre à chercher ; {HINT}")
    if term.prefix and _searchable(re.split(r"[^\w]+", term.text)[-1]) < MIN_PREFIX_CHARS:
        raise SearchSyntaxError(
            f"le préfixe {shown!r} est trop court : donnez au moins {MIN_PREFIX_CHARS} lettres"
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
