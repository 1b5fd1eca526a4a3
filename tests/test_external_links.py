"""Links to the national registers: each link and code as verified, the shapes that ask for them, the named
query that lists them, and the pages' "Voir aussi" section (external links the crawl never follows)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from pyshacl import validate
from rdflib import OWL, RDF, RDFS, SH, SKOS, Graph, Literal, Namespace, URIRef

from server.core.library import find, load_library
from server.core.presentation import Ref, Row, Value
from server.core.query_results import records
from server.core.see_also import authority, see_also
from server.engine.named_queries import run
from server.engine.release import Release
from server.engine.store import EmbeddedStore

from .rdf_parse import load_turtle as load
from .rdf_parse import ontology_graph as ontology
from .test_crawl import HOST, internal
from .test_pages import CHROME, Page, path_of

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "le-quesnoy" / "avenant-2020-2022"
ID = "https://w3id.org/cdv/id/"
CDV = Namespace("https://w3id.org/cdv/ontology#")
ELI = Namespace("http://data.europa.eu/eli/ontology#")
IGEO = Namespace("http://rdf.insee.fr/def/geo#")
ORG = Namespace("http://www.w3.org/ns/org#")
LINK_PROPERTIES = (OWL.sameAs, SKOS.exactMatch, RDFS.seeAlso)

NORD_PAGE = (
    "https://www.nord.gouv.fr/Politiques-publiques/Solidarite-hebergement-logement-politique-de-la-ville-et-"
    "renovation-urbaine/Politique-de-la-ville/Circulaire-de-mise-en-oeuvre-de-la-mobilisation-nationale-pour-les-"
    "habitants-des-quartiers"
)
INSEE_API_DESCRIPTION = (
    "https://github.com/InseeFr/Metadata-API/blob/9ddf567481c72729bac0fe9030689c88f9dde4fb/oas/src/main/"
    "resources/openapi.yaml"
)
LEGIFRANCE_PAGE = (
    "https://www.legifrance.gouv.fr/affichTexte.do?cidTexte=JORFTEXT000028636804&categorieLien=cid"
)

# Every link of the data to a register: (resource, property, target, file, the page that shows it), as cited in
# the Turtle comment beside the link.
LINKS = [
    (
        "texte/loi-2014-02-21",
        SKOS.exactMatch,
        "https://www.legifrance.gouv.fr/jorf/id/JORFTEXT000028636804",
        "textes.ttl",
        LEGIFRANCE_PAGE,
    ),
    ("texte/circulaire-2019-01-22", RDFS.seeAlso, NORD_PAGE, "textes.ttl", NORD_PAGE),
    (
        "territoire/region/32",
        OWL.sameAs,
        "http://id.insee.fr/geo/region/9c60accf-61a2-4f61-9546-875924d210ec",
        "territoires.ttl",
        INSEE_API_DESCRIPTION,
    ),
]

DGCL_COPY = "https://github.com/datagouv/decoupage-administratif/tree/98976e5f29e66b8449cf64eaf3e2be0b8d9e7d85/sources"

# Every register code of the data, typed as the register's data types it: (resource, property, literal, file,
# the page or file that shows it, None where the code predates this work and its comment names the register).
CODES = [
    ("organisation/communaute-de-communes-du-pays-de-mormal", ORG.identifier, Literal("200043321", datatype=CDV.Siren), "organisations.ttl", DGCL_COPY),
    ("organisation/commune-du-quesnoy", ORG.identifier, Literal("215904814", datatype=CDV.Siren), "organisations.ttl", DGCL_COPY),
    ("texte/loi-2014-02-21", ELI.id_local, Literal("VILX1315170L"), "textes.ttl", LEGIFRANCE_PAGE),
    ("texte/circulaire-2019-01-22", ELI.number, Literal("6057/SG"), "textes.ttl", NORD_PAGE),
    ("territoire/commune/59481", IGEO.codeINSEE, Literal("59481"), "territoires.ttl", DGCL_COPY),
    ("territoire/commune/59599", IGEO.codeINSEE, Literal("59599"), "territoires.ttl", DGCL_COPY),
    ("territoire/epci/200043321", IGEO.codeINSEE, Literal("200043321"), "territoires.ttl", DGCL_COPY),
    ("territoire/departement/59", IGEO.codeINSEE, Literal("59"), "territoires.ttl", DGCL_COPY),
    ("territoire/region/32", IGEO.codeINSEE, Literal("32"), "territoires.ttl", DGCL_COPY),
]  # fmt: skip

# What the recommendations report on the project's data: the resources no register page could confirm
# (docs/model.md, "Links to the national registers"). A link added with its source shortens this list.
UNLINKED = {
    "LienAutoriteTexteNationalShape": {
        "texte/circulaire-2019-01-22",  # no Légifrance record found; its number and a State page are given
        "texte/instruction-2016-09-30",  # found on third-party transcriptions only
    },
    "LienAutoriteTerritoireShape": {
        "territoire/qpv/QP059043",  # no page of the national list of QPV stored
        "territoire/commune/59481",  # INSEE's IRIs end with a per-version UUID: not shown for these
        "territoire/commune/59599",
        "territoire/epci/200043321",
        "territoire/departement/59",
    },
    "IdentifiantOrganisationPubliqueShape": {  # no SIRENE or register page of their SIREN stored
        "organisation/etat",
        "organisation/academie-de-lille",
        "organisation/region-hauts-de-france",
        "organisation/departement-du-nord",
        "organisation/ars-hauts-de-france",
        "organisation/caf-du-nord",
        "organisation/caisse-primaire-du-hainaut",
        "organisation/pole-emploi",
        "organisation/caisse-des-depots-et-consignations-hauts-de-france",
        "organisation/gip-reussir-en-sambre-avesnois",
        "organisation/partenord-habitat",
    },
}


@cache
def data() -> Graph:
    return load(sorted((ROOT / "data").glob("*/*/*.ttl")))


def block(file: str, resource: str) -> str:
    """The text of a resource's subject block in a Turtle file of the document (comments included)."""
    text = (DATA / file).read_text("utf-8")
    local = resource.rsplit("/", 1)[-1]
    start = re.search(rf"^\S*[:/]{re.escape(local)}>? a ", text, re.MULTILINE)
    assert start, f"{resource} has no block in {file}"
    end = text.find("\n\n", start.start())
    return text[start.start() : end if end > 0 else len(text)]


# ---------------------------------------------------------------------------------------------------------
# The links and codes of the data


@pytest.mark.parametrize(("resource", "prop", "target", "file", "page"), LINKS, ids=[r[0] for r in LINKS])
def test_link_is_there_well_formed_and_cites_its_page(
    resource: str, prop: URIRef, target: str, file: str, page: str
) -> None:
    assert (URIRef(ID + resource), prop, URIRef(target)) in data()
    assert re.fullmatch(r"https?://[a-z0-9.-]+\.[a-z]{2,}/\S+", target) and not target.startswith(ID)
    assert page in block(file, resource), f"the comment beside the link cites {page}"


def test_every_link_of_the_data_is_a_verified_one() -> None:
    found = {(s, p, o) for p in LINK_PROPERTIES for s, o in data().subject_objects(p)}
    assert found == {(URIRef(ID + r), p, URIRef(t)) for r, p, t, _f, _page in LINKS}


@pytest.mark.parametrize(("resource", "prop", "code", "file", "page"), CODES, ids=[r[0] for r in CODES])
def test_code_is_typed_as_its_register_types_it(
    resource: str, prop: URIRef, code: Literal, file: str, page: str
) -> None:
    values = set(data().objects(URIRef(ID + resource), prop))
    assert values == {code}, "one code, with the register's datatype (plain string, or cdv:Siren)"
    assert code.datatype in (None, CDV.Siren), "INSEE's data writes igeo:codeINSEE as a plain literal"
    assert page in (DATA / file).read_text("utf-8"), f"the file cites {page}"


def test_every_org_identifier_is_a_nine_digit_siren() -> None:
    identifiers = list(data().objects(None, ORG.identifier))
    assert identifiers
    for value in identifiers:
        assert isinstance(value, Literal) and value.datatype == CDV.Siren, value
        assert re.fullmatch(r"[0-9]{9}", str(value)), value


def test_siren_is_a_documented_datatype_of_the_ontology() -> None:
    assert (CDV.Siren, RDF.type, RDFS.Datatype) in ontology()
    assert {label.language for label in ontology().objects(CDV.Siren, RDFS.label)} == {"fr", "en"}


def test_the_ontology_page_lists_the_datatype(client: FlaskClient) -> None:
    page = Page(client.get("/ontology", headers={"Accept": CHROME}).get_data(as_text=True))
    assert {"types-de-donnees", "Siren"} <= page.ids


# ---------------------------------------------------------------------------------------------------------
# The recommendations on the project's data


def focus_nodes(inference: str) -> dict[str, set[str]]:
    shapes = load([ROOT / "shapes" / "cdv-recommendations.ttl"])
    _conforms, report, _text = validate(
        data(), shacl_graph=shapes, ont_graph=ontology(), inference=inference, allow_warnings=True
    )
    found: dict[str, set[str]] = {}
    for result in report.subjects(RDF.type, SH.ValidationResult):
        shape = str(report.value(result, SH.sourceShape)).removeprefix(str(CDV))
        assert report.value(result, SH.resultSeverity) == SH.Warning
        if shape in UNLINKED:
            found.setdefault(shape, set()).add(str(report.value(result, SH.focusNode)).removeprefix(ID))
    return found


@pytest.mark.parametrize("inference", ["none", "rdfs"])
def test_recommendations_report_exactly_the_unlinked_resources(inference: str) -> None:
    assert focus_nodes(inference) == UNLINKED


# ---------------------------------------------------------------------------------------------------------
# The pages: "Voir aussi", links out


@pytest.mark.parametrize(
    ("iri", "expected"),
    [
        ("https://www.legifrance.gouv.fr/jorf/id/JORFTEXT000028636804", "Légifrance"),
        ("http://id.insee.fr/geo/region/9c60accf-61a2-4f61-9546-875924d210ec", "INSEE"),
        ("https://www.insee.fr/fr/metadonnees/cog/region/REG32-hauts-de-france", "INSEE"),
        ("https://annuaire-entreprises.data.gouv.fr/entreprise/200043321", "Annuaire des entreprises"),
        ("https://sig.ville.gouv.fr/territoire/QP059043", "SIG Politique de la ville"),
        (NORD_PAGE, "Préfecture du Nord"),
        ("https://www.example.org/page", "example.org"),  # any other site: its host
        ("HTTPS://WWW.LEGIFRANCE.GOUV.FR/x", "Légifrance"),
        ("https://notlegifrance.gouv.fr/x", "notlegifrance.gouv.fr"),  # a suffix is not a subdomain
        ("javascript:alert(1)", None),
        ("urn:isbn:123", None),
        ("mailto:a@example.org", None),
    ],
)
def test_authority_of_an_iri(iri: str, expected: str | None) -> None:
    assert authority(iri) == expected


def row(prop: str, *iris: str) -> Row:
    return Row(Ref(prop, iri=prop), None, tuple(Value(ref=Ref(i, i, i)) for i in iris))


def test_see_also_keeps_the_links_that_leave_the_site_identifiers_first() -> None:
    rows = [
        row(str(RDFS.seeAlso), NORD_PAGE, ID + "texte/autre"),
        row(str(OWL.sameAs), ID + "territoire/region/32"),  # ours: not a link out
        row(str(SKOS.exactMatch), LINKS[0][2]),
        row(str(RDFS.label), "https://www.legifrance.gouv.fr/not-a-link-property"),
    ]
    links = see_also(rows, "https://w3id.org/cdv/")
    assert [(link.authority, link.iri) for link in links] == [
        ("Légifrance", LINKS[0][2]),
        ("Préfecture du Nord", NORD_PAGE),
    ]


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ("texte/loi-2014-02-21", {"Légifrance": LINKS[0][2]}),
        ("territoire/region/32", {"INSEE": LINKS[2][2]}),
        ("texte/circulaire-2019-01-22", {"Préfecture du Nord": NORD_PAGE}),
    ],
)
def test_page_shows_voir_aussi_as_external_links(
    client: FlaskClient, resource: str, expected: dict[str, str]
) -> None:
    html = client.get(path_of(ID + resource), headers={"Accept": CHROME}).get_data(as_text=True)
    assert "Voir aussi" in html and 'id="h-see-also"' in html
    section = html.split('id="h-see-also"', 1)[1].split("</section>", 1)[0]
    anchors = re.findall(r'<a class="external" rel="external noopener" href="([^"]+)"[^>]*>([^<]+)<', section)
    assert {name: href for href, name in anchors} == expected
    for href in expected.values():
        assert internal(HOST + path_of(ID + resource).lstrip("/"), href) is None, "the crawl never follows it"


def test_page_without_links_out_has_no_voir_aussi(client: FlaskClient) -> None:
    html = client.get(path_of(ID + "territoire/commune/59481"), headers={"Accept": CHROME}).get_data(
        as_text=True
    )
    assert 'id="h-see-also"' not in html


# ---------------------------------------------------------------------------------------------------------
# The named query


@pytest.fixture(scope="module")
def store(release: Release) -> EmbeddedStore:
    return EmbeddedStore.open_release(release)


def test_named_query_lists_every_link_and_identifier_by_kind(store: EmbeddedStore) -> None:
    library = load_library(ROOT / "queries")
    rows = records(run(store, find(library, "external-links"), {}))
    found = {
        (r["kind"], r["resource"].removeprefix(ID), r["property"], r["link"] or r["identifier"]) for r in rows
    }
    assert found == {
        ("texte", "texte/loi-2014-02-21", str(SKOS.exactMatch), LINKS[0][2]),
        ("texte", "texte/loi-2014-02-21", str(ELI.id_local), "VILX1315170L"),
        ("texte", "texte/circulaire-2019-01-22", str(RDFS.seeAlso), NORD_PAGE),
        ("territoire", "territoire/region/32", str(OWL.sameAs), LINKS[2][2]),
        (
            "organisation",
            "organisation/communaute-de-communes-du-pays-de-mormal",
            str(ORG.identifier),
            "200043321",
        ),
        ("organisation", "organisation/commune-du-quesnoy", str(ORG.identifier), "215904814"),
    }
    assert all(r["label"] for r in rows), "each resource with its French label"
    assert [r["kind"] for r in rows] == sorted(r["kind"] for r in rows), "by kind"
