"""Pure: the links of a resource page that leave the site ("Voir aussi"), each named after its authority."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from server.core.presentation import Row

OWL_SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"
SKOS_EXACT_MATCH = "http://www.w3.org/2004/02/skos/core#exactMatch"
RDFS_SEE_ALSO = "http://www.w3.org/2000/01/rdf-schema#seeAlso"
# In the order the section lists them: the registers' identifiers, then their pages.
LINK_PROPERTIES = (OWL_SAME_AS, SKOS_EXACT_MATCH, RDFS_SEE_ALSO)

# A domain (the host or a parent of it) → the authority a reader knows it by.
AUTHORITIES: tuple[tuple[str, str], ...] = (
    ("legifrance.gouv.fr", "Légifrance"),
    ("insee.fr", "INSEE"),
    ("annuaire-entreprises.data.gouv.fr", "Annuaire des entreprises"),
    ("sig.ville.gouv.fr", "SIG Politique de la ville"),
    ("collectivites-locales.gouv.fr", "DGCL"),
    ("nord.gouv.fr", "Préfecture du Nord"),
)


@dataclass(frozen=True)
class ExternalLink:
    """A link out of the site: the authority's name, where it goes, and the property that states it."""

    authority: str
    href: str
    iri: str
    relation: str  # the property's label: "identique à", "correspondance exacte", "voir aussi"
    curie: str | None
    rank: int  # the property's place in LINK_PROPERTIES


def authority(iri: str) -> str | None:
    """The authority of a web IRI by its host ("Légifrance", "INSEE"…), else its host; None if not a web IRI."""
    parts = urlsplit(iri)
    host = (parts.hostname or "").lower()
    if parts.scheme not in {"http", "https"} or not host:
        return None
    for domain, name in AUTHORITIES:
        if host == domain or host.endswith("." + domain):
            return name
    return host.removeprefix("www.")


def see_also(rows: Iterable[Row], base_iri: str) -> list[ExternalLink]:
    """The values of owl:sameAs, skos:exactMatch and rdfs:seeAlso that leave the site, identifiers first."""
    found = []
    for row in rows:
        if row.prop.iri not in LINK_PROPERTIES:
            continue
        for value in row.values:
            ref = value.ref
            if ref is None or not ref.iri or not ref.href or ref.iri.startswith(base_iri):
                continue
            name = authority(ref.iri)
            if name is not None:
                rank = LINK_PROPERTIES.index(row.prop.iri)
                found.append(ExternalLink(name, ref.href, ref.iri, row.prop.label, row.prop.curie, rank))
    return sorted(found, key=lambda link: (link.rank, link.authority, link.iri))
