"""The Le Quesnoy graph says what the source text says: counts, texts, dates, names, mentions, provenance.

Expectations come from the source text (parsed by tests/source_text.py, or copied from it into the tables
below), never from the data; the graph is then read with rdflib and compared.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from functools import cache
from pathlib import Path

import pytest
from rdflib import RDF, RDFS, SKOS, XSD, Graph, Literal, Namespace, URIRef

from .source_text import (
    MONTHS as FRENCH_MONTHS,
)
from .source_text import (
    PROTOCOL,
    elements,
    footnotes,
    join,
    line,
    normalise,
    passage_text,
    source_lines,
    structure,
)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "le-quesnoy" / "avenant-2020-2022"
DOC = "https://w3id.org/cdv/id/le-quesnoy/avenant-2020-2022"
ID = "https://w3id.org/cdv/id/"
CDV = Namespace("https://w3id.org/cdv/ontology#")
ELI = Namespace("http://data.europa.eu/eli/ontology#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
ORG = Namespace("http://www.w3.org/ns/org#")
PROV = Namespace("http://www.w3.org/ns/prov#")
OA = Namespace("http://www.w3.org/ns/oa#")
AVENANT = URIRef(DOC)
SOURCE = URIRef(DOC + "/source")

# sha256 of the source text as received (data/sources/ must hold a byte-exact copy)
SOURCE_SHA256 = "59bbccfc162133b9515aece75c3c9f86ea8a00bf3a9bf957c6a2d3c29cc992f7"

MONTHS = {month: number for number, month in enumerate(FRENCH_MONTHS, start=1)}
DATE = re.compile(r"\b(\d{1,2})(?:er)?(?: et (\d{1,2}))? (" + "|".join(MONTHS) + r") (\d{4})\b")


@cache
def graph() -> Graph:
    g = Graph()
    for path in sorted(DATA.glob("*.ttl")):
        g.parse(path, format="turtle")
    return g


def one(subject: URIRef, predicate: URIRef) -> object:
    values = list(graph().objects(subject, predicate))
    assert len(values) == 1, f"{subject} {predicate}: {values}"
    return values[0]


def label(resource: URIRef) -> str:
    return str(one(resource, RDFS.label))


def instances(cls: URIRef) -> list[URIRef]:
    """Instances of a class in reading order (cdv:ordre), or by IRI when unordered."""
    found = set(graph().subjects(RDF.type, cls))
    return sorted(found, key=lambda r: (int(graph().value(r, CDV.ordre) or 0), str(r)))


def passages(resource: URIRef) -> list[tuple[int, int]]:
    return sorted(
        (int(one(p, CDV.ligneDebut)), int(one(p, CDV.ligneFin)))
        for p in graph().objects(resource, CDV.passage)
    )


def french_dates(text: str) -> list[tuple[date, date | None]]:
    """The dates a French text prints ("13 et 14 décembre 2016" → first and last day)."""
    found = []
    for first, last, month, year in DATE.findall(text):
        start = date(int(year), MONTHS[month], int(first))
        found.append((start, date(int(year), MONTHS[month], int(last)) if last else None))
    return found


def as_date(value: object) -> date:
    assert isinstance(value, Literal) and value.datatype == XSD.date, value
    return value.toPython()


# ---------------------------------------------------------------------------------------------------------
# The source file


def test_source_is_a_byte_exact_copy() -> None:
    assert hashlib.sha256(PROTOCOL.read_bytes()).hexdigest() == SOURCE_SHA256
    assert len(source_lines()) == 1078


def test_source_document_names_its_file() -> None:
    assert (SOURCE, RDF.type, CDV.DocumentSource) in graph()
    assert (ROOT / "data" / "sources" / str(one(SOURCE, CDV.fichier))) == PROTOCOL


# ---------------------------------------------------------------------------------------------------------
# Structure: axes, thematics, objectives, measures

COUNTS = [
    (CDV.Axe, "axe", 3),
    (CDV.Thematique, "thematique", 4),
    (CDV.Objectif, "objectif", 15),
    (CDV.Mesure, "mesure", 32),
]


@pytest.mark.parametrize(("cls", "kind", "expected"), COUNTS, ids=[c[1] for c in COUNTS])
def test_counts(cls: URIRef, kind: str, expected: int) -> None:
    assert len(elements(kind)) == expected, "the source parser disagrees with the table"
    assert len(instances(cls)) == expected


@pytest.mark.parametrize(
    ("cls", "kind"), [(CDV.Axe, "axe"), (CDV.Thematique, "thematique"), (CDV.Objectif, "objectif")]
)
def test_headings_as_printed_in_reading_order(cls: URIRef, kind: str) -> None:
    printed = elements(kind)
    in_graph = instances(cls)
    assert [label(r) for r in in_graph] == [e.text for e in printed]
    assert [passages(r) for r in in_graph] == [[(e.start, e.end)] for e in printed]
    assert [int(one(r, CDV.ordre)) for r in in_graph] == list(range(1, len(printed) + 1))


def test_axes_numbers_and_pillars() -> None:
    pillars = {
        "1": "https://w3id.org/cdv/id/concept/pilier/cohesion-sociale",
        "2": "https://w3id.org/cdv/id/concept/pilier/cadre-de-vie-et-renouvellement-urbain",
        "3": "https://w3id.org/cdv/id/concept/pilier/emploi-et-developpement-economique",
    }
    for axis, printed in zip(instances(CDV.Axe), elements("axe"), strict=True):
        assert axis == URIRef(f"{DOC}/axe/{printed.number}")
        assert str(one(axis, SKOS.notation)) == str(printed.number)
        assert one(axis, DCTERMS.subject) == URIRef(pillars[str(printed.number)])


def parents_in_print() -> dict[tuple[str, int], tuple[str, int]]:
    """(kind, k) → (kind, k) of the parent, from the printed order (k: rank among its kind; measures: number)."""
    ranks = {"axe": 0, "thematique": 0, "objectif": 0}
    current: dict[str, int | None] = {"axe": None, "thematique": None, "objectif": None}
    parents = {}
    for e in structure():
        if e.kind == "mesure":
            parents[("mesure", e.number)] = ("objectif", current["objectif"])
            continue
        ranks[e.kind] += 1
        k = e.number if e.kind == "axe" else ranks[e.kind]
        if e.kind == "axe":
            current.update(axe=k, thematique=None)
        elif e.kind == "thematique":
            parents[("thematique", k)] = ("axe", current["axe"])
            current["thematique"] = k
        else:
            parent = (
                ("thematique", current["thematique"]) if current["thematique"] else ("axe", current["axe"])
            )
            parents[("objectif", k)] = parent
            current["objectif"] = k
    return parents


@pytest.mark.parametrize(
    ("child", "parent"), sorted(parents_in_print().items()), ids=lambda v: f"{v[0]}-{v[1]}"
)
def test_each_element_has_its_printed_parent(child: tuple[str, int], parent: tuple[str, int]) -> None:
    resource = URIRef(f"{DOC}/{child[0]}/{child[1]}")
    expected = URIRef(f"{DOC}/{parent[0]}/{parent[1]}")
    assert one(resource, CDV.parent) == expected
    assert one(resource, CDV.avenant) == AVENANT


@pytest.mark.parametrize("printed", elements("mesure"), ids=lambda e: f"mesure-{e.number}")
def test_measure_text_number_and_lines(printed) -> None:
    measure = URIRef(f"{DOC}/mesure/{printed.number}")
    assert (measure, RDF.type, CDV.Mesure) in graph()
    assert one(measure, CDV.texte) == Literal(printed.text, lang="fr")
    assert one(measure, CDV.numero) == Literal(printed.number, datatype=XSD.integer)
    assert one(measure, SKOS.notation) == Literal(str(printed.number))
    assert one(measure, CDV.ordre) == Literal(printed.number, datatype=XSD.integer)
    assert one(measure, RDFS.label) == Literal(f"Mesure {printed.number}", lang="fr")
    assert passages(measure) == [(printed.start, printed.end)]
    number, _, text = passage_text(printed.start, printed.end).partition(". ")
    assert (number, text) == (str(printed.number), printed.text), "the text at the provenance lines"


# Typed from the printed page, for the measures where printing gets in the way.
MEASURE_TEXTS = {
    2: "Développer le partenariat local entre les bailleurs sociaux et l'AGSS pour faciliter l'hébergement d'urgence.",
    13: "Favoriser l’apprentissage du langage et développer l’apprentissage culturel chez les enfants et les tout-petits.",
    14: "Développer la passerelle entre la crèche et l’école maternelle Centre en renforçant le partenariat "
    "crèche-PMI-école.",
    16: "Mettre en place un comité de vie scolaire avec les écoles primaires afin de favoriser l’organisation "
    "d’actions de parentalité.",
    17: "Poursuivre les permanences du médiateur santé et renforcer son intervention sur le terrain.",
    29: "Favoriser l’accès aux dispositifs de droit commun en travaillant sur la coordination des interventions en "
    "direction des différentes typologies de public.",
}


@pytest.mark.parametrize(("number", "text"), sorted(MEASURE_TEXTS.items()))
def test_measure_text_typed_from_the_page(number: int, text: str) -> None:
    assert str(one(URIRef(f"{DOC}/mesure/{number}"), CDV.texte)) == text


# ---------------------------------------------------------------------------------------------------------
# What the measures and objectives name: label in the graph → words printed in the measure

MENTIONS = {
    ("mesure", 1): {"AGSS de l'UDAF": "AGSS de l'UDAF"},
    ("mesure", 2): {"bailleurs sociaux": "bailleurs sociaux", "AGSS de l'UDAF": "AGSS"},
    ("mesure", 3): {"dispositif d'accompagnement des victimes": "dispositif d'accompagnement des victimes"},
    ("mesure", 5): {
        "conseil de sécurité territorialisé": "conseil de sécurité territorialisé",
        "forces de l'ordre": "forces de l'ordre",
        "acteurs de la prévention de la délinquance": "acteurs de la prévention de la délinquance",
    },
    ("mesure", 6): {"dispositifs de participation citoyenne": "dispositifs de participation citoyenne"},
    ("mesure", 10): {"établissements scolaires": "établissements"},
    ("mesure", 14): {
        "crèche": "crèche",
        "école maternelle Centre": "école maternelle Centre",
        "Protection Maternelle et Infantile": "PMI",
    },
    ("mesure", 15): {"établissements scolaires": "établissements scolaires"},
    ("mesure", 16): {
        "comité de vie scolaire": "comité de vie scolaire",
        "écoles primaires": "écoles primaires",
    },
    ("mesure", 17): {"médiateur santé": "médiateur santé"},
    ("mesure", 18): {
        "équipes éducatives": "équipes éducatives",
        "service de médiation en santé": "service de médiation en santé",
    },
    ("mesure", 20): {
        "réseau Santé Précarité Mentale de l’arrondissement": "réseau Santé Précarité Mentale de l’arrondissement"
    },
    ("mesure", 21): {"partenaires du territoire": "partenaires du territoire"},
    ("mesure", 22): {
        "Commune du Quesnoy": "la ville",
        "bailleurs sociaux": "bailleurs",
        "services sociaux": "services sociaux",
        "Communauté de Communes du Pays de Mormal": "Communauté de Communes du Pays de Mormal",
    },
    ("mesure", 26): {"chantiers d’insertion": "chantiers d’insertion"},
    ("mesure", 27): {
        "coaching vers l’emploi": "coaching vers l’emploi",
        "GIP Réussir en Sambre Avesnois": "GIP Réussir en Sambre Avesnois",
        "Département du Nord": "le Département",
        "Pôle Emploi": "Pôle Emploi",
        "Région Hauts-de-France": "la Région Hauts-de-France",
    },
    ("mesure", 28): {"emplois francs": "emplois francs", "Pôle Emploi": "Pôle Emploi"},
    ("objectif", 12): {
        "gestion urbaine de proximité": "gestion urbaine de proximité",
        "services techniques": "services techniques",
        "bailleurs sociaux": "bailleurs sociaux",
        "convention d’abattement de 30% de la TFPB": "convention d’abattement de 30% de la TFPB",
    },
    ("objectif", 13): {
        "clauses d’insertion": "clauses d’insertion",
        "collectivités": "collectivités",
        "bailleurs sociaux": "bailleurs sociaux",
    },
}
MENTION_CASES = [(("mesure", n), MENTIONS.get(("mesure", n), {})) for n in range(1, 33)] + [
    (("objectif", k), MENTIONS.get(("objectif", k), {})) for k in range(1, 16)
]


@pytest.mark.parametrize(
    ("element", "expected"), MENTION_CASES, ids=lambda v: f"{v[0]}-{v[1]}" if isinstance(v, tuple) else ""
)
def test_named_organisations_actors_schemes_and_texts(
    element: tuple[str, int], expected: dict[str, str]
) -> None:
    resource = URIRef(f"{DOC}/{element[0]}/{element[1]}")
    printed = str(graph().value(resource, CDV.texte) or graph().value(resource, RDFS.label))
    for words in expected.values():
        assert words in printed, f"{words!r} is not printed in {element}"
    assert {label(r) for r in graph().objects(resource, CDV.mentionne)} == set(expected)


def test_pole_emploi_and_its_regional_branch() -> None:
    national = URIRef(ID + "organisation/pole-emploi")
    regional = URIRef(ID + "organisation/pole-emploi-hauts-de-france")
    assert one(regional, ORG.subOrganizationOf) == national
    assert national in set(graph().objects(URIRef(f"{DOC}/mesure/28"), CDV.mentionne))


# ---------------------------------------------------------------------------------------------------------
# Avenant, contract, preamble, territory


def heading_line(text: str) -> int:
    return next(n for n, line_text in enumerate(source_lines(), start=1) if line_text.strip() == text)


def test_preamble_and_purpose_as_printed() -> None:
    preamble = (heading_line("PRÉAMBULE") + 1, heading_line("IDENTIFICATION DU CONTRAT DE VILLE") - 1)
    purpose = (heading_line("OBJET DE L’AVENANT") + 1, heading_line("Axe 1 : Cohésion sociale") - 1)
    assert str(one(AVENANT, CDV.preambule)) == passage_text(*preamble)
    assert str(one(AVENANT, CDV.objet)) == passage_text(*purpose)


def test_avenant_title_period_and_neighbourhood() -> None:
    assert str(one(AVENANT, DCTERMS.title)) == line(1)
    assert str(one(AVENANT, DCTERMS.alternative)) == line(2)
    name, code = re.search(r"QP (.+?) - (QP\d{6})", line(2)).groups()
    qpv = one(AVENANT, CDV.quartier)
    assert qpv == URIRef(ID + f"territoire/qpv/{code}")
    assert (str(one(qpv, RDFS.label)), str(one(qpv, SKOS.notation))) == (name, code)
    first, last = re.search(r"(\d{4})-(\d{4}) - QP", line(2)).groups()
    period = one(AVENANT, DCTERMS.temporal)
    assert period == URIRef(DOC + "/periode")
    start, end = (one(period, URIRef("http://www.w3.org/ns/dcat#" + p)) for p in ("startDate", "endDate"))
    assert (start, end) == (Literal(first, datatype=XSD.gYear), Literal(last, datatype=XSD.gYear))


def test_contract_extension_and_signature_year() -> None:
    contract = one(AVENANT, CDV.modifie)
    extended = re.search(r"prolongée jusqu’en (\d{4})", passage_text(31, 32)).group(1)
    signed = re.search(r"sa signature en (\d{4})", passage_text(34, 36)).group(1)
    assert one(contract, CDV.prolongeJusquEn) == Literal(extended, datatype=XSD.gYear)
    assert one(contract, CDV.anneeDeSignature) == Literal(signed, datatype=XSD.gYear)
    assert label(one(contract, CDV.partiePrenante)) == "conseils citoyens"


def test_tourcoing_call() -> None:
    text = passage_text(24, 26)
    (day, _), *_ = french_dates(text)
    event = URIRef(ID + "evenement/2017-11-14-appel-de-tourcoing")
    assert as_date(one(event, DCTERMS.date)) == day
    assert label(one(event, PROV.atLocation)) == "Tourcoing" and "à Tourcoing" in text
    assert label(one(event, PROV.wasAssociatedWith)) == "Président de la République"


def test_roadmap_of_the_preamble() -> None:
    text = passage_text(26, 29)
    roadmap = URIRef(ID + "texte/feuille-de-route-de-40-mesures-interministerielles")
    measures = int(re.search(r"feuille de route de (\d+) mesures", text).group(1))
    year = re.search(r"à l’été (\d{4})", text).group(1)
    assert one(roadmap, CDV.nombreDeMesures) == Literal(measures, datatype=XSD.integer)
    assert one(roadmap, DCTERMS.date) == Literal(year, datatype=XSD.gYear)
    assert graph().value(roadmap, ELI.date_document) is None, "a season is not a day"


# ---------------------------------------------------------------------------------------------------------
# Texts and their dates

REFERENCE_TEXTS = [
    (1, "pacte-2018-07-16", "pacte", "2018-07-16", None),
    (2, "circulaire-2019-01-22", "circulaire", "2019-01-22", None),
    (
        3,
        "deliberation-conseil-regional-des-hauts-de-france-2016-12-13",
        "deliberation",
        "2016-12-13",
        "2016-12-14",
    ),
    (4, "deliberation-conseil-departemental-du-nord-2014-11-03", "deliberation", "2014-11-03", None),
    (5, "deliberation-conseil-municipal-du-quesnoy-2015-06-04", "deliberation", "2015-06-04", None),
]


def printed_reference_entries() -> list[str]:
    """The "- " entries between TEXTES DE RÉFÉRENCE and PRÉAMBULE, joined across lines."""
    entries: list[list[str]] = []
    for number in range(heading_line("TEXTES DE RÉFÉRENCE") + 1, heading_line("PRÉAMBULE")):
        text = line(number)
        if text.startswith("- "):
            entries.append([text[2:]])
        elif text and entries:
            entries[-1].append(text)
    return [join(entry) for entry in entries]


@pytest.mark.parametrize(("k", "slug", "kind", "day", "last_day"), REFERENCE_TEXTS)
def test_reference_texts_in_order_with_their_dates(
    k: int, slug: str, kind: str, day: str, last_day: str | None
) -> None:
    entry = printed_reference_entries()[k - 1]
    reference = URIRef(f"{DOC}/reference/{k}")
    text = URIRef(ID + "texte/" + slug)
    assert str(one(reference, CDV.texte)) == entry
    assert one(reference, ELI.cites) == text
    assert text in set(graph().objects(AVENANT, CDV.texteDeReference))
    assert one(text, ELI.type_document) == URIRef(ID + "concept/type-de-texte/" + kind)
    (first, last), *_ = french_dates(entry)
    assert as_date(one(text, ELI.date_document)) == first == date.fromisoformat(day)
    assert graph().value(text, CDV.dateFin) == (Literal(last_day, datatype=XSD.date) if last_day else None)
    assert last == (date.fromisoformat(last_day) if last_day else None)


def test_the_avenant_has_exactly_the_printed_reference_texts() -> None:
    assert len(printed_reference_entries()) == len(REFERENCE_TEXTS)
    assert len(set(graph().objects(AVENANT, CDV.texteDeReference))) == len(REFERENCE_TEXTS)


PASSED_BY = [
    ("pacte-2018-07-16", {"Premier ministre", "Assemblée des Communautés de France", "France urbaine"}),
    ("circulaire-2019-01-22", {"Premier ministre"}),
    (
        "deliberation-conseil-regional-des-hauts-de-france-2016-12-13",
        {"Conseil Régional des Hauts-de-France"},
    ),
    ("deliberation-conseil-departemental-du-nord-2014-11-03", {"Conseil Départemental du Nord"}),
    ("deliberation-conseil-municipal-du-quesnoy-2015-06-04", {"Conseil Municipal du Quesnoy"}),
    (
        "convention-2013-04-19",
        {"ministre des affaires sociales et de la santé", "ministre délégué à la ville"},
    ),
    ("appel-a-projets-conseil-departemental-du-nord-2018-06-29", {"Conseil Départemental du Nord"}),
]


@pytest.mark.parametrize(("slug", "agents"), PASSED_BY)
def test_who_adopted_or_signed_the_text(slug: str, agents: set[str]) -> None:
    assert {label(a) for a in graph().objects(URIRef(ID + "texte/" + slug), ELI.passed_by)} == agents


# Every text cited with a day, outside the textes de référence: IRI slug → day as printed
DATED_TEXTS = {
    "loi-2014-02-21": "21 février 2014",
    "convention-2013-04-19": "19 avril 2013",
    "instruction-2016-09-30": "30 septembre 2016",
    "schema-nord-2017-06-12": "12 juin 2017",
    "deliberation-conseil-departemental-du-nord-2015-06-15": "15 juin 2015",
    "deliberation-conseil-departemental-du-nord-2015-12-17-protection-de-l-enfance": "17 décembre 2015",
    "deliberation-conseil-departemental-du-nord-2015-12-17-autonomie": "17 décembre 2015",
    "appel-a-projets-conseil-departemental-du-nord-2018-06-29": "29 juin 2018",
    "deliberation-conseil-departemental-du-nord-2017-05-22-prevention-et-protection-de-l-enfance": "22 mai 2017",
    "deliberation-conseil-departemental-du-nord-2017-05-22-culture": "22 mai 2017",
    "deliberation-conseil-departemental-du-nord-2019-07-01": "1er juillet 2019",
    "deliberation-conseil-departemental-du-nord-2019-03-25": "25 mars 2019",
    "deliberation-conseil-departemental-du-nord-2019-02-04": "4 février 2019",
}


@pytest.mark.parametrize(("slug", "printed"), sorted(DATED_TEXTS.items()))
def test_dated_texts_of_the_contributions(slug: str, printed: str) -> None:
    text = URIRef(ID + "texte/" + slug)
    assert any(printed in passage_text(a, b) for a, b in passages(text)), (
        "the day is printed at the text's lines"
    )
    (day, _), *_ = french_dates(printed)
    assert as_date(one(text, ELI.date_document)) == day


UNDATED_TEXTS = [
    "strategie-nationale-de-sante",
    "projet-regional-de-sante-hauts-de-france-2018-2023",
    "projet-regional-de-sante-picardie",
    "projet-regional-de-sante-nord-pas-de-calais",
    "programme-regional-pour-l-acces-a-la-prevention-et-aux-soins-hauts-de-france",
    "zonage-medecins-generalistes-ars-hauts-de-france",
    "contrat-de-plan-etat-region-2015-2020",
    "convention-d-objectifs-et-de-gestion-2018-2022",
    "convention-nationale-de-lutte-contre-la-pauvrete",
    "plan-d-engagement-pour-le-renouveau-du-bassin-minier",
    "pacte-sambre-avesnois",
    "schema-departemental-des-solidarites-humaines-nord-2018-2022",
    "feuille-de-route-de-40-mesures-interministerielles",
    "convention-d-abattement-de-30-de-la-tfpb-le-quesnoy",
]


@pytest.mark.parametrize("slug", UNDATED_TEXTS)
def test_undated_texts_get_no_day(slug: str) -> None:
    text = URIRef(ID + "texte/" + slug)
    assert (text, RDF.type, ELI.LegalResource) in graph()
    assert graph().value(text, ELI.date_document) is None


def test_every_text_is_in_one_of_the_tables() -> None:
    listed = {slug for _, slug, *_ in REFERENCE_TEXTS} | set(DATED_TEXTS) | set(UNDATED_TEXTS)
    in_graph = {
        str(t).removeprefix(ID + "texte/")
        for t in graph().subjects(RDF.type, ELI.LegalResource)
        if t.startswith(ID + "texte/")
    }
    assert in_graph == listed


def dated_mentions() -> list[tuple[int, date, date | None]]:
    found = []
    for number, text in enumerate(source_lines(), start=1):
        found += [(number, first, last) for first, last in french_dates(text)]
    return found


@pytest.mark.parametrize(("number", "day", "last_day"), dated_mentions(), ids=lambda v: str(v))
def test_every_day_printed_in_the_text_is_the_date_of_a_text_or_event_at_that_line(
    number: int, day: date, last_day: date | None
) -> None:
    dated = [
        r
        for r in set(graph().subjects(ELI.date_document, None)) | set(graph().subjects(DCTERMS.date, None))
        if any(a <= number <= b for a, b in passages(r))
    ]
    dates = {
        (as_date(v), graph().value(r, CDV.dateFin) and as_date(graph().value(r, CDV.dateFin)))
        for r in dated
        for v in list(graph().objects(r, ELI.date_document)) + list(graph().objects(r, DCTERMS.date))
        if isinstance(v, Literal) and v.datatype == XSD.date
    }
    assert (day, last_day) in dates


def test_the_17_december_2015_session_is_an_event_and_the_deliberations_are_two() -> None:
    session = URIRef(ID + "evenement/2015-12-17-seance-pleniere-conseil-departemental-du-nord")
    assert "séance plénière le 17 décembre 2015" in passage_text(*passages(session)[0])
    deliberations = [t for t in graph().subjects(ELI.date_document, Literal("2015-12-17", datatype=XSD.date))]
    assert len(deliberations) == 2
    assert len({str(one(t, DCTERMS.title)) for t in deliberations}) == 2


# ---------------------------------------------------------------------------------------------------------
# Contributions: headings, sections, lists


def contribution(slug: str) -> URIRef:
    return URIRef(f"{DOC}/contribution/{slug}")


CONTRIBUTIONS = [
    (1, "caf-du-nord", "Caisse d’Allocations Familiales du Nord"),
    (2, "ars-hauts-de-france", "Agence Régionale de Santé Hauts-de-France"),
    (3, "departement-du-nord", "Département du Nord"),
]


def test_three_contributions_in_printed_order() -> None:
    headings = [
        n for n, text in enumerate(source_lines(), start=1) if text.strip().startswith("CONTRIBUTION D")
    ]
    assert [passages(c)[0][0] for c in instances(CDV.Contribution)] == headings
    assert [(int(one(c, CDV.ordre)), c) for c in instances(CDV.Contribution)] == [
        (k, contribution(slug)) for k, slug, _ in CONTRIBUTIONS
    ]
    for k, slug, organisation in CONTRIBUTIONS:
        assert label(contribution(slug)) == line(headings[k - 1])
        assert label(one(contribution(slug), PROV.wasAttributedTo)) == organisation


SECTIONS = {
    "ars-hauts-de-france": {"1": 323, "2": 349, "2.1": 350, "2.2": 379, "3": 397, "3.1": 414, "3.2": 448},
    "departement-du-nord": {
        str(n): start for n, start in enumerate([563, 587, 647, 679, 698, 740, 760], start=1)
    },
}
SECTION_CASES = [
    (slug, notation, start) for slug, sections in SECTIONS.items() for notation, start in sections.items()
]


@pytest.mark.parametrize(("slug", "notation", "start"), SECTION_CASES)
def test_numbered_sections_as_printed(slug: str, notation: str, start: int) -> None:
    section = URIRef(f"{DOC}/contribution/{slug}/section/{notation}")
    printed = re.match(r"^(\d+(?:\.\d+)?)\.? (.+)$", line(start))
    assert printed.group(1) == notation
    assert str(one(section, SKOS.notation)) == notation
    assert label(section) == normalise(printed.group(2))
    assert passages(section)[0][0] == start
    parent = notation.rpartition(".")[0]
    expected = URIRef(f"{DOC}/contribution/{slug}/section/{parent}") if parent else contribution(slug)
    assert one(section, CDV.parent) == expected


def test_no_other_sections() -> None:
    assert len(instances(CDV.Section)) == len(SECTION_CASES)


# (contribution, list k) → number of items and whether the text presents them as priorities
LISTS = {
    ("caf-du-nord", 1): (4, True),  # the four missions
    ("caf-du-nord", 2): (4, False),
    ("ars-hauts-de-france", 1): (2, True),
    ("ars-hauts-de-france", 2): (3, False),
    ("ars-hauts-de-france", 3): (7, False),  # the regulatory framework
    ("departement-du-nord", 1): (4, True),  # the four priorities of the 15 June 2015 deliberation
    ("departement-du-nord", 2): (3, False),
    ("departement-du-nord", 3): (4, False),  # RSA
    ("departement-du-nord", 4): (6, False),  # the call for projects
    ("departement-du-nord", 5): (4, False),  # child protection
    ("departement-du-nord", 6): (3, False),
    ("departement-du-nord", 7): (3, False),
    ("departement-du-nord", 8): (5, False),  # autonomy
    ("departement-du-nord", 9): (3, False),  # culture
    ("departement-du-nord", 10): (2, False),  # the two culture schemes
}
ITEM_MARK = re.compile(r"^(?:- |▪ |(\d+)\. )")


@pytest.mark.parametrize(
    ("key", "expected"),
    sorted(LISTS.items()),
    ids=lambda v: f"{v[0]}-{v[1]}" if isinstance(v, tuple) and isinstance(v[0], str) else "",
)
def test_lists_and_their_items_as_printed(key: tuple[str, int], expected: tuple[int, bool]) -> None:
    slug, k = key
    liste = URIRef(f"{DOC}/contribution/{slug}/liste/{k}")
    (start, end), *_ = passages(liste)
    assert label(liste) in passage_text(start, end)
    items = sorted(graph().subjects(CDV.parent, liste), key=lambda r: int(one(r, CDV.ordre)))
    size, priorities = expected
    assert len(items) == size
    for n, item in enumerate(items, start=1):
        assert item == URIRef(f"{liste}/{n}")
        assert ((item, RDF.type, CDV.Priorite) in graph()) == priorities
        (a, b), *_ = passages(item)
        assert start <= a <= b <= end
        printed = passage_text(a, b)
        mark = ITEM_MARK.match(printed)
        if mark and mark.group(1):
            assert str(one(item, SKOS.notation)) == mark.group(1) == str(n)
        assert str(one(item, CDV.texte)) == printed[mark.end() if mark else 0 :]


def test_two_culture_schemes_and_their_descriptions() -> None:
    for n, slug in enumerate(
        [
            "residence-d-artistes-en-college-nord",
            "soutien-aux-projets-artistiques-et-culturels-pour-l-insertion-sociale-nord",
        ],
        start=1,
    ):
        scheme = URIRef(ID + "dispositif/" + slug)
        item = URIRef(f"{DOC}/contribution/departement-du-nord/liste/10/{n}")
        assert one(item, CDV.mentionne) == scheme
        assert label(scheme) in str(one(item, CDV.texte))


SCHEMES = {
    "caf-du-nord": {"CTSF"},
    "ars-hauts-de-france": {
        "CLS",
        "CLSM",
        "ARMS",
        "MSP",
        "contrat d’engagement de service public",
        "poste de praticiens territoriaux de médecine générale",
    },
    "departement-du-nord": {
        "RSA",
        "prévention spécialisée",
        "Acteurs de Liaison Sociale en Environnement Scolaire",
        "projets jeunesse des centres sociaux",
        "Résidence d’artistes en collège",
        "PEDC",
        "PTS",
        "dispositif de soutien aux projets artistiques et culturels pour favoriser l’insertion sociale "
        "des personnes vulnérables",
    },
}


@pytest.mark.parametrize(("slug", "names"), sorted(SCHEMES.items()))
def test_schemes_each_partner_brings(slug: str, names: set[str]) -> None:
    found = set()
    for scheme in graph().objects(contribution(slug), CDV.mobilise):
        forms = {label(scheme)} | {str(a) for a in graph().objects(scheme, SKOS.altLabel)}
        found |= forms & names
        (a, b), *_ = passages(scheme)
        assert passages(contribution(slug))[0][0] <= a <= b <= passages(contribution(slug))[0][1]
    assert found == names


def test_footnotes_are_documents_referenced_where_they_are_called() -> None:
    notes = footnotes()
    assert sorted(notes) == [1, 2, 3]
    for number, (note_line, url) in notes.items():
        calls = [
            n for n, text in enumerate(source_lines(), start=1) if re.search(rf"[a-zé]{number}[\s,(]", text)
        ]
        assert len(calls) == 1, f"footnote {number} is called once"
        document = URIRef(url)
        assert (document, RDF.type, FOAF.Document) in graph()
        assert any(a <= note_line <= b for a, b in passages(document))
        citing = [
            s
            for s, o in graph().subject_objects(DCTERMS.references)
            if o == document or str(o).startswith(url + "#")
        ]
        assert citing and all(any(a <= calls[0] <= b for a, b in passages(s)) for s in citing)
    page = URIRef(notes[1][1] + "#page=7")
    assert "Page 7," in line(notes[1][0]) and one(page, DCTERMS.isPartOf) == URIRef(notes[1][1])


# ---------------------------------------------------------------------------------------------------------
# Signatures: typed from the signature block, in its order

SIGNATORIES = [
    ("Monsieur le Préfet Délégué pour l’Égalité des Chances", "Daniel BARNIER", "État"),
    (
        "Monsieur le Président du Conseil Régional des Hauts-de-France",
        "Xavier BERTRAND",
        "Conseil Régional des Hauts-de-France",
    ),
    (
        "Monsieur le Président du Conseil Départemental du Nord",
        "Jean-René LECERF",
        "Conseil Départemental du Nord",
    ),
    ("Madame le Maire du Quesnoy", "Marie-Sophie LESNE", "Commune du Quesnoy"),
    (
        "Monsieur le Président de la Communauté de Communes du Pays de Mormal",
        "Guislain CAMBIER",
        "Communauté de Communes du Pays de Mormal",
    ),
    (
        "Madame la Procureure de la République d’Avesnes-sur-Helpe",
        "Cécile GRESSIER",
        "Parquet du tribunal judiciaire d’Avesnes-sur-Helpe",  # her own body, not the préfet's État
    ),
    ("Madame la Rectrice de l’Académie de Lille", "Valérie CABUIL", "Académie de Lille"),
    (
        "Madame la Directrice Régionale de la Caisse des Dépôts et Consignations des Hauts-de-France",
        "Gaëlle VELAY",
        "Caisse des Dépôts et Consignations des Hauts-de-France",
    ),
    (
        "Madame la Directrice Régionale du Pôle Emploi Hauts-de-France",
        "Nadine CRINIER",
        "Pôle Emploi Hauts-de-France",
    ),
    (
        "Monsieur le Directeur Général de l’Agence Régionale de Santé Hauts-de-France",
        "Étienne CHAMPION",
        "Agence Régionale de Santé Hauts-de-France",
    ),
    (
        "Monsieur le Directeur Général de la Caisse Primaire du Hainaut",
        "Yvan TALPAERT",
        "Caisse Primaire du Hainaut",
    ),
    (
        "Monsieur le Président du directoire de la Société Immobilière du Grand Hainaut",
        "Pierre TONNEAU",
        "Société Immobilière du Grand Hainaut",
    ),
    ("Monsieur le Directeur Général de Partenord Habitat", "Christophe BECUWE", "Partenord Habitat"),
    ("Monsieur le Directeur Général de Promocil", "Jean-Pierre CHOËL", "Promocil"),
    (
        "Madame la Présidente du Conseil d’Administration de la Caisse d’Allocations Familiales du Nord",
        "Lydie LIBRIZZI",
        "Caisse d’Allocations Familiales du Nord",
    ),
    (
        "Monsieur le Directeur Général de la Caisse d’Allocations Familiales du Nord",
        "Luc GRARD",
        "Caisse d’Allocations Familiales du Nord",
    ),
]
SIGNATURE_BLOCK = (772, 1078)
NAME_LINE = re.compile(r"^\S+ [A-ZÀ-ÖØ-Þ]+$")


def printed_signatures() -> list[tuple[str, str]]:
    """(heading, name) for each signature, read from the block: a name line closes the heading above it."""
    found, heading = [], []
    for number in range(SIGNATURE_BLOCK[0], SIGNATURE_BLOCK[1] + 1):
        text = line(number)
        if NAME_LINE.match(text):
            found.append((join(heading), text))
            heading = []
        elif text:
            heading.append(text)
    return found


def test_signature_table_is_the_printed_block() -> None:
    assert [(heading, name) for heading, name, _ in SIGNATORIES] == printed_signatures()


@pytest.mark.parametrize(
    ("k", "row"), list(enumerate(SIGNATORIES, start=1)), ids=lambda v: str(v) if isinstance(v, int) else v[1]
)
def test_signature_person_post_and_organisation(k: int, row: tuple[str, str, str]) -> None:
    heading, name, organisation = row
    signature = URIRef(f"{DOC}/signature/{k}")
    civility, _article, post = re.match(r"^(Monsieur|Madame) (le|la) (.+)$", heading).groups()
    assert label(signature) == heading
    assert int(one(signature, CDV.ordre)) == k
    person = one(signature, CDV.signataire)
    assert str(one(person, FOAF.name)) == name
    assert str(one(person, FOAF.title)) == civility
    given, family = name.split(" ")
    assert (str(one(person, FOAF.givenName)), str(one(person, FOAF.familyName))) == (given, family)
    assert label(one(signature, CDV.poste)) == post
    assert label(one(signature, CDV.organisation)) == organisation
    assert one(one(signature, CDV.poste), ORG.postIn) == one(signature, CDV.organisation)
    assert one(one(signature, CDV.poste), ORG.heldBy) == person


def test_sixteen_signatures_from_barnier_to_grard() -> None:
    signatures = instances(CDV.Signature)
    assert len(signatures) == 16
    names = [str(one(one(s, CDV.signataire), FOAF.name)) for s in signatures]
    assert (names[0], names[-1]) == ("Daniel BARNIER", "Luc GRARD")


# ---------------------------------------------------------------------------------------------------------
# Provenance: every passage exists and really holds the resource it is cited for

PRINTED_FORMS = [
    RDFS.label,
    SKOS.prefLabel,
    SKOS.altLabel,
    SKOS.hiddenLabel,
    SKOS.notation,
    DCTERMS.title,
    DCTERMS.alternative,
    DCTERMS.description,
    CDV.texte,
    CDV.preambule,
    CDV.objet,
    CDV.sousTitre,
    FOAF.name,
]


def with_passages() -> list[URIRef]:
    return sorted(set(graph().subjects(CDV.passage, None)))


@pytest.mark.parametrize("resource", with_passages(), ids=lambda r: str(r).removeprefix(ID))
def test_provenance_passages_hold_the_resource(resource: URIRef) -> None:
    assert (resource, PROV.wasDerivedFrom, SOURCE) in graph()
    forms = {normalise(str(v)).casefold() for p in PRINTED_FORMS for v in graph().objects(resource, p)}
    if not str(resource).startswith(ID):
        forms.add(str(resource).split("#")[0].casefold())  # a web document is printed as its URL
    for passage in graph().objects(resource, CDV.passage):
        first, last = int(one(passage, CDV.ligneDebut)), int(one(passage, CDV.ligneFin))
        assert 1 <= first <= last <= len(source_lines())
        assert passage == URIRef(f"{DOC}/source#L{first}-L{last}")
        assert one(passage, OA.hasSource) == SOURCE
        selector = one(passage, OA.hasSelector)
        assert str(one(selector, RDF.value)) == f"line={first - 1},{last}"
        cleaned = passage_text(first, last).casefold()
        raw = normalise(" ".join(source_lines()[first - 1 : last])).casefold()
        assert any(f in cleaned or f in raw for f in forms), f"L{first}-L{last} does not print {resource}"


@pytest.mark.parametrize(
    "resource",
    [r for r in with_passages() if graph().value(r, CDV.texte) is not None],
    ids=lambda r: str(r).removeprefix(ID),
)
def test_texts_are_found_whole_at_their_lines(resource: URIRef) -> None:
    text = normalise(str(one(resource, CDV.texte)))
    assert any(text in passage_text(a, b) for a, b in passages(resource))
