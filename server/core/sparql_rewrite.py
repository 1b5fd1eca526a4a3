"""Pure SPARQL text work for a remote engine: a query's form, and variable bindings as injected VALUES blocks.

pyoxigraph binds variables with `substitutions=`: the value is joined at the start of the query's outermost
group (its FILTERs see it, plain sub-groups do not), and in every sub-query that projects the variable (the
same variable in scope: a `LIMIT` inside such a sub-query applies to the bound value only). A remote engine
only takes text, so the same bindings become `VALUES (?a ?b) { (t1 t2) }` written right after the `{` that
opens each of those groups, each term written by pyoxigraph (`str(term)`: N-Triples syntax), never user text
spliced in.

Finding those `{` needs a lexer that skips strings, IRIs and comments (a brace inside `"…{…"` or `# {` is not
a group) and follows SELECT projections. rdflib's parser gives no character offsets and costs milliseconds
per query, and no small library tokenises SPARQL with positions: hence the few lines below.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence

from server.core import rdf as ox

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple

FORMS = ("select", "ask", "construct", "describe")

# One token at a time: comments, long strings, short strings, IRIs, then a single brace or parenthesis,
# then any other run of characters. `<` that does not open an IRI (the less-than operator) is "other".
_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<comment>\#[^\n]*)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
                |'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<punct>[{}()\[\]])
    | (?P<word>[^\s{}()\[\]<"'\#]+|<)
    """,
    re.VERBOSE | re.DOTALL,
)


class RewriteError(ValueError):
    """The bindings cannot be written into this query's text."""


def tokens(query: str) -> Iterator[tuple[str, str, int]]:
    """(kind, text, end offset) of each significant token; spaces and comments left out."""
    for match in _TOKEN.finditer(query):
        kind = match.lastgroup or "word"
        if kind not in ("space", "comment"):
            yield kind, match.group(), match.end()


def query_form(query: str) -> str | None:
    """ "select", "ask", "construct" or "describe": the first keyword after the prologue; None if not found."""
    for kind, text, _ in tokens(query):
        if kind == "word" and text.lower() in FORMS:
            return text.lower()
        if kind == "punct":
            return None
    return None


def without_ask(query: str) -> str:
    """An ASK query as `CONSTRUCT {}` (the same grammar after the keyword): parsed without being evaluated.

    pyoxigraph evaluates ASK at once but SELECT, CONSTRUCT and DESCRIBE only when their results are read,
    so checking a query's syntax on an empty store costs a parse, whatever the query.
    """
    for kind, text, end in tokens(query):
        if kind == "word" and text.lower() in FORMS:
            if text.lower() != "ask":
                return query
            return query[: end - len(text)] + "CONSTRUCT {}" + query[end:]
        if kind == "punct":
            return query
    return query


def nesting(query: str) -> int:
    """How deep groups, brackets and parentheses nest in the query (engines parse by recursion)."""
    depth = deepest = 0
    for kind, text, _ in tokens(query):
        if kind == "punct":
            depth += 1 if text in "{([" else -1
            deepest = max(deepest, depth)
    return deepest


def _projection(toks: list[tuple[str, str, int]], i: int, inherited: set[str]) -> tuple[set[str], int]:
    """The inherited variables a SELECT at toks[i] projects as they are, and the index of its group's `{`."""
    projected: set[str] = set()
    computed: set[str] = set()
    parens = 0
    star = False
    for j in range(i + 1, len(toks)):
        kind, text, _ = toks[j]
        if kind == "punct" and text == "{" and parens == 0:
            return (inherited if star else projected & inherited) - computed, j
        if kind == "punct" and text in "()":
            parens += 1 if text == "(" else -1
        elif kind == "word" and text == "*" and parens == 0:
            star = True
        elif kind == "word" and text[:1] in "?$":
            name = text[1:]
            if parens == 0:
                projected.add(name)
            elif toks[j - 1][1].lower() == "as":
                computed.add(name)
    raise RewriteError("the query has no WHERE group")


def injection_points(query: str, names: set[str]) -> list[tuple[int, set[str]]]:
    """Where to write bindings of `names`: after the outermost WHERE `{`, and in sub-queries projecting them.

    Each point is (offset just after a `{`, the variables to bind there).
    """
    toks = list(tokens(query))
    form = query_form(query)
    points: list[tuple[int, set[str]]] = []
    scopes: list[tuple[int, set[str]]] = []  # (brace depth its group opened at, variables bound in it)
    opening: dict[int, set[str]] = {}  # token index of a scope's `{` → its variables
    depth = parens = 0
    template = form == "construct"
    seen_form = False
    for i, (kind, text, end) in enumerate(toks):
        word = text.lower() if kind == "word" else ""
        if word in FORMS and not seen_form:
            seen_form = True
            if word == "select":
                bound, at = _projection(toks, i, names)
                opening[at] = names  # the outermost group: pyoxigraph binds every substituted variable
        elif word == "select" and i > 0 and toks[i - 1][1] == "{" and scopes:
            bound, at = _projection(toks, i, scopes[-1][1])
            opening[at] = bound
        if kind != "punct":
            continue
        if text in "()":
            parens += 1 if text == "(" else -1
        elif text == "{":
            if depth == 0 and parens == 0 and seen_form and not opening and not scopes:
                if template:  # CONSTRUCT's template: not a group
                    if toks[i - 1][1].lower() == "where":
                        raise RewriteError("CONSTRUCT WHERE { … } (the short form) cannot take bindings")
                    template = False
                else:
                    opening[i] = names
            if i in opening:
                scopes.append((depth, opening[i]))
                subselect = i + 1 < len(toks) and toks[i + 1][1].lower() == "select"
                if opening[i] and not subselect:  # `{ SELECT …}`: bound in the sub-select instead
                    points.append((end, opening[i]))
            depth += 1
        elif text == "}":
            depth -= 1
            if scopes and scopes[-1][0] == depth:
                scopes.pop()
    if not points and names:
        raise RewriteError("the query has no WHERE group")
    return points


def outer_group_start(query: str) -> int:
    """The offset just after the `{` that opens the query's outermost WHERE group."""
    names = {"_"}
    return injection_points(query, names)[0][0]


def values(variables: Sequence[str], rows: Iterable[Sequence[Term]]) -> str:
    """`VALUES (?a ?b) { (t1 t2) … }`: the one writer of inline data in our queries.

    Variables and terms are written by pyoxigraph (`Variable`, `str(term)`: N-Triples syntax), which checks
    and escapes them: a value from a request never becomes SPARQL text of its own.
    """
    names = " ".join(str(ox.Variable(name)) for name in variables)
    return f"VALUES ({names}) {{ " + " ".join(f"({' '.join(map(str, row))})" for row in rows) + " }"


def values_block(bindings: Mapping[str, Term]) -> str:
    """One row of VALUES binding each variable of `bindings` to its term (IRIs and literals only)."""
    for name, term in bindings.items():
        if not isinstance(term, ox.NamedNode | ox.Literal):
            raise RewriteError(f"?{name}: only IRIs and literals can be sent as bindings, not {term}")
    return values(list(bindings), [list(bindings.values())])


def bind(query: str, bindings: Mapping[str, Term] | None) -> str:
    """The query with `bindings` joined where pyoxigraph's substitutions apply (the text as is without any)."""
    if not bindings:
        return query
    parts, last = [], 0
    for at, names in injection_points(query, set(bindings)):
        parts += [query[last:at], " ", values_block({n: bindings[n] for n in bindings if n in names}), "\n"]
        last = at
    return "".join(parts) + query[last:]
