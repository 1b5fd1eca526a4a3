"""Blueprint: an HTML page per named query (form, results table, downloads, bar chart) and the list of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Blueprint, render_template, request, url_for

from server.core import rdf as ox
from server.core.describe import label_triples
from server.core.errors import DomainError
from server.core.iris import IriMap, iri_map
from server.core.library import Chart, NamedQuery, Parameter, find
from server.core.presentation import Labels
from server.core.vocab import prefixes
from server.web.context import engine, settings, shared_descriptions
from server.web.errors import http_status
from server.web.queries_api import choices, library, lookup_url, request_values, run_request

bp = Blueprint("query_pages", __name__)

DOWNLOADS = (("CSV", "csv"), ("JSON", "json"), ("SPARQL JSON", "sparql-json"), ("TSV", "tsv"))
SERIES_COLOURS = ("#000091", "#c9191e", "#18753c", "#b34000", "#6a6af4")


@dataclass(frozen=True)
class Cell:
    """A result value as shown: its text (an IRI's label), a link when it is an IRI, the IRI itself."""

    text: str
    href: str | None = None
    iri: str | None = None


@dataclass(frozen=True)
class Bar:
    """One bar of a chart: its series, value and length in per cent of the largest."""

    series: str
    value: float
    percent: float
    colour: str


@dataclass(frozen=True)
class BarGroup:
    """The bars of one result row, under its label."""

    label: str
    bars: tuple[Bar, ...]


def cell(
    term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None,
    links: IriMap,
    labels: Labels | None = None,
) -> Cell:
    """How a term is shown in the results table: IRIs as their label, linked to their page on this server."""
    if term is None:
        return Cell("")
    if isinstance(term, ox.NamedNode):
        known = labels is not None and (term.value in labels.labels or term.value in labels.notations)
        if known and labels is not None:
            text = labels.label(term.value)[1]
        else:
            text = term.value[len(links.base_iri) :] if links.is_local(term.value) else term.value
        return Cell(text, links.url(term.value), term.value)
    if isinstance(term, ox.Literal):
        return Cell(term.value)
    return Cell(str(term))


def result_labels(rows: Sequence[Mapping[str, object]], links: IriMap) -> Labels:
    """The labels of the IRIs a result holds: one batched store query, whatever the number of rows."""
    cdv = settings().ontology_iri + "#"
    wanted = {v.value for row in rows for v in row.values() if isinstance(v, ox.NamedNode)}
    names = label_triples(engine(), wanted, cdv, precomputed=shared_descriptions()) if wanted else ()
    return Labels(links, prefixes(), {}).learn(names)


def _number(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return 0.0


def bar_groups(rows: Sequence[Mapping[str, str]], chart: Chart) -> list[BarGroup]:
    """Pure: the bars of a chart from result rows of plain strings, lengths relative to the largest value.

    Rows whose values are all zero are left out of the chart.
    """
    values = [_number(row.get(column, "")) for row in rows for column in chart.value]
    largest = max([v for v in values if v > 0], default=1.0)
    groups = []
    for row in rows:
        label = " · ".join(row.get(column, "") for column in chart.label if row.get(column))
        bars = tuple(
            Bar(
                column,
                _number(row.get(column, "")),
                100 * max(_number(row.get(column, "")), 0) / largest,
                colour,
            )
            for column, colour in zip(chart.value, SERIES_COLOURS * 4, strict=False)
        )
        if any(bar.value for bar in bars):  # a row of zeros draws nothing: the table still lists it
            groups.append(BarGroup(label, bars))
    return groups


def form_fields(query: NamedQuery, raw: Mapping[str, str]) -> list[dict[str, object]]:
    """What the form shows for each parameter: its input kind, current value and choices (a select), or,
    for a parameter with too many values to list, where to look them up (a type-ahead and a link)."""
    query_choices = choices(query)
    fields = []
    for param in query.parameters:
        listed = query_choices.get(param.name)
        fields.append(
            {
                "param": param,
                "value": raw.get(param.name, param.default.value),
                "input": _input_type(param),
                "choices": listed or [],
                "lookup": lookup_url(query, param) if param.values and listed is None else None,
            }
        )
    return fields


def _input_type(param: Parameter) -> str:
    return {"date": "date", "integer": "number", "iri": "url"}.get(param.type, "search")


@bp.get("/queries")
def query_list() -> str:
    """The library: every query with its title, description and tags; `?tag=` filters."""
    tag = request.args.get("tag", "")
    queries = [q for q in library() if not tag or tag in q.tags]
    tags = sorted({t for q in library() for t in q.tags})
    return render_template("queries_list.html", queries=queries, tags=tags, tag=tag)


@bp.get("/queries/<name>")
def query_page(name: str) -> tuple[str, int]:
    """One query: description, SPARQL, a form for its parameters, the results as a table and a chart."""
    query = find(library(), name)
    links = iri_map(settings().base_iri, settings().public_url, request.url_root)
    error, status = None, 200
    columns: list[str] = []
    rows: list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None]] = []
    raw: dict[str, str] = {}
    try:
        raw = {k: v for k, v in request_values(request.args.to_dict(flat=False)).items() if v != ""}
        solutions = run_request(query, raw)
        columns = [v.value for v in solutions.variables]
        rows = [{c: row[c] for c in columns} for row in solutions]
    except DomainError as err:
        error, status = err.message, http_status(err)
    labels = result_labels(rows, links)
    table = [[cell(row[c], links, labels) for c in columns] for row in rows]
    plain = [{c: cell(row[c], links, labels).text for c in columns} for row in rows]
    chart = bar_groups(plain, query.chart) if query.chart and rows else []
    query_string = urlencode(raw)
    downloads = [
        (label, url_for("queries_api.run_query", name=name) + "?" + urlencode({**raw, "format": fmt}))
        for label, fmt in DOWNLOADS
    ]
    page = render_template(
        "queries_page.html",
        query=query,
        fields=form_fields(query, raw),
        columns=columns,
        headers=[query.header(c) for c in columns],
        table=table,
        chart=chart,
        series=list(zip(query.chart.value, SERIES_COLOURS, strict=False)) if query.chart else [],
        downloads=downloads,
        error=error,
        query_string=query_string,
    )
    return page, status
