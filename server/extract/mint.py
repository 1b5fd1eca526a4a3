"""IRIs minted exactly as docs/model.md says, from the base IRI, the territory and the document slugs."""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import URIRef

from server.extract.model import Passage
from server.extract.names import PostParts, fold, organisation_slug, slugify, split_post
from server.extract.registry import Registry

STATE = "État"


@dataclass(frozen=True)
class Minter:
    """Where every resource of one document lives."""

    base: str  # e.g. https://w3id.org/cdv/
    territory: str
    document: str
    registry: Registry = field(default_factory=Registry)

    def id(self, path: str) -> URIRef:
        """An IRI under {base}id/."""
        return URIRef(f"{self.base}id/{path}")

    @property
    def doc(self) -> URIRef:
        """{base}id/<territory>/<document>."""
        return self.id(f"{self.territory}/{self.document}")

    def part(self, path: str) -> URIRef:
        """An IRI under the document: {doc}/axe/1, {doc}/mesure/12…"""
        return URIRef(f"{self.doc}/{path}")

    @property
    def contract(self) -> URIRef:
        """{base}id/<territory>/contrat-de-ville."""
        return self.id(f"{self.territory}/contrat-de-ville")

    @property
    def source(self) -> URIRef:
        """{doc}/source."""
        return self.part("source")

    def passage(self, passage: Passage) -> URIRef:
        """{doc}/source#L<a>-L<b>."""
        return URIRef(f"{self.source}#L{passage.first}-L{passage.last}")

    def qpv(self, code: str) -> URIRef:
        """id/territoire/qpv/<code>."""
        return self.id(f"territoire/qpv/{code}")

    def pillar(self, slug: str) -> URIRef:
        """id/concept/pilier/<slug>."""
        return self.id(f"concept/pilier/{slug}")

    def text_type(self, slug: str) -> URIRef:
        """id/concept/type-de-texte/<slug>."""
        return self.id(f"concept/type-de-texte/{slug}")

    def person(self, given: str, family: str) -> URIRef:
        """id/personne/<given-family slug>."""
        return self.id(f"personne/{slugify(f'{given} {family}')}")

    def organisation(self, name: str) -> URIRef:
        """A known organisation by name, else id/organisation/<slug of its current name>."""
        found = self.registry.find(name)
        return URIRef(found) if found else self.id(f"organisation/{organisation_slug(name)}")

    def state(self) -> URIRef:
        """The organisation of the État."""
        return self.organisation(STATE)

    def post(self, printed: str, named: str | None = None) -> tuple[URIRef, URIRef | None, PostParts]:
        """The post's IRI, its organisation's IRI (None when the text names none) and how it was split;
        `named` is the organisation a sentence names beside a bare post ("Pour X, son Président")."""
        parts = split_post(printed)
        bare = bool(named) and not parts.state and parts.organisation is None
        if named and bare:
            state = fold(named) == fold(STATE)
            parts = PostParts(printed, None if state else named, state=state)
        organisation = None
        if parts.state:
            organisation = self.state()
        elif parts.organisation:
            organisation = self.organisation(parts.organisation)
        if not bare and (found := self.registry.find(printed)):
            return URIRef(found), organisation, parts
        if organisation is None:
            return self.id(f"poste/{slugify(printed)}"), None, parts
        return self.id(f"poste/{local_name(organisation)}/{slugify(parts.office)}"), organisation, parts

    def issuer(self, name: str, state_post: bool) -> URIRef:
        """Who passed a text: a post of the État ("Premier ministre") or an organisation."""
        if state_post:
            found = self.registry.find(name)
            return URIRef(found) if found else self.id(f"poste/{local_name(self.state())}/{slugify(name)}")
        return self.organisation(name)

    def text(self, type_slug: str | None, issuer: URIRef | None, day: str | None, title: str) -> URIRef:
        """id/texte/<type>-<date> (national), <type>-<issuer>-<date> (local body), else the title's slug."""
        if type_slug and day:
            middle = f"-{local_name(issuer)}" if issuer is not None else ""
            return self.id(f"texte/{type_slug}{middle}-{day}")
        return self.id(f"texte/{slugify(title)}")


def local_name(iri: URIRef | str | None) -> str:
    """The last path segment of an IRI."""
    return str(iri or "").rstrip("/").rsplit("/", 1)[-1]
