"""cdv build / validate / stats: what is published, and that bad input never replaces a valid build."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from server.cli.main import main
from server.core.config import PROJECT_ROOT
from server.engine.release import current_release

MEASURE = "https://w3id.org/cdv/id/le-quesnoy/avenant-2020-2022/mesure/12"


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A copy of the project's ontology, shapes and data, free to break."""
    for folder in ("ontology", "shapes", "data"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder)
    return tmp_path


def run(runner: CliRunner, project: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(main, ["--root", str(project), "--build-dir", str(project / "build"), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def a_data_file(project: Path) -> Path:
    return sorted((project / "data").glob("*/*/*.ttl"))[0]


def test_build_publishes_one_graph_per_document_and_the_ontology(runner: CliRunner, project: Path) -> None:
    code, output = run(runner, project, "build")
    assert code == 0, output
    release = current_release(project / "build")
    graphs = release.manifest["graphs"]
    assert "https://w3id.org/cdv/graph/ontology" in graphs
    assert "https://w3id.org/cdv/graph/le-quesnoy/avenant-2020-2022" in graphs
    assert all(count > 0 for count in graphs.values())
    assert release.manifest["triples"] == sum(graphs.values())


@pytest.mark.parametrize(
    ("breakage", "expected_code", "expected_text"),
    [
        ("\nthis is not turtle .\n", 2, "line"),
        ('\n<https://w3id.org/cdv/x> <https://w3id.org/cdv/y> "unterminated .\n', 2, "line"),
    ],
    ids=["garbage", "unterminated-literal"],
)
def test_syntax_error_names_file_and_line_and_keeps_previous_build(
    runner: CliRunner, project: Path, breakage: str, expected_code: int, expected_text: str
) -> None:
    assert run(runner, project, "build")[0] == 0
    before = current_release(project / "build")
    broken = a_data_file(project)
    lines_before = len(broken.read_text("utf-8").splitlines())
    broken.write_text(broken.read_text("utf-8") + breakage, "utf-8")
    code, output = run(runner, project, "build")
    assert code == expected_code
    assert broken.name in output
    assert f":{lines_before + 2}:" in output  # the line of the error in that file
    assert "Traceback" not in output
    assert current_release(project / "build").build_id == before.build_id


def test_shape_violation_exits_1_and_keeps_previous_build(runner: CliRunner, project: Path) -> None:
    assert run(runner, project, "build")[0] == 0
    before = current_release(project / "build")
    extra = project / "data" / "le-quesnoy" / "avenant-2020-2022" / "zz-broken.ttl"
    # a second number on measure 12 breaks "exactly one number"
    extra.write_text(f"<{MEASURE}> <https://w3id.org/cdv/ontology#numero> 99 .\n", "utf-8")
    code, output = run(runner, project, "build")
    assert code == 1
    assert "Violation" in output
    assert "cdv:MesureNumeroShape" in output
    assert any(name in output for name in ("mesure:12", MEASURE))
    assert current_release(project / "build").build_id == before.build_id


def test_validate_conforms_on_project_data(runner: CliRunner, project: Path) -> None:
    code, output = run(runner, project, "validate")
    assert code == 0, output
    assert "Conforms" in output


def test_validate_reports_focus_path_message_and_line_on_any_files(
    runner: CliRunner, project: Path, tmp_path: Path
) -> None:
    theirs = tmp_path / "their-territory.ttl"
    theirs.write_text(
        "@prefix cdv: <https://w3id.org/cdv/ontology#> .\n"
        "@prefix ex: <https://example.org/id/> .\n"
        "\n"
        "ex:mesure-1 a cdv:Mesure .\n",
        "utf-8",
    )
    code, output = run(runner, project, "validate", str(theirs))
    assert code == 1
    assert "ex:mesure-1" in output or "https://example.org/id/mesure-1" in output
    assert f"{theirs}:4" in output  # the line where the focus node is described
    assert "[fr]" in output and "[en]" in output
    assert "Does not conform" in output


def test_validate_unreadable_file_exits_2(runner: CliRunner, project: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix ex: <https://example.org/> .\nex:a ex:b .\n", "utf-8")
    code, output = run(runner, project, "validate", str(bad))
    assert code == 2
    assert f"{bad}:2" in output
    missing = tmp_path / "missing.ttl"
    code, output = run(runner, project, "validate", str(missing))
    assert code == 2 and "no such file" in output


def test_stats_counts_resources_per_class(runner: CliRunner, project: Path) -> None:
    assert run(runner, project, "build")[0] == 0
    code, output = run(runner, project, "stats")
    assert code == 0
    counts = {line.split()[1]: int(line.split()[0]) for line in output.splitlines()[1:]}
    assert counts["https://w3id.org/cdv/ontology#Mesure"] == 32
    assert counts["https://w3id.org/cdv/ontology#Axe"] == 3


def test_stats_without_build_exits_2(runner: CliRunner, project: Path) -> None:
    code, output = run(runner, project, "stats")
    assert code == 2 and "cdv build" in output


def test_every_route_answers_503_before_any_build(tmp_path: Path) -> None:
    from server.web.app import create_app

    client = create_app({"build_dir": tmp_path / "empty"}).test_client()
    for path in ("/", "/id/le-quesnoy/avenant-2020-2022/mesure/12", "/catalog", "/api/queries/signatories"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert b"cdv build" in response.data
