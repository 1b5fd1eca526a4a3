"""The territory kit outside the checkout: the project folder and the packaged resources, `cdv init`,
`extract --into`, source texts beside the data and carried by the build, nothing empty validated or
published, the mode of written files, `cdv --version`."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from server import __version__
from server.cli.main import main
from server.core.config import PACKAGED, PROJECT_ROOT, load_settings
from server.core.library import LibraryError, load_library

FIXTURE = PROJECT_ROOT / "tests" / "fixtures" / "protocols"
ARGENVAL = "avenant-2019-2022"


def cdv(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


@pytest.fixture()
def inside(tmp_path: Path) -> Iterator[Path]:
    """Run in an empty folder, as a territory's officer would."""
    before = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(before)


@pytest.mark.parametrize(
    ("own", "ontology", "shapes", "queries"),
    [
        ((), PACKAGED / "ontology", PACKAGED / "shapes", (PACKAGED / "queries",)),
        (("ontology", "shapes"), "ontology", "shapes", (PACKAGED / "queries",)),
        (("queries",), PACKAGED / "ontology", PACKAGED / "shapes", (PACKAGED / "queries", "queries")),
    ],
)
def test_the_project_is_the_current_folder_with_the_kit_where_it_has_nothing_of_its_own(
    inside: Path, own: tuple[str, ...], ontology: Path | str, shapes: Path | str, queries: tuple
) -> None:
    for name in own:
        (inside / name).mkdir()
    settings = load_settings(environ={})
    assert settings.project_root == inside
    assert settings.build_dir == inside / "build"
    assert settings.ontology_dir == inside / ontology
    assert settings.shapes_dir == inside / shapes
    assert settings.queries_dirs == tuple(inside / q for q in queries)


def test_cdv_project_root_chooses_the_folder(tmp_path: Path) -> None:
    settings = load_settings(environ={"CDV_PROJECT_ROOT": str(tmp_path)})
    assert (settings.project_root, settings.build_dir) == (tmp_path, tmp_path / "build")


def test_a_territorys_own_queries_are_added_and_may_not_hide_the_kits(tmp_path: Path) -> None:
    own = tmp_path / "queries"
    own.mkdir()
    mine = (PACKAGED / "queries" / "measures-per-axis.rq").read_text("utf-8").replace("per axis", "by axis")
    (own / "measures-by-axis-mine.rq").write_text(mine, "utf-8")
    shutil.copy(PACKAGED / "queries" / "signatories.rq", own)  # a copy of the kit's query is the same one
    names = [q.name for q in load_library(PACKAGED / "queries", own)]
    assert "measures-by-axis-mine" in names and names.count("signatories") == 1
    (own / "measures-per-axis.rq").write_text(mine, "utf-8")
    with pytest.raises(LibraryError, match="measures-per-axis"):
        load_library(PACKAGED / "queries", own)


def test_version() -> None:
    code, output = cdv("--version")
    assert code == 0 and output.strip() == f"cdv (cdv-graph), version {__version__}"


def test_init_writes_the_territory_folder(tmp_path: Path) -> None:
    code, output = cdv("init", str(tmp_path / "argenval"), "--territory", "argenval")
    assert code == 0, output
    folder = tmp_path / "argenval"
    assert (folder / "data" / "argenval").is_dir() and (folder / "queries").is_dir()
    readme = (folder / "README.md").read_text("utf-8")
    for command in (
        "cdv extract protocole.txt --territory argenval --into data",
        "cdv validate",
        "cdv build",
    ):
        assert command in readme
    code, output = cdv("init", str(folder), "--territory", "argenval")
    assert code == 2 and "already exist" in output and "nothing was written" in output


@pytest.mark.parametrize("slug", ["Argenval", "argen val", "argenval-", ""])
def test_init_refuses_a_bad_slug(tmp_path: Path, slug: str) -> None:
    code, output = cdv("init", str(tmp_path / "x"), "--territory", slug)
    assert code == 2 and "is not a slug" in output
    assert not (tmp_path / "x").exists()


@pytest.fixture()
def argenval(tmp_path: Path) -> Path:
    """A data folder with the Argenval document, placed by `extract --into`, and its enrichment."""
    data = tmp_path / "data"
    text = tmp_path / "protocole.txt"
    shutil.copy(FIXTURE / "argenval.txt", text)
    code, output = cdv(
        "extract", str(text), "--territory", "argenval", "--no-organisations", "--into", str(data)
    )
    assert code == 0, output
    shutil.copy(FIXTURE / "argenval.enrichment.ttl", data / "argenval" / ARGENVAL / "enrichment.ttl")
    return data


def test_extract_into_places_the_draft_and_its_text_named_after_territory_and_document(
    argenval: Path,
) -> None:
    folder = argenval / "argenval" / ARGENVAL
    assert sorted(p.name for p in folder.iterdir()) == [
        f"argenval-{ARGENVAL}.txt",
        "draft.ttl",
        "enrichment.ttl",
    ]
    assert f'cdv:fichier "argenval-{ARGENVAL}.txt"' in (folder / "draft.ttl").read_text("utf-8")
    assert (folder / f"argenval-{ARGENVAL}.txt").read_bytes() == (FIXTURE / "argenval.txt").read_bytes()
    code, output = cdv(
        "extract", str(FIXTURE / "argenval.txt"), "--territory", "argenval", "--into", str(argenval)
    )
    assert code == 2 and "draft.ttl exists" in output


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_extract_out_follows_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    previous = os.umask(umask)
    try:
        code, output = cdv(
            "extract",
            str(FIXTURE / "argenval.txt"),
            "--territory",
            "argenval",
            "--no-organisations",
            "--out",
            str(tmp_path / "draft.ttl"),
        )
    finally:
        os.umask(previous)
    assert code == 0, output
    assert (tmp_path / "draft.ttl").stat().st_mode & 0o777 == mode


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "no RDF file (.ttl, .nt, .nq, .trig, .rdf, .jsonld) to validate"),
        ({"t/d/empty.ttl": ""}, "empty.ttl: empty, no triple to validate"),
        ({"t/d/prefixes.ttl": "@prefix cdv: <https://w3id.org/cdv/ontology#> .\n"}, "no triple to validate"),
        ({"notes.txt": "not RDF"}, "no RDF file"),
    ],
)
def test_validate_with_nothing_to_validate_says_so_and_exits_1(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, "utf-8")
    code, output = cdv("validate", str(tmp_path))
    assert code == 1 and message in output and "Conforms" not in output


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "no document to publish"),
        ({"t/d/empty.ttl": ""}, "no triple to publish"),
    ],
)
def test_build_refuses_an_empty_graph_and_keeps_the_live_build(
    argenval: Path, tmp_path: Path, files: dict[str, str], message: str
) -> None:
    build = tmp_path / "build"
    code, output = cdv("--root", str(tmp_path), "build")
    assert code == 0, output
    live = (build / "current").resolve()
    empty = tmp_path / "empty"
    empty.mkdir()
    for name, text in files.items():
        (empty / name).parent.mkdir(parents=True, exist_ok=True)
        (empty / name).write_text(text, "utf-8")
    code, output = cdv("--root", str(tmp_path), "build", "--data", str(empty))
    assert code == 1 and message in output and "the previous build is unchanged" in output
    assert (build / "current").resolve() == live


def test_the_build_carries_each_documents_source_text(argenval: Path, tmp_path: Path) -> None:
    code, output = cdv("--root", str(tmp_path), "build")
    assert code == 0, output
    carried = tmp_path / "build" / "current" / "sources" / f"argenval-{ARGENVAL}.txt"
    assert carried.read_bytes() == (FIXTURE / "argenval.txt").read_bytes()


def test_the_build_refuses_a_document_whose_source_text_is_missing(argenval: Path, tmp_path: Path) -> None:
    (argenval / "argenval" / ARGENVAL / f"argenval-{ARGENVAL}.txt").unlink()
    code, output = cdv("--root", str(tmp_path), "build")
    assert code == 1 and f"'argenval-{ARGENVAL}.txt'" in output and "source text(s) not found" in output
    assert not (tmp_path / "build" / "current").exists()


def test_two_documents_naming_the_same_source_text_clash_by_name(tmp_path: Path) -> None:
    """The README's old advice: both territories call their file protocole.txt."""
    data = tmp_path / "data"
    for territory in ("argenval", "argenval-bis"):
        folder = data / territory / ARGENVAL
        folder.mkdir(parents=True)
        text = folder / "protocole.txt"
        shutil.copy(FIXTURE / "argenval.txt", text)
        code, output = cdv(
            "extract",
            str(text),
            "--territory",
            territory,
            "--no-organisations",
            "--out",
            str(folder / "d.ttl"),
        )
        assert code == 0, output
        shutil.copy(FIXTURE / "argenval.enrichment.ttl", folder / "enrichment.ttl")
    code, output = cdv("--root", str(tmp_path), "validate")
    assert code == 1, output
    assert "TexteSourcePropre" in output and "'protocole.txt' is already document" in output
    assert "1 of 2 document(s) conform" in output
