"""The protocol texts of fictitious territories (tests/fixtures/protocols/) and what is expected of them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from server.extract import Extraction, extract

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures" / "protocols"
UPDATE_ENV = "CDV_UPDATE_FIXTURES"  # set to 1 to rewrite the *.expected.ttl files, then review the diff


@dataclass(frozen=True)
class ProtocolFixture:
    """One fictitious protocol: its territory slug, the document slug read from it, its expected violations,
    and the number of measures its text prints (counted by reading it)."""

    territory: str
    document: str
    # (IRI below https://w3id.org/cdv/id/, shape) of every violation the draft alone has, and why
    violations: frozenset[tuple[str, str]]
    publishable: bool  # draft + enrichment joins the multi-document build (tests/test_multi_document.py)
    measures: int  # measures printed in the text
    layout: str  # what the fixture exercises, for the table in tests/fixtures/protocols/README.md

    @property
    def text(self) -> Path:
        return FIXTURES_DIR / f"{self.territory}.txt"

    @property
    def expected(self) -> Path:
        return FIXTURES_DIR / f"{self.territory}.expected.ttl"

    @property
    def enrichment(self) -> Path:
        return FIXTURES_DIR / f"{self.territory}.enrichment.ttl"

    def extract(self) -> Extraction:
        """The draft, read from the text alone (no organisation reused from another graph)."""
        return extract(self.text.read_text("utf-8"), self.territory, source_file=self.text.name)


COMMUNE = "cdv:QuartierCommuneShape"  # the QPV's commune (INSEE) is curated, never printed in a protocol


def _commune(*codes: str) -> frozenset[tuple[str, str]]:
    return frozenset((f"territoire/qpv/{code}", COMMUNE) for code in codes)


FIXTURES = (
    ProtocolFixture(
        "argenval", "avenant-2019-2022", _commune("QP080901", "QP080902"), True, 8, "piliers, measures 1)"
    ),
    ProtocolFixture(
        "beaulieu-sur-lorne", "avenant-2020-2022", _commune("QP061905"), True, 7, "enjeux, Signé par … prose"
    ),
    ProtocolFixture(
        "val-de-sorne",
        "avenant-2020-2022",
        _commune("QP027911", "QP027912"),
        True,
        7,
        "roman axes, Action n°3",
    ),
    ProtocolFixture(
        "haute-brenne", "avenant-2019-2022", _commune("QP036903"), False, 5, "objectives 1., measures 1.1"
    ),
    ProtocolFixture(
        "bremonval", "avenant-2019-2022", _commune("QP042901"), False, 6, "signatures in two columns"
    ),
    ProtocolFixture(
        "roche-sur-elvin",
        "avenant-2020-2022",
        _commune("QP043902"),
        False,
        5,
        "SIGNATAIRES in sentences, Fait à",
    ),
    ProtocolFixture(
        "castelvaure",
        "avenant-2019-2022",
        _commune("QP044903"),
        False,
        8,
        "measures 1) restarting per objective",
    ),
    ProtocolFixture(
        "lauzerac", "avenant-2020-2022", _commune("QP045904"), False, 7, "ENJEU, thematics A., B."
    ),
)
