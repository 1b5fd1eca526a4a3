"""Pure: the DCAT-AP 3 catalogue — datasets, distributions, the SPARQL service, the standards — with VoID.

Built from the facts `server/build/dumps.py` gathers at build time (`metadata.Publication`); nothing is read here.
"""

from __future__ import annotations

from datetime import UTC

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SKOS, XSD

from server.core.metadata import (
    DCATAP,
    EU,
    IANA,
    LICENCE,
    SPDX,
    VCARD,
    DocumentFacts,
    Publication,
    graph,
    titles,
    void_graph,
)
from server.core.negotiation import JSONLD, NQUADS, NTRIPLES, RDFXML, TURTLE, Format

THEMES = {
    "SOCI": ("Population et société", "Population and society"),
    "GOVE": ("Gouvernement et secteur public", "Government and public sector"),
    "REGI": ("Régions et villes", "Regions and cities"),
}
FRANCE = URIRef(EU + "country/FRA")
LANGUAGES = (URIRef(EU + "language/FRA"), URIRef(EU + "language/ENG"))
PUBLIC = URIRef(EU + "access-right/PUBLIC")
STABLE = URIRef(EU + "planned-availability/STABLE")
GZIP = URIRef(IANA + "application/gzip")
SPARQL_PROTOCOL = URIRef("https://www.w3.org/TR/sparql11-protocol/")
FILE_TYPES = {
    TURTLE.name: "RDF_TURTLE",
    NTRIPLES.name: "RDF_N_TRIPLES",
    JSONLD.name: "JSON_LD",
    RDFXML.name: "RDF_XML",
    NQUADS.name: "RDF_N_QUADS",
}
COUNT_LABELS = {
    "axes": ("axes", "axes"),
    "thematiques": ("thématiques", "thematics"),
    "objectifs": ("objectifs", "objectives"),
    "mesures": ("mesures", "measures"),
}
BASE_KEYWORDS = ("contrat de ville", "politique de la ville", "quartier prioritaire", "données liées")


def catalog_graph(pub: Publication) -> Graph:
    """The DCAT-AP 3 catalogue: datasets, distributions, the SPARQL service, the standards (with VoID)."""
    g = graph()
    catalog = pub.iri("catalog")
    _add_catalog(g, pub, catalog)
    _add_agents(g, pub)
    _add_standards(g, pub)
    _add_service(g, pub)
    _add_themes(g)
    for doc in pub.documents:
        _add_document_dataset(g, pub, doc)
    _add_ontology_dataset(g, pub)
    _add_whole_dataset(g, pub)
    for dataset in pub.statistics:
        g.add((catalog, DCAT.dataset, URIRef(dataset)))
        _add_distributions(g, pub, dataset)
    return g + void_graph(pub)


def _both(g: Graph, node: URIRef, prop: URIRef, fr: str, en: str) -> None:
    """Add a French and an English literal."""
    g.add((node, prop, Literal(fr, lang="fr")))
    g.add((node, prop, Literal(en, lang="en")))


def _built(pub: Publication) -> Literal:
    """The build's time as an `xsd:dateTime` (UTC, canonical `Z` form)."""
    return Literal(pub.built.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=XSD.dateTime)


def _add_catalog(g: Graph, pub: Publication, catalog: URIRef) -> None:
    """The `dcat:Catalog` itself."""
    g.add((catalog, RDF.type, DCAT.Catalog))
    _both(
        g,
        catalog,
        DCTERMS.title,
        "cdv-graph — catalogue des contrats de ville en données liées",
        "cdv-graph — catalogue of France's contrats de ville as linked data",
    )
    _both(
        g,
        catalog,
        DCTERMS.description,
        "Le graphe de connaissances ouvert des contrats de ville : un jeu de données par document "
        "(avenant, protocole), l'ontologie, un point d'accès SPARQL et des exports téléchargeables.",
        "The open knowledge graph of France's city contracts: one dataset per document (amendment, "
        "protocol), the ontology, a SPARQL endpoint and downloadable dumps.",
    )
    g.add((catalog, DCTERMS.publisher, pub.iri("catalog#publisher")))
    g.add((catalog, FOAF.homepage, pub.iri("")))
    g.add((catalog, DCTERMS.license, LICENCE))
    g.add((catalog, DCTERMS.modified, _built(pub)))
    if pub.ontology.created is not None:
        g.add((catalog, DCTERMS.issued, pub.ontology.created))
    g.add((catalog, DCTERMS.spatial, FRANCE))
    g.add((catalog, DCAT.themeTaxonomy, URIRef(EU + "data-theme")))
    g.add((catalog, DCAT.service, pub.iri("sparql#service")))
    for language in LANGUAGES:
        g.add((catalog, DCTERMS.language, language))


def _add_agents(g: Graph, pub: Publication) -> None:
    """The publisher (the project, not a person) and its contact point (the project's issue tracker)."""
    publisher = pub.iri("catalog#publisher")
    g.add((publisher, RDF.type, FOAF.Agent))
    _both(g, publisher, FOAF.name, "Projet cdv-graph", "cdv-graph project")
    g.add((publisher, FOAF.homepage, pub.iri("")))
    contact = pub.iri("catalog#contact")
    g.add((contact, RDF.type, VCARD.Kind))
    g.add((contact, RDF.type, VCARD.Organization))
    g.add((contact, VCARD.fn, Literal("cdv-graph")))
    g.add((contact, VCARD.hasURL, URIRef(pub.contact_url)))
    licence = LICENCE
    g.add((licence, RDF.type, DCTERMS.LicenseDocument))
    g.add((licence, DCTERMS.title, Literal("Licence Ouverte / Open Licence version 2.0", lang="fr")))
    g.add((licence, DCTERMS.identifier, Literal("etalab-2.0")))
    g.add((licence, DCTERMS.type, URIRef("http://purl.org/adms/licencetype/Attribution")))


def _add_standards(g: Graph, pub: Publication) -> None:
    """The ontology and the shapes, each a `dct:Standard` the datasets conform to, under the Licence Ouverte
    2.0 like the data (LICENSES.md says why), so other territories may reuse them."""
    ontology = URIRef(pub.ontology.iri)
    g.add((ontology, RDF.type, DCTERMS.Standard))
    g.add((ontology, DCTERMS.license, LICENCE))
    for lang, title in pub.ontology.titles.items():
        g.add((ontology, DCTERMS.title, Literal(title, lang=lang)))
    if not pub.ontology.titles:
        _both(g, ontology, DCTERMS.title, "Ontologie des contrats de ville", "City contract ontology")
    if pub.ontology.version:
        g.add((ontology, OWL.versionInfo, Literal(pub.ontology.version)))
    shapes = pub.iri("shapes")
    g.add((shapes, RDF.type, DCTERMS.Standard))
    g.add((shapes, DCTERMS.license, LICENCE))
    _both(
        g,
        shapes,
        DCTERMS.title,
        "Formes SHACL de cdv-graph",
        "cdv-graph SHACL shapes",
    )
    _both(
        g,
        shapes,
        DCTERMS.description,
        "Les règles qu'un graphe de protocole doit respecter, et le profil DCAT-AP du catalogue.",
        "The rules a protocol graph must follow, and the DCAT-AP profile of the catalogue.",
    )


def _add_service(g: Graph, pub: Publication) -> None:
    """The SPARQL endpoint as a `dcat:DataService` serving every dataset."""
    service = pub.iri("sparql#service")
    g.add((service, RDF.type, DCAT.DataService))
    _both(g, service, DCTERMS.title, "Point d'accès SPARQL de cdv-graph", "cdv-graph SPARQL endpoint")
    _both(
        g,
        service,
        DCTERMS.description,
        "Point d'accès SPARQL 1.1 en lecture seule sur tout le graphe (union des graphes nommés).",
        "Read-only SPARQL 1.1 endpoint over the whole graph (the union of the named graphs).",
    )
    g.add((service, DCAT.endpointURL, pub.iri("sparql")))
    g.add((service, DCAT.endpointDescription, pub.iri("sparql")))
    g.add((service, DCTERMS.conformsTo, SPARQL_PROTOCOL))
    g.add((service, DCAT.landingPage, pub.iri("sparql")))
    _add_common(g, pub, service)
    for dataset in pub.statistics:
        g.add((service, DCAT.servesDataset, URIRef(dataset)))


def _add_common(g: Graph, pub: Publication, node: URIRef) -> None:
    """Publisher, contact, licence, themes, keywords and access rights shared by datasets and service."""
    g.add((node, DCTERMS.publisher, pub.iri("catalog#publisher")))
    g.add((node, DCAT.contactPoint, pub.iri("catalog#contact")))
    g.add((node, DCTERMS.license, LICENCE))
    g.add((node, DCTERMS.accessRights, PUBLIC))
    for code in THEMES:
        g.add((node, DCAT.theme, URIRef(EU + "data-theme/" + code)))
    for keyword in BASE_KEYWORDS:
        g.add((node, DCAT.keyword, Literal(keyword, lang="fr")))


def _add_themes(g: Graph) -> None:
    """The three EU data themes used, with their labels, in their concept scheme."""
    scheme = URIRef(EU + "data-theme")
    g.add((scheme, RDF.type, SKOS.ConceptScheme))
    _both(g, scheme, DCTERMS.title, "Thèmes des jeux de données", "Data theme")
    for code, (fr, en) in THEMES.items():
        concept = URIRef(EU + "data-theme/" + code)
        g.add((concept, RDF.type, SKOS.Concept))
        g.add((concept, SKOS.inScheme, scheme))
        _both(g, concept, SKOS.prefLabel, fr, en)


def _add_dataset_basics(g: Graph, pub: Publication, dataset: URIRef) -> None:
    """What every dataset has: identifier, dates, standards, language, frequency, common facts."""
    g.add((dataset, RDF.type, DCAT.Dataset))
    g.add((dataset, DCTERMS.identifier, Literal(str(dataset))))
    g.add((dataset, DCTERMS.modified, _built(pub)))
    if pub.ontology.created is not None:
        g.add((dataset, DCTERMS.issued, pub.ontology.created))
    g.add((dataset, DCTERMS.conformsTo, URIRef(pub.ontology.iri)))
    g.add((dataset, DCTERMS.conformsTo, pub.iri("shapes")))
    g.add((dataset, DCTERMS.language, LANGUAGES[0]))
    g.add((dataset, DCTERMS.accrualPeriodicity, URIRef(EU + "frequency/IRREG")))
    _add_common(g, pub, dataset)


def _add_document_dataset(g: Graph, pub: Publication, doc: DocumentFacts) -> None:
    """One dataset per document graph, every fact taken from the graph itself."""
    dataset = URIRef(doc.graph)
    _add_dataset_basics(g, pub, dataset)
    for title in titles(pub, doc.graph):
        g.add((dataset, DCTERMS.title, title))
    fr, en = _document_descriptions(doc)
    _both(g, dataset, DCTERMS.description, fr, en)
    g.add((dataset, DCTERMS.spatial, FRANCE))
    for place in doc.spatial:
        g.add((dataset, DCTERMS.spatial, URIRef(place)))
    if doc.period is not None:
        _add_period(g, dataset, doc.period)
    for keyword in doc.keywords:
        g.add((dataset, DCAT.keyword, Literal(keyword, lang="fr")))
    for source in doc.sources:
        g.add((dataset, PROV.wasDerivedFrom, URIRef(source)))
    if doc.document:
        g.add((dataset, DCAT.landingPage, URIRef(doc.document)))
        g.add((dataset, FOAF.primaryTopic, URIRef(doc.document)))
    provenance = BNode()
    g.add((dataset, DCTERMS.provenance, provenance))
    g.add((provenance, RDF.type, DCTERMS.ProvenanceStatement))
    _both(
        g,
        provenance,
        RDFS.label,
        "Saisi à partir du texte source du document ; chaque ressource renvoie au passage (lignes) "
        "dont elle est tirée (prov:wasDerivedFrom, cdv:passage).",
        "Curated from the document's source text; every resource points to the passage (lines) it "
        "comes from (prov:wasDerivedFrom, cdv:passage).",
    )
    g.add((pub.iri("graph"), DCTERMS.hasPart, dataset))


def _add_period(g: Graph, dataset: URIRef, period: tuple[Literal, Literal]) -> None:
    """A `dct:PeriodOfTime` with start and end dates as temporal coverage."""
    node = BNode()
    g.add((dataset, DCTERMS.temporal, node))
    g.add((node, RDF.type, DCTERMS.PeriodOfTime))
    g.add((node, DCAT.startDate, period[0]))
    g.add((node, DCAT.endDate, period[1]))


def _document_descriptions(doc: DocumentFacts) -> tuple[str, str]:
    """French and English descriptions of a document dataset, with its counts."""
    counts = doc.counts
    parts_fr = [f"{n} {COUNT_LABELS.get(name, (name, name))[0]}" for name, n in counts.items() if n]
    parts_en = [f"{n} {COUNT_LABELS.get(name, (name, name))[1]}" for name, n in counts.items() if n]
    fr = (
        f"Le graphe de connaissances de « {doc.title} » : sa structure"
        + (f" ({', '.join(parts_fr)})" if parts_fr else "")
        + ", les partenaires, les signataires et les textes de référence, chaque fait relié au passage "
        "du texte source dont il est tiré."
    )
    en = (
        f"The knowledge graph of “{doc.title}”: its structure"
        + (f" ({', '.join(parts_en)})" if parts_en else "")
        + ", its partners, signatories and reference texts, every fact linked to the passage of the "
        "source text it comes from."
    )
    return fr, en


def _add_ontology_dataset(g: Graph, pub: Publication) -> None:
    """The ontology graph as a dataset."""
    dataset = URIRef(pub.ontology_graph)
    _add_dataset_basics(g, pub, dataset)
    for title in titles(pub, pub.ontology_graph):
        g.add((dataset, DCTERMS.title, title))
    _both(
        g,
        dataset,
        DCTERMS.description,
        "L'ontologie cdv (classes, propriétés, alignements) et ses schémas de concepts SKOS "
        "(piliers nationaux, types de textes), telle que publiée dans le graphe.",
        "The cdv ontology (classes, properties, alignments) and its SKOS concept schemes (national "
        "pillars, types of text), as published in the graph.",
    )
    g.add((dataset, FOAF.primaryTopic, URIRef(pub.ontology.iri)))
    g.add((dataset, DCAT.landingPage, URIRef(pub.ontology.iri)))
    g.add((dataset, DCTERMS.spatial, FRANCE))
    g.add((pub.iri("graph"), DCTERMS.hasPart, dataset))


def _add_whole_dataset(g: Graph, pub: Publication) -> None:
    """The whole graph (every data graph) as a dataset, with their places and overall period."""
    dataset = URIRef(pub.whole)
    _add_dataset_basics(g, pub, dataset)
    for title in titles(pub, pub.whole):
        g.add((dataset, DCTERMS.title, title))
    _both(
        g,
        dataset,
        DCTERMS.description,
        "Tous les graphes nommés (l'ontologie et un graphe par document) en un seul export N-Quads ; "
        "c'est ce que sert le point d'accès SPARQL.",
        "All named graphs (the ontology and one graph per document) in a single N-Quads dump; this is "
        "what the SPARQL endpoint serves.",
    )
    g.add((dataset, DCTERMS.spatial, FRANCE))
    for doc in pub.documents:
        for place in doc.spatial:
            g.add((dataset, DCTERMS.spatial, URIRef(place)))
    periods = [doc.period for doc in pub.documents if doc.period is not None]
    if periods:
        _add_period(g, dataset, (min(p[0] for p in periods), max(p[1] for p in periods)))
    g.add((dataset, DCAT.landingPage, pub.iri("")))


def _add_distributions(g: Graph, pub: Publication, dataset: str) -> None:
    """One distribution per dump file, with media type, format, size and SHA-256."""
    for dump in pub.dumps.get(dataset, ()):
        dist = URIRef(f"{dataset}#dump-{dump.format.extension}" + ("-gz" if dump.compressed else ""))
        url = pub.iri("dumps/" + dump.name)
        g.add((URIRef(dataset), DCAT.distribution, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        label = _format_label(dump.format) + (" (gzip)" if dump.compressed else "")
        g.add((dist, DCTERMS.title, Literal(label)))
        _both(
            g,
            dist,
            DCTERMS.description,
            f"Export complet du jeu de données en {label}.",
            f"Complete dump of the dataset in {label}.",
        )
        g.add((dist, DCAT.downloadURL, url))
        g.add((dist, DCAT.accessURL, url))
        g.add((dist, DCAT.mediaType, URIRef(IANA + dump.format.media_type)))
        g.add((dist, DCTERMS.format, URIRef(EU + "file-type/" + FILE_TYPES[dump.format.name])))
        if dump.compressed:
            g.add((dist, DCAT.compressFormat, GZIP))
        g.add((dist, DCAT.byteSize, Literal(dump.byte_size, datatype=XSD.nonNegativeInteger)))
        checksum = BNode()
        g.add((dist, SPDX.checksum, checksum))
        g.add((checksum, RDF.type, SPDX.Checksum))
        g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        g.add((checksum, SPDX.checksumValue, Literal(dump.sha256, datatype=XSD.hexBinary)))
        g.add((dist, DCTERMS.license, LICENCE))
        g.add((dist, DCTERMS.modified, _built(pub)))
        g.add((dist, DCATAP.availability, STABLE))


def _format_label(fmt: Format) -> str:
    """The human name of a dump format."""
    return {
        TURTLE.name: "Turtle",
        NTRIPLES.name: "N-Triples",
        JSONLD.name: "JSON-LD",
        RDFXML.name: "RDF/XML",
        NQUADS.name: "N-Quads",
    }[fmt.name]
