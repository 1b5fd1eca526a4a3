"""Pure: the catalogue graph read back into what the HTML catalogue page shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, VOID

from .metadata import SPDX


@dataclass(frozen=True)
class DistributionView:
    """One downloadable file."""

    title: str
    url: str  # public IRI; the template maps it to this server
    media_type: str
    byte_size: int
    sha256: str


@dataclass(frozen=True)
class DatasetView:
    """One dataset of the catalogue."""

    iri: str
    anchor: str
    title: str
    description: str
    triples: int | None
    entities: int | None
    keywords: list[str] = field(default_factory=list)
    period: str | None = None
    landing_page: str | None = None
    distributions: list[DistributionView] = field(default_factory=list)


@dataclass(frozen=True)
class CatalogView:
    """The catalogue page."""

    title: str
    description: str
    modified: str
    datasets: list[DatasetView]
    endpoint: str | None


def _text(g: Graph, node: URIRef, prop: URIRef, lang: str = "fr") -> str:
    """The value in `lang`, else any value, else an empty string."""
    values = list(g.objects(node, prop))
    for value in values:
        if getattr(value, "language", None) == lang:
            return str(value)
    return str(values[0]) if values else ""


def _int(g: Graph, node: URIRef, prop: URIRef) -> int | None:
    """An integer value, or None."""
    value = g.value(node, prop)
    return int(value) if value is not None else None


def _distribution(g: Graph, dist: URIRef) -> DistributionView:
    """One distribution as the page shows it."""
    checksum = g.value(dist, SPDX.checksum)
    return DistributionView(
        title=_text(g, dist, DCTERMS.title),
        url=str(g.value(dist, DCAT.downloadURL)),
        media_type=str(g.value(dist, DCAT.mediaType)).rsplit("media-types/", 1)[-1],
        byte_size=_int(g, dist, DCAT.byteSize) or 0,
        sha256=str(g.value(checksum, SPDX.checksumValue)) if checksum is not None else "",
    )


def _period(g: Graph, dataset: URIRef) -> str | None:
    """The temporal coverage as "start - end"."""
    period = g.value(dataset, DCTERMS.temporal)
    if period is None:
        return None
    return f"{g.value(period, DCAT.startDate)} - {g.value(period, DCAT.endDate)}"


def _dataset(g: Graph, dataset: URIRef) -> DatasetView:
    """One dataset as the page shows it."""
    anchor = str(dataset).split("/graph", 1)[-1].strip("/").replace("/", "_") or "cdv-graph"
    landing = g.value(dataset, DCAT.landingPage)
    return DatasetView(
        iri=str(dataset),
        anchor="dataset-" + anchor,
        title=_text(g, dataset, DCTERMS.title),
        description=_text(g, dataset, DCTERMS.description),
        triples=_int(g, dataset, VOID.triples),
        entities=_int(g, dataset, VOID.entities),
        keywords=sorted(str(k) for k in g.objects(dataset, DCAT.keyword)),
        period=_period(g, dataset),
        landing_page=str(landing) if landing is not None else None,
        distributions=sorted(
            (_distribution(g, d) for d in g.objects(dataset, DCAT.distribution)),  # type: ignore[arg-type]
            key=lambda d: (d.title.endswith("(gzip)"), d.title),
        ),
    )


@lru_cache(maxsize=8)
def catalog_view(path: str, build_id: str) -> CatalogView:
    """Read a release's catalog.nt into the page's view (cached per build: a release never changes)."""
    g = Graph()
    g.parse(path, format="nt")
    catalog = g.value(predicate=RDF.type, object=DCAT.Catalog)
    datasets = [_dataset(g, d) for d in g.objects(catalog, DCAT.dataset)]  # type: ignore[arg-type]
    # documents first (by title), then the ontology, then the whole graph
    datasets.sort(key=lambda d: (d.iri.endswith("/graph"), d.iri.endswith("/graph/ontology"), d.title))
    service = g.value(catalog, DCAT.service)
    endpoint = g.value(service, DCAT.endpointURL) if service is not None else None
    return CatalogView(
        title=_text(g, catalog, DCTERMS.title),
        description=_text(g, catalog, DCTERMS.description),
        modified=str(g.value(catalog, DCTERMS.modified) or "")[:10],
        datasets=datasets,
        endpoint=str(endpoint) if endpoint is not None else None,
    )
