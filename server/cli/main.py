"""The command line: cdv build, validate, stats, serve, query…"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from server import __version__
from server.core.config import Settings, load_settings
from server.engine.release import NoRelease, current_release


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="cdv (cdv-graph)")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Project folder: data/, and ontology/, shapes/, queries/ when it has its own (default: CDV_PROJECT_ROOT, "
    "else the current directory).",
)
@click.option(
    "--build-dir", type=click.Path(file_okay=False, path_type=Path), help="Where builds are published."
)
@click.pass_context
def main(ctx: click.Context, root: Path | None, build_dir: Path | None) -> None:
    """cdv-graph: the knowledge graph of France's contrats de ville."""
    overrides: dict[str, object] = {}
    if root:
        overrides["project_root"] = root
    if build_dir:
        overrides["build_dir"] = build_dir
    ctx.obj = load_settings(overrides)


STORE_OPTION = click.option(
    "--store",
    type=click.Path(file_okay=False, path_type=Path),
    help="Publication folder: DIR/releases/<build-id>/store and the DIR/current link (same as --build-dir).",
)
JOBS_OPTION = click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 256),
    help="Documents validated in parallel (default: CDV_JOBS, else one per core).",
)


def _with_store(cfg: Settings, store: Path | None) -> Settings:
    from dataclasses import replace

    return replace(cfg, build_dir=store) if store else cfg


@main.command()
@click.option(
    "--data",
    "data_dirs",
    multiple=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Data folder(s) to build (default: the project's data/). Repeatable.",
)
@STORE_OPTION
@JOBS_OPTION
@click.pass_context
def build(ctx: click.Context, data_dirs: tuple[Path, ...], store: Path | None, jobs: int | None) -> None:
    """Load ontology and data, validate, and publish a new store (the old one stays if anything fails)."""
    from server.build.pipeline import build as run_build
    from server.build.validate import format_report
    from server.core.errors import BuildError
    from server.core.rdfio import DataError
    from server.web.prerender import write_served_files

    try:
        release = run_build(
            _with_store(_settings(ctx), store), list(data_dirs) or None, jobs, finish=write_served_files
        )
    except DataError as err:
        click.echo(f"error: {err}", err=True)
        click.echo("Nothing was published; the previous build is unchanged.", err=True)
        sys.exit(2)
    except BuildError as err:
        if err.report:
            click.echo(format_report(err.report), err=True)
        click.echo(f"error: {err}; the previous build is unchanged.", err=True)
        sys.exit(1)
    click.echo(
        f"published {release.build_id}: {release.manifest['triples']} triples in {len(release.manifest['graphs'])} graphs"
    )
    click.echo(f"  {release.path}")


@main.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@JOBS_OPTION
@click.pass_context
def validate(ctx: click.Context, files: tuple[Path, ...], jobs: int | None) -> None:
    """Validate Turtle files (default: the project's data/) against the shapes, each folder of files as one
    document, in parallel; then the rules across documents; exit 1 on violations."""
    from server.build.cross_document import check_files
    from server.build.validate import format_report
    from server.build.validate_pool import documents_of, validate_documents
    from server.core.rdfio import DataError

    cfg = _settings(ctx)
    paths = list(files) or [cfg.data_dir]
    documents = documents_of(paths)
    problem = nothing_to_validate(paths, documents)
    if problem:
        click.echo(f"error: {problem}", err=True)
        sys.exit(1)
    try:
        report = validate_documents(documents, cfg.shapes_dir, cfg.ontology_dir, jobs)
        if report.conforms:
            across = check_files(documents)
            report.findings.extend(across)
            report.failed = sorted(
                {*report.failed, *(f.document for f in across if f.severity == "Violation")}
            )
    except DataError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(2)
    click.echo(format_report(report))
    quality_ok = _quality_checks(cfg, [d.files for d in documents])
    sys.exit(0 if report.conforms and quality_ok else 1)


def nothing_to_validate(paths: list[Path], documents: list) -> str | None:
    """Why there is nothing to validate (no Turtle file, or files without a triple), or None."""
    from server.core.rdfio import has_triples

    if not documents:
        return f"{', '.join(map(str, paths))}: no RDF file (.ttl, .nt, .nq, .trig, .rdf, .jsonld) to validate"
    empty = [f for d in documents for f in d.files if not has_triples(f)]
    if empty:
        return f"{', '.join(map(str, empty))}: empty, no triple to validate"
    return None


def _quality_checks(cfg: Settings, documents: list[tuple[Path, ...]]) -> bool:
    """Run the queries tagged `quality` on each document; print each failure with its rows."""
    from server.core.library import load_library
    from server.core.query_results import text_table
    from server.engine import open_engine
    from server.engine.named_queries import quality_failures

    checks = [q for q in load_library(*cfg.queries_dirs) if "quality" in q.tags]
    failed: dict[str, None] = {}
    for files in documents:  # one document at a time: memory stays that of one document
        for query, rows in quality_failures(open_engine(cfg, files=files), checks):
            failed[query.name] = None
            click.echo(f"quality check {query.name} failed ({query.title['en']}): {len(rows)} row(s)")
            click.echo(text_table(query.columns, rows))
    click.echo(f"quality checks: {len(checks) - len(failed)} of {len(checks)} passed")
    return not failed


@main.command("synth")
@click.option(
    "--territories", "count", required=True, type=click.IntRange(1, 4000), help="Documents to write."
)
@click.option(
    "--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Data folder to write."
)
@click.option("--seed", default=1, show_default=True, type=int, help="Same seed, byte-identical files.")
def synth_command(count: int, out: Path, seed: int) -> None:
    """Write COUNT fictitious, shape-valid protocol documents in OUT/<territoire>/<document>/ (data layout)."""
    from tqdm import tqdm

    from server.build.synth import synthesize
    from server.build.validate_pool import show_progress

    documents = synthesize(count, out, seed)
    bar = tqdm(documents, total=count, desc="synth", unit="doc", disable=not show_progress(), file=sys.stderr)
    triples = sum(bar)
    click.echo(f"wrote {count} document(s), {triples} triples, in {out}")


STATS_QUERY = """
SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?class }
GROUP BY ?class ORDER BY DESC(?n) STR(?class)
"""


@main.command()
@click.pass_context
def stats(ctx: click.Context) -> None:
    """Print the number of resources per class in the published store."""
    from server.engine import open_engine

    try:
        store = open_engine(_settings(ctx))
    except NoRelease as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(2)
    click.echo(f"build {store.build_id}: {store.triple_count()} triples")
    for row in store.query(STATS_QUERY):
        click.echo(f"{int(row['n'].value):>8}  {row['class'].value}")


@main.command("query")
@click.argument("name", required=False)
@click.option(
    "--param", "-p", "params", multiple=True, metavar="NAME=VALUE", help="A parameter value. Repeatable."
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "tsv", "json"]), default="table", show_default=True
)
@click.pass_context
def query_command(ctx: click.Context, name: str | None, params: tuple[str, ...], fmt: str) -> None:
    """Run the named query NAME of queries/ on the published store; without NAME, list the queries."""
    import json

    from server.core import rdf as ox
    from server.core.errors import DomainError
    from server.core.library import find, load_library
    from server.core.query_results import records, text_table
    from server.engine import open_engine
    from server.engine.named_queries import run

    cfg = _settings(ctx)
    library = load_library(*cfg.queries_dirs)
    if name is None:
        for query in library:
            click.echo(f"{query.name:<36} {query.title['en']}")
        return
    try:
        query = find(library, name)
        raw = dict(_key_value(p) for p in params)
        solutions = run(open_engine(cfg), query, raw)
    except (DomainError, NoRelease) as err:
        click.echo(f"error: {getattr(err, 'message', err)}", err=True)
        sys.exit(2)
    if fmt in {"csv", "tsv"}:
        result_format = ox.QueryResultsFormat.CSV if fmt == "csv" else ox.QueryResultsFormat.TSV
        click.echo(solutions.serialize(format=result_format).decode("utf-8"), nl=False)
    elif fmt == "json":
        click.echo(json.dumps(records(solutions), ensure_ascii=False, indent=2))
    else:
        rows = records(solutions)
        click.echo(text_table(query.columns, rows))
        click.echo(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")


def _key_value(text: str) -> tuple[str, str]:
    """Split NAME=VALUE; a usage error otherwise."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise click.BadParameter(f"expected NAME=VALUE, got {text!r}", param_hint="--param")
    return key.strip(), value


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: all).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="TCP port.")
@click.option(
    "--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="gunicorn worker processes."
)
@click.option(
    "--threads", default=8, show_default=True, type=click.IntRange(1, 256), help="Threads per worker."
)
@click.option(
    "--timeout",
    "query_timeout",
    type=click.FloatRange(0.1, 86_400),
    help="SPARQL query time limit in seconds (default: CDV_QUERY_TIMEOUT or 30).",
)
@click.option(
    "--query-workers",
    type=click.IntRange(0, 64),
    help="Query processes of the server, shared by its workers (default: CDV_QUERY_WORKERS or 2; "
    "0 = in-process, no time limit).",
)
@click.option(
    "--endpoint",
    metavar="URL",
    help="Serve from this remote SPARQL 1.1 endpoint instead of the embedded store (default: CDV_ENDPOINT); "
    "see docs/deploy.md.",
)
@click.option(
    "--client-queries",
    type=click.IntRange(1, 256),
    help="Queries one client may have running at once (default: CDV_CLIENT_QUERIES, or one fewer than "
    "--query-workers, at least 1); past it: 429.",
)
@click.option(
    "--client-budget",
    type=click.FloatRange(0.1, 86_400),
    metavar="SECONDS",
    help="Seconds of query time one client may use per minute (default: CDV_CLIENT_BUDGET or 30); past it: 429.",
)
@click.option(
    "--trusted-proxies",
    type=click.IntRange(0, 16),
    help="Proxies in front whose X-Forwarded-For names the client (default: CDV_TRUSTED_PROXIES or 0: the "
    "peer address; the header is then ignored).",
)
@click.option("--dev", is_flag=True, help="Flask's development server instead of gunicorn.")
@STORE_OPTION
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    workers: int,
    threads: int,
    query_timeout: float | None,
    query_workers: int | None,
    endpoint: str | None,
    client_queries: int | None,
    client_budget: float | None,
    trusted_proxies: int | None,
    dev: bool,
    store: Path | None,
) -> None:
    """Serve the published store: SPARQL endpoint, pages, API (gunicorn; --dev for Flask's server)."""
    from dataclasses import replace

    from server.web.serve import ServeOptions
    from server.web.serve import serve as run_server
    from server.web.share_table import limits as client_limits

    cfg = _with_store(_settings(ctx), store)
    if query_timeout is not None:
        cfg = replace(cfg, query_timeout=query_timeout)
    if query_workers is not None:
        cfg = replace(cfg, query_workers=query_workers)
    given = {
        "client_queries": client_queries,
        "client_budget": client_budget,
        "trusted_proxies": trusted_proxies,
    }
    cfg = replace(cfg, **{name: value for name, value in given.items() if value is not None})
    try:
        client_limits(cfg)  # CDV_CLIENT_* out of range: a usage error now, not a stack trace at start
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    if endpoint and not endpoint.startswith(("http://", "https://")):
        raise click.BadParameter(f"{endpoint!r} is not an http:// or https:// URL.", param_hint="--endpoint")
    if endpoint:
        cfg = replace(cfg, endpoint=endpoint)
    try:
        if cfg.store_path is None and not cfg.endpoint:
            current_release(cfg.build_dir)
    except NoRelease as err:
        click.echo(f"warning: {err}; /health answers 503 until a build is published", err=True)
    run_server(cfg, ServeOptions(host, port, workers, threads), dev=dev)


@main.command("extract")
@click.argument("protocol", type=click.Path(path_type=Path))
@click.option(
    "--territory", required=True, help="Slug of the territory, e.g. le-quesnoy (IRIs id/<territory>/…)."
)
@click.option(
    "--document", help="Slug of the document (default: avenant-<start>-<end> from the title's period)."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the draft Turtle to this file (default: standard output).",
)
@click.option(
    "--into",
    type=click.Path(file_okay=False, path_type=Path),
    help="Data folder to place the document in: DIR/<territory>/<document>/draft.ttl and the text beside it, "
    "named <territory>-<document>.txt.",
)
@click.option(
    "--organisations",
    "known",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="RDF files or folders whose organisations and posts are reused by name (default: the project's data/). Repeatable.",
)
@click.option(
    "--no-organisations", is_flag=True, help="Reuse no known organisation: mint every IRI from the text."
)
@click.pass_context
def extract_command(
    ctx: click.Context,
    protocol: Path,
    territory: str,
    document: str | None,
    out: Path | None,
    into: Path | None,
    known: tuple[Path, ...],
    no_organisations: bool,
) -> None:
    """Read the plain text of a protocol into a draft graph (Turtle); report on stderr what was not placed."""
    from server.extract import ExtractError
    from server.extract.files import extract_file, place, registry_of, write_atomically
    from server.extract.registry import Registry

    if out is not None and into is not None:
        raise click.UsageError("--out and --into are two places for the draft: give one.")
    cfg = _settings(ctx)
    placed = None
    try:
        sources = list(known) or ([cfg.data_dir] if cfg.data_dir.is_dir() else [])
        registry = Registry() if no_organisations else registry_of(sources)
        extraction, data = extract_file(protocol, territory, document, registry, cfg.base_iri)
        if into is not None:
            placed = place(extraction, protocol, territory, into)
        elif out is None:
            click.echo(data.decode("utf-8"), nl=False)
        else:
            write_atomically(out, data)
    except ExtractError as err:
        click.echo(f"error: {protocol}: {err}", err=True)
        sys.exit(2)
    click.echo(extraction.report.format(), err=True)
    if out is not None:
        click.echo(f"wrote {len(extraction.graph)} triples to {out}", err=True)
    if placed is not None:
        click.echo(f"wrote {len(extraction.graph)} triples to {placed.draft}", err=True)
        click.echo(f"copied the text to {placed.text} (the draft's cdv:fichier)", err=True)


@main.command("init")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--territory", required=True, help="Slug of the territory, e.g. argenval (IRIs id/<territory>/…)."
)
def init_command(folder: Path, territory: str) -> None:
    """Write the folder a territory works in: data/<territory>/, queries/ and a README of the next commands."""
    from server.cli.territory import InitError, init_folder

    try:
        written = init_folder(folder, territory)
    except InitError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(2)
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"next: cd {folder} and follow {folder / 'README.md'}")
