"""Named queries: read the `#` headers of `queries/*.rq`, type and bind parameters as RDF terms, run them.

A query file is a header of `#` lines (title, description, parameters, tags; see `queries/README.md`)
followed by SPARQL that runs as-is: one line `VALUES ?param … { default … }` in its body gives the defaults.
To run with other values the runner drops that line and binds every parameter with pyoxigraph
`substitutions=` (a substituted variable is replaced throughout the query, FILTERs included), so a
user's string never becomes SPARQL text.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from server.core import rdf as ox
from server.core.backend import Backend, Term
from server.core.errors import ClientError, NotFound
from server.core.sparql_rewrite import values

XSD = "http://www.w3.org/2001/XMLSchema#"
PARAM_TYPES: tuple[str, ...] = ("iri", "string", "integer", "date")
RESERVED_NAMES = frozenset({"format"})  # query-string keys the API keeps for itself

_HEADER = re.compile(r"^#\s*(?P<key>[a-z]+)(?:@(?P<lang>[a-z]{2}))?\s*:\s*(?P<value>.*)$")
_PARAM = re.compile(
    r"^(?P<name>[a-z][a-z0-9_]*)\s+(?P<type>[a-z]+)"
    r"(?:\s+values=(?P<kind>instances|objects)\((?P<terms>[^)]*)\))?"
    r"(?:\s+(?:--|—)\s*(?P<doc>.*))?$"
)
_PREFIX = re.compile(r"^\s*PREFIX\s+(?P<prefix>[A-Za-z][\w.-]*)?:\s*<(?P<iri>[^>]*)>", re.I | re.M)
_VALUES_LINE = re.compile(r"^\s*VALUES\s*(?:\((?P<many>[^)]*)\)|(?P<one>\?\w+))\s*\{.*\}\s*(?:#.*)?$", re.I)
_ENGINE = re.compile(r"^search\s+(?P<param>[a-z][a-z0-9_]*)\s+(?P<bind>[a-z][a-zA-Z0-9_]*)\s+(?P<cls>\S+)$")
WHERE_OPEN = re.compile(r"\bWHERE\s*\{", re.I)
_PORTABLE_MATCH = re.compile(
    r"^[ \t]*# portable-match-begin\b.*?^[ \t]*# portable-match-end[^\n]*\n", re.M | re.S
)
SEARCH_ROWS = 100  # the best resources a query run by the search index answers with (details cost per row)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_INTEGER = re.compile(r"^[+-]?[0-9]{1,18}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class LibraryError(Exception):
    """A query file of the library is malformed (a bug in `queries/`, not in a request)."""


class UnknownQuery(NotFound):
    """No query of the library has that name."""


class ParameterError(ClientError):
    """A parameter of a request is unknown, missing, of the wrong type or not allowed."""


@dataclass(frozen=True)
class Values:
    """Where a parameter's allowed values come from: instances of classes, or objects of properties."""

    kind: str  # "instances" | "objects"
    terms: tuple[str, ...]  # class or property IRIs


@dataclass(frozen=True)
class Parameter:
    """A typed parameter of a named query; its SPARQL variable has the same name."""

    name: str
    type: str
    default: Term
    description: str = ""
    values: Values | None = None

    def parse(self, raw: str) -> Term:
        """Turn a request string into an RDF term of this parameter's type; ParameterError if it is not one."""
        return parse_value(self.name, self.type, raw)


@dataclass(frozen=True)
class Chart:
    """How to draw a result as bars: the columns that label a bar, the numeric columns (one series each)."""

    label: tuple[str, ...]
    value: tuple[str, ...]


@dataclass(frozen=True)
class Engine:
    """`# engine: search PARAM VAR CLASS`: the search index answers PARAM, ranking resources of CLASS as VAR.

    The query's lines from `# portable-match-begin` to `# portable-match-end` are its portable text match
    (CONTAINS): the index replaces them, and `body` is the query without them, run on the index's resources.
    """

    param: str
    bind: str
    cls: str  # the class IRI
    body: str = field(default="", repr=False)


@dataclass(frozen=True)
class NamedQuery:
    """A query of the library: its metadata, its SPARQL (runnable as-is with defaults), its parameters."""

    name: str
    title: dict[str, str]
    descriptions: dict[str, str]
    sparql: str
    parameters: tuple[Parameter, ...] = ()
    tags: tuple[str, ...] = ()
    chart: Chart | None = None
    columns: tuple[str, ...] = ()  # the variables of the SELECT, in order
    body: str = field(default="", repr=False)  # the SPARQL without the defaults line: what is bound and run
    engine: Engine | None = None  # answered from the search index when the build has one
    headers: dict[str, str] = field(default_factory=dict)  # `# columns@fr:` column → its French header

    def header(self, column: str) -> str:
        """A column's French header: the query's own, else the variable split into words ("axe Numero")."""
        return self.headers.get(column) or _CAMEL.sub(" ", column).capitalize()

    @property
    def description(self) -> str:
        """The description in English, else French."""
        return self.descriptions.get("en") or self.descriptions.get("fr", "")

    def parameter(self, name: str) -> Parameter:
        """The parameter called `name`; ParameterError if there is none."""
        for param in self.parameters:
            if param.name == name:
                return param
        raise ParameterError(f"unknown parameter {name!r} for query {self.name!r}")


def parse_value(name: str, type_: str, raw: str) -> Term:
    """Parse `raw` as an RDF term of type iri, string, integer or date; ParameterError naming `name`."""
    if type_ == "string":
        return ox.Literal(raw)
    if type_ == "integer" and _INTEGER.match(raw.strip()):
        return ox.Literal(str(int(raw)), datatype=ox.NamedNode(XSD + "integer"))
    if type_ == "date" and _DATE.match(raw.strip()):
        try:
            return ox.Literal(
                dt.date.fromisoformat(raw.strip()).isoformat(), datatype=ox.NamedNode(XSD + "date")
            )
        except ValueError:
            pass
    if type_ == "iri":
        try:
            return ox.NamedNode(raw.strip())
        except ValueError:
            pass
    expected = {"iri": "an absolute IRI", "integer": "an integer", "date": "a date YYYY-MM-DD"}
    raise ParameterError(f"parameter {name!r} must be {expected.get(type_, type_)}, got {raw[:200]!r}")


def parse_query(name: str, text: str) -> NamedQuery:
    """Read one query file's text: header, parameters, defaults line; LibraryError if malformed."""
    lines = text.splitlines()
    split = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    header, sparql = lines[:split], "\n".join(lines[split:]).strip() + "\n"
    fields_: dict[str, list[tuple[str | None, str]]] = {}
    for line in header:
        match = _HEADER.match(line)
        if match:
            fields_.setdefault(match["key"], []).append((match["lang"], match["value"].strip()))
        elif line.strip("# ") and fields_:
            last = list(fields_)[-1]  # an indented continuation line of the previous field
            lang, value = fields_[last][-1]
            fields_[last][-1] = (lang, f"{value} {line.lstrip('#').strip()}")
    title = {lang or "en": value for lang, value in fields_.get("title", [])}
    if not {"fr", "en"} <= title.keys():
        raise LibraryError(f"{name}: a title@fr and a title@en are required")
    descriptions = {lang or "en": value for lang, value in fields_.get("description", [])}
    tags = tuple(t.strip() for _lang, v in fields_.get("tags", []) for t in v.split(",") if t.strip())
    declared = [_parse_param(name, value) for _lang, value in fields_.get("param", [])]
    body, defaults = _split_defaults(name, sparql, [p[0] for p in declared])
    parameters = tuple(
        Parameter(pname, ptype, defaults[pname], doc, values) for pname, ptype, values, doc in declared
    )
    chart = _parse_chart(name, fields_.get("chart", [(None, "")])[-1][1])
    engine = _parse_engine(name, fields_.get("engine", [(None, "")])[-1][1], body, parameters)
    headers = _parse_headers(
        name, " ; ".join(v for lang, v in fields_.get("columns", []) if lang in {None, "fr"})
    )
    query = NamedQuery(name, title, descriptions, sparql, parameters, tags, chart, (), body, engine, headers)
    columns = _check_runs(query)
    if not set(headers) <= set(columns):
        raise LibraryError(
            f"{name}: headers for columns the query does not return: {set(headers) - set(columns)}"
        )
    return replace(query, columns=columns)


def _parse_headers(query: str, value: str) -> dict[str, str]:
    """`a=Avenant; axeNumero=N° d’axe` → {"a": "Avenant", "axeNumero": "N° d’axe"}."""
    headers = {}
    for item in (part.strip() for part in value.split(";")):
        if not item:
            continue
        column, equals, header = item.partition("=")
        if not equals or not column.strip() or not header.strip():
            raise LibraryError(f"{query}: bad column header {item!r} (want column=Header)")
        headers[column.strip()] = header.strip()
    return headers


def _parse_engine(query: str, value: str, sparql: str, parameters: Sequence[Parameter]) -> Engine | None:
    """Read `search PARAM VAR CLASS`: PARAM a string parameter, VAR a variable of the query."""
    if not value:
        return None
    match = _ENGINE.match(value)
    if not match or not any(p.name == match["param"] and p.type == "string" for p in parameters):
        raise LibraryError(f"{query}: bad engine declaration {value!r} (search PARAM VAR CLASS)")
    if not re.search(rf"[?$]{match['bind']}\b", sparql) or not WHERE_OPEN.search(sparql):
        raise LibraryError(f"{query}: the engine binds ?{match['bind']}, which the query does not use")
    indexed, found = _PORTABLE_MATCH.subn("", sparql)
    if found != 1:
        raise LibraryError(f"{query}: an engine query marks its text match: # portable-match-begin … -end")
    try:  # what the index path runs must parse too, so a broken file fails at load time
        empty = WHERE_OPEN.sub(lambda m: f"{m.group(0)} {values([match['bind']], [])}", indexed, count=1)
        ox.evaluate_without_data(empty, _substitutions({p.name: p.default for p in parameters}))
    except (SyntaxError, ValueError) as err:
        raise LibraryError(f"{query}: without its portable match: {err}") from err
    prefixes = {m["prefix"] or "": m["iri"] for m in _PREFIX.finditer(sparql)}
    return Engine(match["param"], match["bind"], _expand(query, match["cls"], prefixes).value, indexed)


def _parse_param(query: str, value: str) -> tuple[str, str, Values | None, str]:
    """Read `name type [values=instances(…)|objects(…)] [— description]`."""
    match = _PARAM.match(value)
    if not match or match["type"] not in PARAM_TYPES or match["name"] in RESERVED_NAMES:
        raise LibraryError(f"{query}: bad parameter declaration {value!r}")
    values = Values(match["kind"], tuple(match["terms"].split())) if match["kind"] else None
    return match["name"], match["type"], values, (match["doc"] or "").strip()


def _parse_chart(query: str, value: str) -> Chart | None:
    """Read `label=col[,col…] value=col[,col…]`."""
    if not value:
        return None
    parts = dict(part.partition("=")[::2] for part in value.split())
    if set(parts) != {"label", "value"}:
        raise LibraryError(f"{query}: bad chart declaration {value!r}")
    return Chart(tuple(parts["label"].split(",")), tuple(parts["value"].split(",")))


def _split_defaults(query: str, sparql: str, names: list[str]) -> tuple[str, dict[str, Term]]:
    """Find the `VALUES` line binding exactly the parameters, evaluate it, and return the body without it."""
    if not names:
        return sparql, {}
    lines = sparql.splitlines()
    for index, line in enumerate(lines):
        match = _VALUES_LINE.match(line)
        variables = (match["many"] or match["one"] or "").split() if match else []
        if sorted(v.lstrip("?$") for v in variables) == sorted(names):
            prologue = "\n".join(m.group(0) for m in _PREFIX.finditer(sparql))
            try:
                rows = list(ox.evaluate_without_data(f"{prologue}\nSELECT * WHERE {{\n{line}\n}}"))
            except SyntaxError as err:
                raise LibraryError(f"{query}: bad defaults line: {err}") from err
            if len(rows) != 1 or any(rows[0][n] is None for n in names):
                raise LibraryError(f"{query}: the defaults line must give one value to each parameter")
            body = "\n".join(lines[:index] + lines[index + 1 :]) + "\n"
            return body, {n: rows[0][n] for n in names}
    raise LibraryError(f"{query}: no line `VALUES (?{' ?'.join(names)}) {{ … }}` gives the defaults")


def _check_runs(query: NamedQuery) -> tuple[str, ...]:
    """Parse the query as-is and as bound (on an empty store) so a broken file fails at load time."""
    try:
        result = ox.evaluate_without_data(query.sparql)
        ox.evaluate_without_data(query.body, _substitutions(default_bindings(query)))
    except (SyntaxError, RuntimeError, ValueError) as err:
        raise LibraryError(f"{query.name}: {err}") from err
    if not isinstance(result, ox.QuerySolutions):
        raise LibraryError(f"{query.name}: only SELECT queries belong in the library")
    columns = {v.value for v in result.variables}
    if query.chart and not set(query.chart.label + query.chart.value) <= columns:
        raise LibraryError(f"{query.name}: the chart names columns the query does not return")
    return tuple(v.value for v in result.variables)


def load_library(*folders: Path) -> list[NamedQuery]:
    """Every `*.rq` file of the folders (missing ones are skipped), parsed and checked, sorted by name;
    LibraryError when two folders hold different queries of the same name (a territory's own query may not
    hide one of the kit's; a copy of the kit's query is the same query)."""
    paths: dict[str, Path] = {}
    for folder in folders:
        for path in sorted(folder.glob("*.rq")) if folder.is_dir() else []:
            if path.stem in paths and path.read_bytes() != paths[path.stem].read_bytes():
                raise LibraryError(
                    f"{path}: a query named {path.stem!r} is already in {paths[path.stem].parent}"
                )
            paths[path.stem] = path
    return [parse_query(name, paths[name].read_text("utf-8")) for name in sorted(paths)]


def find(library: Iterable[NamedQuery], name: str) -> NamedQuery:
    """The query called `name`; UnknownQuery (404) if there is none."""
    for query in library:
        if query.name == name:
            return query
    raise UnknownQuery(f"no named query {name!r}")


def default_bindings(query: NamedQuery) -> dict[str, Term]:
    """Each parameter bound to its default."""
    return {p.name: p.default for p in query.parameters}


def bind(query: NamedQuery, raw: Mapping[str, str]) -> dict[str, Term]:
    """Type the request's values (defaults for the others); ParameterError for unknown names or bad values."""
    bindings = default_bindings(query)
    for name, value in raw.items():
        bindings[name] = query.parameter(name).parse(value)
    return bindings


def _substitutions(bindings: Mapping[str, Term]) -> dict[ox.Variable, Term]:
    return {ox.Variable(name): term for name, term in bindings.items()}


_PREFIXES = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX cdv: <https://w3id.org/cdv/ontology#>
"""
# Where a parameter's values are, per `values=` kind: ?term is bound to each class or property of the header.
PATTERNS = {"instances": "?value a ?term .", "objects": "?s ?term ?value ."}
# The first values (DISTINCT … LIMIT stops reading once it has them, so the cost does not grow with the
# number of documents); then whether one value is allowed; then the values matching a text. A substituted
# variable must be projected (pyoxigraph), hence ?term and ?text in the SELECTs.
FIRST_VALUES = {
    kind: f"SELECT DISTINCT ?term ?value WHERE {{ {p} }} LIMIT %d" for kind, p in PATTERNS.items()
}
IS_ALLOWED = {kind: f"SELECT ?term ?value WHERE {{ {p} }} LIMIT 1" for kind, p in PATTERNS.items()}
_NAME = "rdfs:label|skos:prefLabel|foaf:name"
MATCHING_VALUES = {
    kind: _PREFIXES
    + f"""SELECT DISTINCT ?term ?text ?value WHERE {{
  {p}
  OPTIONAL {{ ?value {_NAME} ?l }}
  FILTER(CONTAINS(LCASE(STR(?value)), ?text) || CONTAINS(LCASE(STR(?l)), ?text))
}} LIMIT %d"""
    for kind, p in PATTERNS.items()
}
# The label and group (the document) of given values: one row per value, whatever the number of documents.
# MIN, not SAMPLE: the same label on every engine; isIRI: Virtuoso matches a typed literal's datatype as a
# subject (a SIREN number got the datatype's label as its group).
LABELS = (
    _PREFIXES
    + """SELECT ?value (MIN(STR(?l)) AS ?label) (MIN(STR(?g)) AS ?group) WHERE {
  %s
  OPTIONAL { FILTER(isIRI(?value)) ?value """
    + _NAME
    + """ ?l FILTER(LANG(?l) IN ("fr", "")) }
  OPTIONAL { FILTER(isIRI(?value)) ?value cdv:avenant/rdfs:label ?g }
} GROUP BY ?value"""
)


@dataclass(frozen=True)
class Choice:
    """An allowed value of a parameter, with a label and a group (its document) for forms."""

    value: Term
    label: str
    group: str = ""


def value_terms(query: NamedQuery, param: Parameter) -> list[ox.NamedNode]:
    """The classes or properties of a parameter's `values=` header, as IRIs."""
    assert param.values is not None
    prefixes = {m["prefix"] or "": m["iri"] for m in _PREFIX.finditer(query.sparql)}
    return [_expand(query.name, term, prefixes) for term in param.values.terms]


def allowed_values(store: Backend, query: NamedQuery, param: Parameter, bound: int) -> list[Choice] | None:
    """The values a parameter may take in this store, labelled and sorted (empty when they are not
    enumerable); None when there are more than `bound` of them: then they are looked up (`matching`)."""
    if param.values is None:
        return []
    found = first_values(store, query, param, bound + 1)
    return None if len(found) > bound else labelled(store, found)


def first_values(store: Backend, query: NamedQuery, param: Parameter, limit: int) -> list[Term]:
    """At most `limit` values of the parameter's type, asking the store for no more than that."""
    assert param.values is not None
    return _values(store, query, param, FIRST_VALUES[param.values.kind], {}, limit)


def matching_values(store: Backend, query: NamedQuery, param: Parameter, text: str, limit: int) -> list[Term]:
    """At most `limit` values whose IRI, lexical form or name contains `text` (case ignored), in SPARQL."""
    assert param.values is not None
    bindings = {"text": ox.Literal(text.lower())}
    return _values(store, query, param, MATCHING_VALUES[param.values.kind], bindings, limit)


def _values(
    store: Backend, query: NamedQuery, param: Parameter, sparql: str, bindings: dict[str, Term], limit: int
) -> list[Term]:
    """At most `limit` values of the parameter's type that `sparql` (a `%d` for its LIMIT) finds, term by term."""
    found: dict[Term, None] = {}
    for term in value_terms(query, param):
        for row in store.query(sparql % (limit - len(found)), substitutions={**bindings, "term": term}):
            if _has_type(row["value"], param.type):
                found[row["value"]] = None
        if len(found) >= limit:
            break
    return list(found)[:limit]


def labelled(store: Backend, terms: Sequence[Term]) -> list[Choice]:
    """The terms with their label and group, in one query; sorted by group, then number, then label."""
    if not terms:
        return []
    choices = {term: Choice(term, term.value) for term in terms}
    for row in store.query(LABELS % values(["value"], ([t] for t in terms))):
        value, label, group = row["value"], row["label"], row["group"]
        if value in choices:
            text = label.value if label is not None else value.value
            choices[value] = Choice(value, text, group.value if group is not None else "")
    return sorted(choices.values(), key=lambda c: (c.group, _sort_key(c.value), c.label))


def is_allowed(store: Backend, query: NamedQuery, param: Parameter, value: Term) -> bool:
    """Whether the store holds `value` as a value of the parameter: one query of one row at most."""
    assert param.values is not None
    return _has_type(value, param.type) and any(
        any(
            True
            for _row in store.query(IS_ALLOWED[param.values.kind], substitutions={"term": t, "value": value})
        )
        for t in value_terms(query, param)
    )


def _sort_key(value: Term) -> tuple[int, str]:
    """Numbers in numeric order (axe/2 before axe/10), then text."""
    text = value.value
    tail = re.search(r"(\d+)$", text)
    return (int(tail.group(1)) if tail else 0, text)


def _has_type(value: Term, type_: str) -> bool:
    """Whether a store value fits a parameter type (the enumeration may hold other terms)."""
    if type_ == "iri":
        return isinstance(value, ox.NamedNode)
    if not isinstance(value, ox.Literal):
        return False
    datatype = value.datatype.value
    wanted = {"string": XSD + "string", "integer": XSD + "integer", "date": XSD + "date"}[type_]
    return datatype == wanted or (type_ == "string" and datatype.endswith("#langString"))


def _expand(query: str, term: str, prefixes: Mapping[str, str]) -> ox.NamedNode:
    """A `prefix:local` or `<iri>` of a header, as an IRI, using the query's own PREFIX lines."""
    if term.startswith("<") and term.endswith(">"):
        return ox.NamedNode(term[1:-1])
    prefix, _, local = term.partition(":")
    if prefix not in prefixes:
        raise LibraryError(f"{query}: unknown prefix in {term!r}")
    return ox.NamedNode(prefixes[prefix] + local)


def check_allowed(
    store: Backend,
    query: NamedQuery,
    bindings: Mapping[str, Term],
    allowed: Mapping[str, Sequence[Choice] | None] | None = None,
) -> None:
    """ParameterError when a bound value is outside its parameter's allowed values (the default always fits).

    `allowed` gives the enumerated values of the parameters that have few; the others are asked the store.
    """
    for param in query.parameters:
        if param.values is None or bindings[param.name] == param.default:
            continue
        choices = (allowed or {}).get(param.name)
        value = bindings[param.name]
        if choices is not None:
            fits = value in {c.value for c in choices}
        else:
            fits = is_allowed(store, query, param, value)
        if not fits:
            raise ParameterError(f"parameter {param.name!r}: {value} is not an allowed value")
