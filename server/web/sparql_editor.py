"""The query editor of /sparql for browsers: YASGUI from node_modules (a plain HTML form without it), with
the named queries of queries/ as ready examples."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from flask import current_app, render_template

from server.web.context import settings

FORMAT_OPTIONS = (  # the editor's plain form: `format=` values that suit people, each valid for some forms
    ("text", "texte : TSV (SELECT) ou N-Triples (CONSTRUCT, DESCRIBE)"),
    ("csv", "CSV (SELECT)"),
    ("tsv", "TSV (SELECT)"),
    ("json", "JSON : résultats SPARQL ou JSON-LD"),
    ("xml", "XML : résultats SPARQL ou RDF/XML"),
    ("turtle", "Turtle (CONSTRUCT, DESCRIBE)"),
    ("ntriples", "N-Triples (CONSTRUCT, DESCRIBE)"),
    ("jsonld", "JSON-LD (CONSTRUCT, DESCRIBE)"),
    ("rdfxml", "RDF/XML (CONSTRUCT, DESCRIBE)"),
)


def editor_page(endpoint: str, query: str | None = None) -> str:
    """The query editor: YASGUI when its npm package is installed, a plain form otherwise; examples.

    `query`, when given, is the query the editor opens with (a "query this resource" link)."""
    found = examples()
    return render_template(
        "sparql-editor.html",
        endpoint=endpoint,
        initial_query=query,
        examples=found,
        examples_data=[asdict(e) for e in found],
        timeout=settings().query_timeout,
        format_options=FORMAT_OPTIONS,
    )


@dataclass(frozen=True)
class Example:
    """A named query offered as an example in the editor."""

    name: str
    title: str
    description: str
    sparql: str


def examples() -> list[Example]:
    """The named queries of queries/ (their text runs as-is, with default parameter values)."""
    library = current_app.extensions.get("cdv.queries")
    if library is None:
        from server.core.library import LibraryError, load_library

        try:
            library = load_library(*settings().queries_dirs)
        except LibraryError:
            current_app.logger.exception("the query library could not be read")
            library = []
    return [
        Example(
            q.name,
            q.title.get("fr") or q.title.get("en", q.name),
            q.descriptions.get("fr") or q.description,
            q.sparql,
        )
        for q in library
    ]
