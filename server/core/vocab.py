"""The vocabularies the graph uses: the one map of prefixes to namespaces, and the terms named in code.

Every prefix map of the service (pages, dumps, the catalogue, the service description, the JSON-LD context,
the extractor, synthetic documents) is a selection of NAMESPACES by name, so a prefix means one namespace
everywhere. `dct` and `dcterms` both name DCMI terms: the catalogue follows DCAT-AP's `dct`, the data its own
`dcterms`.
"""

from __future__ import annotations

from types import MappingProxyType

NAMESPACES = MappingProxyType(
    {
        "adms": "http://www.w3.org/ns/adms#",
        "cdv": "https://w3id.org/cdv/ontology#",
        "cpov": "http://data.europa.eu/m8g/",
        "dcat": "http://www.w3.org/ns/dcat#",
        "dcatap": "http://data.europa.eu/r5r/",
        "dct": "http://purl.org/dc/terms/",
        "dcterms": "http://purl.org/dc/terms/",
        "eli": "http://data.europa.eu/eli/ontology#",
        "foaf": "http://xmlns.com/foaf/0.1/",
        "formats": "http://www.w3.org/ns/formats/",
        "geo": "http://www.opengis.net/ont/geosparql#",
        "igeo": "http://rdf.insee.fr/def/geo#",
        "oa": "http://www.w3.org/ns/oa#",
        "org": "http://www.w3.org/ns/org#",
        "owl": "http://www.w3.org/2002/07/owl#",
        "prov": "http://www.w3.org/ns/prov#",
        "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
        "sd": "http://www.w3.org/ns/sparql-service-description#",
        "skos": "http://www.w3.org/2004/02/skos/core#",
        "spdx": "http://spdx.org/rdf/terms#",
        "vcard": "http://www.w3.org/2006/vcard/ns#",
        "void": "http://rdfs.org/ns/void#",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
    }
)

OWL_VERSION_INFO = NAMESPACES["owl"] + "versionInfo"  # the build id, on the metadata graph's IRI

# The vocabularies of the catalogue and VoID (server/core/metadata.py, dcat.py), as written and as served.
CATALOGUE = (
    "adms",
    "dcat",
    "dcatap",
    "dct",
    "foaf",
    "owl",
    "prov",
    "rdfs",
    "sd",
    "skos",
    "spdx",
    "vcard",
    "void",
    "xsd",
)

# The vocabularies the graph of a document uses (data/, the extractor, synthetic documents), `cdv` aside.
DATA = (
    "cpov",
    "dcat",
    "dcterms",
    "eli",
    "foaf",
    "geo",
    "igeo",
    "oa",
    "org",
    "owl",
    "prov",
    "rdf",
    "rdfs",
    "skos",
    "xsd",
)


def prefixes(*names: str) -> dict[str, str]:
    """The namespaces of `names`, by prefix in alphabetical order (serialisers write them in that order)."""
    return {name: NAMESPACES[name] for name in sorted(set(names))}
