"""`cdv synth`: fictitious protocol documents, deterministic for a seed, of realistic size, valid against the
shapes, the cross-document rules and the quality queries, and naming no real person, place or body."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from server.build.cross_document import check_files
from server.build.synth import synthesize
from server.build.synth_words import FAMILY_ROOTS
from server.build.validate_pool import Document, documents_of, validate_documents
from server.cli.main import main
from server.core.config import PROJECT_ROOT, load_settings
from server.core.library import load_library
from server.engine import open_engine
from server.engine.named_queries import quality_failures

CDV = "https://w3id.org/cdv/ontology#"
COUNT = 3


def synth(out: Path, count: int = COUNT, seed: int = 1) -> Path:
    list(synthesize(count, out, seed))
    return out


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synth(tmp_path_factory.mktemp("synth") / "data")


@pytest.fixture(scope="module")
def documents(data: Path) -> list[Document]:
    return documents_of([data])


def store_of(document: Document) -> ox.Store:
    store = ox.Store()
    for path in document.files:
        store.load(path=str(path), format=ox.RdfFormat.TURTLE)
    return store


def count(store: ox.Store, cls: str) -> int:
    rows = store.query(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a <{CDV}{cls}> }}")
    return int(next(iter(rows))["n"].value)


def tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize(("seed", "same"), [(1, True), (2, False)])
def test_same_seed_same_bytes(tmp_path: Path, data: Path, seed: int, same: bool) -> None:
    again = synth(tmp_path / "again", seed=seed)
    names = tree(data)
    if same:
        assert tree(again) == names
        _, mismatch, errors = filecmp.cmpfiles(data, again, names, shallow=False)
        assert (mismatch, errors) == ([], [])
    else:
        shared = [n for n in tree(again) if n in names]
        _, mismatch, _ = filecmp.cmpfiles(data, again, shared, shallow=False)
        assert mismatch or set(tree(again)) != set(names)


def test_layout_is_the_data_layout(data: Path, documents: list[Document]) -> None:
    assert len(documents) == COUNT
    for document in documents:
        folder = Path(document.name)
        assert folder.parent.parent == data and folder.name == "avenant-2020-2022"
        assert {p.name for p in document.files} >= {
            "avenant.ttl",
            "structure.ttl",
            "signatures.ttl",
            "source.ttl",
        }
    assert len(list((data / "sources").glob("*.txt"))) == COUNT


SIZES = [  # class, fewest, most per document
    ("Axe", 3, 4),
    ("Objectif", 13, 17),
    ("Mesure", 26, 34),
    ("Signature", 15, 15),
    ("Contribution", 3, 5),
    ("Reference", 4, 4),
    ("Avenant", 1, 1),
    ("ContratDeVille", 1, 1),
    ("QuartierPrioritaire", 1, 1),
]


@pytest.mark.parametrize(("cls", "fewest", "most"), SIZES, ids=[s[0] for s in SIZES])
def test_realistic_sizes(documents: list[Document], cls: str, fewest: int, most: int) -> None:
    for document in documents:
        assert fewest <= count(store_of(document), cls) <= most, document.name


def test_triples_per_document(documents: list[Document]) -> None:
    for document in documents:
        assert 2_500 <= len(store_of(document)) <= 4_500, document.name


# Fictitious territories, bodies and texts have no register to link to: the recommendations asking for those
# links are the only findings expected on synthetic documents.
LINK_SHAPES = {
    "cdv:LienAutoriteTexteNationalShape",
    "cdv:LienAutoriteTerritoireShape",
    "cdv:IdentifiantOrganisationPubliqueShape",
}


def test_valid_against_shapes_rules_and_quality(documents: list[Document]) -> None:
    report = validate_documents(documents, PROJECT_ROOT / "shapes", PROJECT_ROOT / "ontology", jobs=1)
    assert [f for f in report.findings if f.shape not in LINK_SHAPES] == [] and report.documents == COUNT
    assert {f.severity for f in report.findings} <= {"Warning"}
    assert check_files(documents) == []
    library = load_library(PROJECT_ROOT / "queries")
    for document in documents:
        assert quality_failures(open_engine(load_settings(), files=document.files), library) == [], (
            document.name
        )


def iris_of(paths: list[Path], cls: str) -> set[str]:
    store = ox.Store()
    for path in paths:
        store.load(path=str(path), format=ox.RdfFormat.TURTLE)
    return {r["s"].value for r in store.query(f"SELECT DISTINCT ?s WHERE {{ ?s a <{cls}> }}")}


FOAF_PERSON = "http://xmlns.com/foaf/0.1/Person"
REAL_CLASSES = [
    FOAF_PERSON,
    "http://www.w3.org/ns/org#Organization",
    "http://www.w3.org/ns/org#Post",
    f"{CDV}QuartierPrioritaire",
    "http://rdf.insee.fr/def/geo#Commune",
    "http://data.europa.eu/eli/ontology#LegalResource",
]


@pytest.mark.parametrize("cls", REAL_CLASSES, ids=[c.rsplit("/", 1)[-1] for c in REAL_CLASSES])
def test_names_nothing_of_the_real_data(data: Path, cls: str) -> None:
    """No person, body, post, neighbourhood, commune or text of the real data is reused."""
    ours = iris_of(sorted(data.rglob("*.ttl")), cls)
    assert ours
    assert not ours & iris_of(sorted((PROJECT_ROOT / "data").rglob("*.ttl")), cls)


def test_persons_have_invented_family_names(data: Path) -> None:
    store = store_of(Document("all", tuple(sorted(data.rglob("*.ttl")))))
    names = [
        r["n"].value for r in store.query("SELECT ?n WHERE { ?p <http://xmlns.com/foaf/0.1/familyName> ?n }")
    ]
    assert len(names) == 15 * COUNT
    assert all(name.startswith(FAMILY_ROOTS) for name in names), names


def test_cli_writes_and_counts(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["synth", "--territories", "2", "--out", str(tmp_path / "d"), "--seed", "5"]
    )
    assert result.exit_code == 0, result.output
    assert "wrote 2 document(s)" in result.output
    assert len(documents_of([tmp_path / "d"])) == 2
