"""The command line: cdv build, validate, stats, serve, query…"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .config import Settings, load_settings
from .rdfio import DataError
from .release import NoRelease, current_release


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Project folder (ontology/, data/, shapes/).",
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


@main.command()
@click.option(
    "--data",
    "data_dirs",
    multiple=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Data folder(s) to build (default: the project's data/). Repeatable.",
)
@click.pass_context
def build(ctx: click.Context, data_dirs: tuple[Path, ...]) -> None:
    """Load ontology and data, validate, and publish a new store (the old one stays if anything fails)."""
    from .build import BuildError
    from .build import build as run_build
    from .validate import format_report

    try:
        release = run_build(_settings(ctx), list(data_dirs) or None)
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
@click.pass_context
def validate(ctx: click.Context, files: tuple[Path, ...]) -> None:
    """Validate Turtle files (default: the project's data/) against the shapes; exit 1 on violations."""
    from .validate import format_report, validate_files

    cfg = _settings(ctx)
    try:
        report = validate_files(list(files) or [cfg.data_dir], cfg.shapes_dir, cfg.ontology_dir)
    except DataError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(2)
    click.echo(format_report(report))
    sys.exit(0 if report.conforms else 1)


STATS_QUERY = """
SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?class }
GROUP BY ?class ORDER BY DESC(?n) STR(?class)
"""


@main.command()
@click.pass_context
def stats(ctx: click.Context) -> None:
    """Print the number of resources per class in the published store."""
    from .store import EmbeddedStore

    try:
        store = EmbeddedStore.open_release(current_release(_settings(ctx).build_dir))
    except NoRelease as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(2)
    click.echo(f"build {store.build_id}: {store.triple_count()} triples")
    for row in store.query(STATS_QUERY):
        click.echo(f"{int(row['n'].value):>8}  {row['class'].value}")
