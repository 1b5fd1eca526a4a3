"""`cdv extract`: a draft for anything that reads as a protocol (exit 0, a note on stderr for every line it
could not place), a plain message and exit 2 only for what is no protocol at all (empty, binary, no axis and
no measure), never a traceback, and never a partial file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import rdflib
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib.compare import isomorphic

from server.cli.main import main
from server.core.config import PROJECT_ROOT
from server.extract import ExtractError, Extraction, extract
from server.extract.segments import section_heading
from server.extract.text import clean

from .protocol_fixtures import FIXTURES_DIR

ARGENVAL = FIXTURES_DIR / "argenval.txt"
LE_QUESNOY = PROJECT_ROOT / "data" / "sources" / "protocole-le-quesnoy-2020-2022.txt"
ID = "https://w3id.org/cdv/id/"
CDV = rdflib.Namespace("https://w3id.org/cdv/ontology#")


def _run(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(main, ["extract", *args])
    return result.exit_code, result.stdout, result.stderr


def test_writes_the_draft_and_reports_on_stderr(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "draft.ttl"
    code, stdout, stderr = _run(
        runner, str(ARGENVAL), "--territory", "argenval", "--out", str(out), "--no-organisations"
    )
    assert (code, stdout) == (0, "")
    assert "0 note(s) to review" in stderr
    assert "removed as page furniture: 49-50, 71-72, 103-104" in stderr
    assert f"to {out}" in stderr
    expected = rdflib.Graph().parse(FIXTURES_DIR / "argenval.expected.ttl")
    assert isomorphic(rdflib.Graph().parse(out), expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["draft.ttl"]


def test_writes_turtle_to_stdout_without_out(runner: CliRunner) -> None:
    code, stdout, stderr = _run(
        runner, str(ARGENVAL), "--territory", "argenval", "--document", "protocole-2019"
    )
    assert code == 0
    graph = rdflib.Graph().parse(data=stdout, format="turtle")
    assert (rdflib.URIRef(f"{ID}argenval/protocole-2019/mesure/8"), None, None) in graph
    assert "note(s) to review" in stderr and "@prefix" not in stderr


def test_notes_what_it_could_not_place_with_line_numbers(runner: CliRunner, tmp_path: Path) -> None:
    text = ARGENVAL.read_text("utf-8").replace(
        "Pilier 1 — Solidarités et vivre-ensemble", "Pilier 1 — Gouvernance"
    )
    text = text.replace("Pilier 3 —", "Une phrase sans place.\n\nPilier 3 —")
    source = _write(tmp_path / "gouvernance.txt", text.encode("utf-8"))
    stray = text.split("\n").index("Une phrase sans place.") + 1
    code, _, stderr = _run(runner, str(source), "--territory", "argenval", "--out", str(tmp_path / "d.ttl"))
    assert code == 0
    assert "line 34: no national pillar recognised for this axis: 'Gouvernance'" in stderr
    assert f"line {stray}: not an axis, thematic, objective or measure: 'Une phrase sans place.'" in stderr
    assert "2 note(s) to review" in stderr


def test_reuses_organisations_described_elsewhere(runner: CliRunner, tmp_path: Path) -> None:
    known = tmp_path / "known.ttl"
    known.write_text(
        "@prefix org: <http://www.w3.org/ns/org#> . @prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        f'<{ID}organisation/caf-mh> a org:Organization ; skos:prefLabel "Caisse d\'Allocations Familiales de la Marne-Haute"@fr .\n',
        "utf-8",
    )
    code, stdout, _ = _run(runner, str(ARGENVAL), "--territory", "argenval", "--organisations", str(known))
    assert code == 0
    graph = rdflib.Graph().parse(data=stdout, format="turtle")
    signature = rdflib.URIRef(f"{ID}argenval/avenant-2019-2022/signature/4")
    assert graph.value(
        signature, rdflib.URIRef("https://w3id.org/cdv/ontology#organisation")
    ) == rdflib.URIRef(f"{ID}organisation/caf-mh")


def _write(path: Path, content: bytes | None) -> Path:
    if content is not None:
        path.write_bytes(content)
    return path


BAD_INPUTS = [
    ("empty", b"", "the file is empty"),
    ("blank", b"  \n\n\t\n", "the file is empty"),
    ("binary", bytes(range(256)) * 4, "the file is binary, not text"),
    (
        "pdf",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\x00\x00stream",
        "the file is binary, not text",
    ),
    ("latin-1", "Axe 1 : Cohésion sociale\n".encode("latin-1"), "the file is not UTF-8 text"),
    (
        "letter",
        "Madame,\nJe vous écris au sujet du marché.\nBien à vous.\n".encode(),
        "does not look like a protocol",
    ),
    ("missing", None, "cannot read"),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_is_a_plain_message_and_leaves_no_file(
    runner: CliRunner, tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    source = _write(tmp_path / f"{name}.txt", content)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, stdout, stderr = _run(
        runner, str(source), "--territory", "nulle-part", "--out", str(out_dir / "draft.ttl")
    )
    assert code == 2
    assert stderr.startswith(f"error: {source}: ") and message in stderr
    assert "Traceback" not in stdout + stderr
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--territory", "Le Quesnoy"], "territory 'Le Quesnoy' is not a slug"),
        (
            ["--territory", "le-quesnoy", "--document", "avenant_2020"],
            "document 'avenant_2020' is not a slug",
        ),
        (
            ["--territory", "le-quesnoy", "--out", "/nonexistent-folder/draft.ttl"],
            "the folder /nonexistent-folder does not exist",
        ),
    ],
)
def test_bad_options_are_plain_messages(runner: CliRunner, args: list[str], message: str) -> None:
    code, stdout, stderr = _run(runner, str(ARGENVAL), *args)
    assert code == 2 and message in stderr and stdout == ""


def test_a_truncated_text_gives_a_draft_and_says_where_it_stops(runner: CliRunner, tmp_path: Path) -> None:
    source = _write(tmp_path / "truncated.txt", b"\n".join(LE_QUESNOY.read_bytes().split(b"\n")[:240]))
    out = tmp_path / "draft.ttl"
    code, stdout, stderr = _run(runner, str(source), "--territory", "le-quesnoy", "--out", str(out))
    assert (code, stdout) == (0, "")
    assert "line 240: no signatory found: the text may be truncated" in stderr
    graph = rdflib.Graph().parse(out)
    assert len(set(graph.subjects(rdflib.RDF.type, CDV.Mesure))) > 0
    assert not set(graph.subjects(rdflib.RDF.type, CDV.Signature))


def test_a_folder_is_not_a_protocol(runner: CliRunner, tmp_path: Path) -> None:
    code, _, stderr = _run(runner, str(tmp_path), "--territory", "x")
    assert code == 2 and "is a folder, not a text file" in stderr


def test_unreadable_organisations_file(runner: CliRunner, tmp_path: Path) -> None:
    broken = _write(tmp_path / "broken.ttl", b"<a> <b> .")
    code, _, stderr = _run(runner, str(ARGENVAL), "--territory", "x", "--organisations", str(broken))
    assert code == 2 and "cannot read the organisations to reuse" in stderr and "broken.ttl:1" in stderr


def test_a_failed_write_keeps_the_previous_draft_whole(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The one fault a test cannot cause for real here (a full disk, a dying process mid-rename): simulated.
    out = _write(tmp_path / "draft.ttl", b"# the previous draft\n")

    def failing_replace(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    code, _, stderr = _run(runner, str(ARGENVAL), "--territory", "argenval", "--out", str(out))
    assert code == 2 and f"cannot write {out}: No space left on device" in stderr
    assert out.read_bytes() == b"# the previous draft\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["draft.ttl"]


PROTOCOL_LINES = [
    "Protocole d’engagements renforcés et réciproques",
    "Avenant au contrat de ville de Nulle-Part 2020-2022 - QP Les Prés - QP080999",
    "TEXTES DE RÉFÉRENCE",
    "- Délibération du Conseil Municipal de Nulle-Part du 31/02/2019",
    "PRÉAMBULE",
    "Axe 1 : Cohésion sociale",
    "Pilier II — Habitat",
    "Thématique :",
    "Objectif 3 : Agir.",
    "Développer l’information.",
    "1. Poursuivre l’accompagne-",
    "ment des familles.",
    "1.1 Ouvrir",
    "Mesure 2 :",
    "Action n°4 \u2013 Créer",
    "Page 2 sur 9",
    "- 3 -",
    "\f",
    "CONTRIBUTION DE LA CAF",
    "2.1 Une section",
    "Madame la Maire de Nulle-Part",
    "Le Préfet",
    "Jeanne DUPONT",
    "Fait à Nulle-Part, le 2 mai 2019.",
    "Signé par Madame Jeanne DUPONT, Maire ; Monsieur",
    "",
    "   ",
    "«",
    "—",
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PROTOCOL_LINES), st.text(max_size=40)), max_size=40))
def test_any_text_gives_a_draft_or_a_plain_error(lines: list[str]) -> None:
    try:
        extraction = extract("\n".join(lines), "nulle-part", source_file="x.txt")
    except ExtractError as err:
        assert str(err)
    else:
        assert len(extraction.graph) > 0
        extraction.report.format()
        assert _unaccounted(extraction, "\n".join(lines)) == []


def _unaccounted(extraction: Extraction, raw: str) -> list[str]:
    """Content lines that are in no passage of the draft, no note and no section heading."""
    placed = {
        n
        for passage in extraction.graph.subjects(rdflib.RDF.type, CDV.Passage)
        for n in range(
            int(extraction.graph.value(passage, CDV.ligneDebut)),
            int(extraction.graph.value(passage, CDV.ligneFin)) + 1,
        )
    }
    placed |= {
        n for note in extraction.report.notes for n in range(note.passage.first, note.passage.last + 1)
    }
    placed |= set(extraction.report.furniture) | set(extraction.report.footnotes)
    return [
        line.text for line in clean(raw).lines if line.number not in placed and not section_heading(line.text)
    ]


@pytest.mark.parametrize("path", [*sorted(FIXTURES_DIR.glob("*.txt")), LE_QUESNOY], ids=lambda p: p.stem)
def test_every_line_of_a_protocol_is_placed_or_noted(path: Path) -> None:
    extraction = extract(path.read_text("utf-8"), "x", source_file=path.name)
    assert _unaccounted(extraction, path.read_text("utf-8")) == []
