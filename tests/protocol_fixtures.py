"""The protocol texts of fictitious territories (tests/fixtures/protocols/) and what is expected of them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from server.extract import Extraction, extract

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures" / "protocols"
UPDATE_ENV = "CDV_UPDATE_FIXTURES"  # set to 1 to rewrite the *.expected.ttl files, then review the diff


@dataclass(frozen=True)
class ProtocolFixture:
    """One fictitious protocol: its territory slug, the document slug read from it, its expected violations."""

    territory: str
    document: str
    # (IRI below https://w3id.org/cdv/id/, shape) of every violation the draft alone has, and why
    violations: frozenset[tuple[str, str]]
    publishable: bool  # draft + enrichment conforms and joins the multi-document build

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
NUMBER = "cdv:MesureNumeroShape"  # "1.1" is no integer: the ontology's cdv:numero cannot hold it

FIXTURES = (
    ProtocolFixture(
        "argenval",
        "avenant-2019-2022",
        frozenset({("territoire/qpv/QP080901", COMMUNE), ("territoire/qpv/QP080902", COMMUNE)}),
        publishable=True,
    ),
    ProtocolFixture(
        "beaulieu-sur-lorne",
        "avenant-2020-2022",
        frozenset({("territoire/qpv/QP061905", COMMUNE)}),
        publishable=True,
    ),
    ProtocolFixture(
        "val-de-sorne",
        "avenant-2020-2022",
        frozenset({("territoire/qpv/QP027911", COMMUNE), ("territoire/qpv/QP027912", COMMUNE)}),
        publishable=True,
    ),
    ProtocolFixture(
        "haute-brenne",
        "avenant-2019-2022",
        frozenset(
            {("territoire/qpv/QP036903", COMMUNE)}
            | {
                (f"haute-brenne/avenant-2019-2022/mesure/{n}", NUMBER)
                for n in ("1.1", "1.2", "2.1", "3.1", "4.1")
            }
        ),
        publishable=False,
    ),
)
