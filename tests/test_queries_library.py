"""Each named query answers what the source text says, on the project's published data.

Expected answers come from the protocol's text (tests/source_text.py reads data/sources/), never from the
graph: the printed structure, the measure texts and line numbers, the signature block, the list of reference
texts. Quality checks return no row on the data, and each catches the fault it describes on a broken copy.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator

import pyoxigraph as ox
import pytest

from server.core.config import PROJECT_ROOT
from server.core.library import LibraryError, NamedQuery, Values, find, load_library, parse_query
from server.core.query_results import JsonValue, records
from server.engine.named_queries import run
from server.engine.release import Release
from server.engine.store import EmbeddedStore

from .source_text import MONTHS, Printed, elements, source_lines, structure
from .test_search import stem

LIBRARY = load_library(PROJECT_ROOT / "queries")
DOC = "https://w3id.org/cdv/id/le-quesnoy/avenant-2020-2022"
ORG = "https://w3id.org/cdv/id/organisation/"
CDV = "https://w3id.org/cdv/ontology#"

Rows = list[dict[str, JsonValue]]


@pytest.fixture(scope="module")
def store(release: Release) -> Iterator[EmbeddedStore]:
    yield EmbeddedStore.open_release(release)


def answer(store: EmbeddedStore, name: str, **params: str) -> Rows:
    """The records a named query returns with these parameters."""
    return records(run(store, find(LIBRARY, name), params))


def measures_by_axis() -> dict[int, list[Printed]]:
    """Printed measures grouped under the printed axis they follow."""
    groups: dict[int, list[Printed]] = {}
    axis = 0
    for element in structure():
        if element.kind == "axe":
            axis = element.number or 0
        elif element.kind == "mesure":
            groups.setdefault(axis, []).append(element)
    return groups


def measures_under(kind: str, k: int) -> list[int]:
    """Numbers of the printed measures under the k-th element of a kind (axe by number, others by rank)."""
    inside, seen, numbers = False, 0, []
    rank = {"axe": 0, "thematique": 1, "objectif": 2}
    for element in structure():
        if element.kind == kind:
            seen += 1
            inside = (element.number if kind == "axe" else seen) == k
        elif element.kind != "mesure" and rank[element.kind] <= rank[kind]:
            inside = False
        elif element.kind == "mesure" and inside:
            numbers.append(element.number or 0)
    return numbers


# ---------------------------------------------------------------------------------------------------------
# The library itself


def test_every_query_has_bilingual_titles_a_description_and_tags() -> None:
    assert len(LIBRARY) >= 19
    for query in LIBRARY:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", query.name)
        assert query.title["fr"] and query.title["en"], query.name
        assert query.descriptions.get("fr") and query.descriptions.get("en"), query.name
        assert query.tags, query.name


@pytest.mark.parametrize("query", LIBRARY, ids=lambda q: q.name)
def test_query_text_run_as_is_gives_the_same_answer_as_the_bound_defaults(
    store: EmbeddedStore, query: NamedQuery
) -> None:
    as_is = store.query(query.sparql)
    bound = run(store, query)
    assert isinstance(as_is, ox.QuerySolutions)
    if query.engine is None:
        assert records(as_is) == records(bound)
    else:  # answered from the search index: the same rows, best match first instead of printed order
        key = json.dumps
        assert sorted(records(as_is), key=key) == sorted(records(bound), key=key)


@pytest.mark.parametrize("query", [q for q in LIBRARY if "quality" not in q.tags], ids=lambda q: q.name)
def test_every_question_answers_with_its_defaults(store: EmbeddedStore, query: NamedQuery) -> None:
    assert records(run(store, query)), f"{query.name} returned no row with its defaults"


HEAD = "# title@fr: Essai\n# title@en: Trial\n"
GOOD_BODY = "SELECT ?x WHERE {\n  VALUES ?x { 1 }  # the default\n}\n"


def test_header_fields_continuation_lines_and_defaults() -> None:
    query = parse_query(
        "essai",
        HEAD + "# description@en: A first line\n#   and its continuation.\n"
        "# param: x integer values=objects(<http://example.org/p>) -- a number\n# tags: a, b\n" + GOOD_BODY,
    )
    assert query.description == "A first line and its continuation."
    (param,) = query.parameters
    assert (param.name, param.type, param.description, param.default.value) == (
        "x",
        "integer",
        "a number",
        "1",
    )
    assert param.values == Values("objects", ("<http://example.org/p>",))
    assert query.tags == ("a", "b") and query.columns == ("x",)
    assert "VALUES" in query.sparql and "VALUES" not in query.body


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# title@fr: Essai\n" + GOOD_BODY, "title@en"),
        (HEAD + "# param: x integer\nSELECT ?x WHERE { }\n", "no line `VALUES"),
        (HEAD + "# param: x integer\nSELECT ?x WHERE {\n VALUES ?y { 1 }\n}\n", "no line `VALUES"),
        (HEAD + "# param: x integer\nSELECT ?x WHERE {\n VALUES ?x { 1 2 }\n}\n", "one value to each"),
        (HEAD + "# param: x number\n" + GOOD_BODY, "bad parameter declaration"),
        (
            HEAD + "# param: format string\nSELECT ?format WHERE {\n VALUES ?format { 1 }\n}\n",
            "bad parameter",
        ),
        (HEAD + "# param: x integer\nSELECT ?y WHERE {\n VALUES ?x { 1 }\n BIND(1 AS ?y)\n}\n", "projection"),
        (HEAD + "ASK { }\n", "only SELECT"),
        (HEAD + "SELECT ?x WHERE { \n", "essai"),
        (HEAD + "# chart: label=x value=n\nSELECT ?x WHERE { }\n", "chart names columns"),
        (HEAD + "# chart: x n\nSELECT ?x WHERE { }\n", "bad chart"),
    ],
    ids=[
        "no-english-title",
        "no-defaults-line",
        "defaults-of-another-variable",
        "two-defaults",
        "unknown-type",
        "reserved-name",
        "parameter-not-selected",
        "not-a-select",
        "syntax-error",
        "chart-unknown-column",
        "chart-syntax",
    ],
)
def test_a_malformed_query_file_stops_the_load(text: str, message: str) -> None:
    with pytest.raises(LibraryError, match=message):
        parse_query("essai", text)


# ---------------------------------------------------------------------------------------------------------
# 1. Structure: 3 axes, 4 thematics, 15 objectives, 32 measures


def test_avenant_structure_matches_the_printed_structure(store: EmbeddedStore) -> None:
    rows = answer(store, "avenant-structure")
    printed_objectives = elements("objectif")
    assert len(rows) == len(printed_objectives) == 15
    assert len({r["axe"] for r in rows}) == len(elements("axe")) == 3
    assert len({r["thematique"] for r in rows if r["thematique"]}) == len(elements("thematique")) == 4
    assert sum(int(r["mesures"]) for r in rows) == len(elements("mesure")) == 32  # type: ignore[arg-type]
    expected = [
        (o.text, len(measures_under("objectif", k))) for k, o in enumerate(printed_objectives, start=1)
    ]
    assert [(r["objectifLabel"], r["mesures"]) for r in rows] == expected


# ---------------------------------------------------------------------------------------------------------
# 2. Measures of an axis, a thematic, an objective


@pytest.mark.parametrize(
    ("kind", "k"),
    [("axe", 1), ("axe", 2), ("axe", 3), ("thematique", 3), ("objectif", 14), ("objectif", 1)],
)
def test_measures_of_a_part_in_printed_order_with_their_text(store: EmbeddedStore, kind: str, k: int) -> None:
    rows = answer(store, "measures-of-part", partie=f"{DOC}/{kind}/{k}")
    expected = measures_under(kind, k)
    assert [r["numero"] for r in rows] == expected
    texts = {m.number: m.text for m in elements("mesure")}
    assert [r["texte"] for r in rows] == [texts[n] for n in expected]


def test_measures_of_axis_1_by_default(store: EmbeddedStore) -> None:
    assert [r["numero"] for r in answer(store, "measures-of-part")] == list(range(1, 22))


# ---------------------------------------------------------------------------------------------------------
# 3. Measures naming an organisation


@pytest.mark.parametrize(
    ("organisation", "printed_name"),
    [("pole-emploi", "Pôle Emploi"), ("agss-de-l-udaf", "AGSS"), ("departement-du-nord", "Département")],
)
def test_measures_naming_an_organisation(store: EmbeddedStore, organisation: str, printed_name: str) -> None:
    rows = answer(store, "measures-naming-organisation", organisation=ORG + organisation)
    named_in_text = [m.number for m in elements("mesure") if printed_name in m.text]
    assert [r["numero"] for r in rows] == named_in_text


def test_pole_emploi_is_named_by_measures_27_and_28_by_default(store: EmbeddedStore) -> None:
    assert [r["numero"] for r in answer(store, "measures-naming-organisation")] == [27, 28]


# ---------------------------------------------------------------------------------------------------------
# 4. Organisations ranked


def test_organisations_ranked_by_measures_then_contributions(store: EmbeddedStore) -> None:
    rows = answer(store, "organisations-ranked")
    keys = [(r["mesures"], r["contributions"]) for r in rows]
    assert keys == sorted(keys, reverse=True)
    by_iri = {r["organisation"]: r for r in rows}
    pole = by_iri[ORG + "pole-emploi"]
    assert (pole["mesures"], set(str(pole["numeros"]).split(", ")), pole["contributions"]) == (
        2,
        {"27", "28"},
        0,
    )
    # Three contributions are printed: CAF du Nord, ARS Hauts-de-France, Département du Nord.
    contributors = {r["organisation"] for r in rows if r["contributions"]}
    assert len(contributors) == 3
    assert ORG + "departement-du-nord" in contributors
    assert "27" in str(by_iri[ORG + "departement-du-nord"]["numeros"]).split(", ")


# ---------------------------------------------------------------------------------------------------------
# 5. Reference texts

DATE = re.compile(r"(\d{1,2})(?: et \d{1,2})? (" + "|".join(MONTHS) + r") (\d{4})")


def printed_reference_dates() -> list[str]:
    """The first date of each entry of the TEXTES DE RÉFÉRENCE list (lines 7-20), as ISO dates."""
    entries = " ".join(source_lines()[6:20]).split("- ")[1:]
    dates = []
    for entry in entries:
        day, month, year = DATE.search(entry).groups()  # type: ignore[union-attr]
        dates.append(f"{year}-{MONTHS.index(month) + 1:02d}-{int(day):02d}")
    return dates


def texts(rows: list[dict]) -> list[dict]:
    """The first row of each text (the query gives one row per text and adopting body)."""
    return list({row["texte"]: row for row in reversed(rows)}.values())[::-1]


def test_reference_texts_in_chronological_order(store: EmbeddedStore) -> None:
    rows = answer(store, "reference-texts")
    printed = printed_reference_dates()
    assert len(printed) == 5
    assert [r["date"] for r in texts(rows)] == sorted(printed)
    assert all(r["type"] and r["organe"] and r["titre"] for r in rows)
    assert sorted(r["position"] for r in texts(rows)) == [1, 2, 3, 4, 5]
    several_days = [r for r in texts(rows) if r["dateFin"]]  # "des 13 et 14 décembre 2016"
    assert [(r["date"], r["dateFin"]) for r in several_days] == [("2016-12-13", "2016-12-14")]


def test_reference_texts_list_each_adopting_body_once_in_alphabetical_order(store: EmbeddedStore) -> None:
    rows = answer(store, "reference-texts")
    bodies = [(r["texte"], str(r["organe"])) for r in rows]
    assert bodies == sorted(bodies, key=lambda b: ([t["texte"] for t in texts(rows)].index(b[0]), b[1]))
    assert len(set(bodies)) == len(bodies) > len(texts(rows))  # a text adopted by several bodies


def test_reference_texts_since_a_date(store: EmbeddedStore) -> None:
    rows = answer(store, "reference-texts", depuis="2016-01-01")
    assert [r["date"] for r in texts(rows)] == sorted(
        d for d in printed_reference_dates() if d >= "2016-01-01"
    )


# ---------------------------------------------------------------------------------------------------------
# 6. Signatories

NAME = re.compile(r"^[A-ZÉ][a-zéèëçï]+(?:-[A-ZÉ][a-zéèë]+)? [A-ZÉÈËÖ][A-ZÉÈËÖ-]+$")


def printed_signatories() -> list[tuple[str, str]]:
    """(civility, name) in the order of the signature block, which starts at "Monsieur le Préfet"."""
    lines = [line.strip() for line in source_lines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("Monsieur le Préfet"))
    civilities = [line.split()[0] for line in lines[start:] if line.startswith(("Monsieur ", "Madame "))]
    names = [line for line in lines[start:] if NAME.match(line)]
    return list(zip(civilities, names, strict=True))


def test_signatories_in_signature_order(store: EmbeddedStore) -> None:
    rows = answer(store, "signatories")
    printed = printed_signatories()
    assert len(printed) == 16
    assert [(r["civilite"], r["nom"]) for r in rows] == printed
    assert [r["ordre"] for r in rows] == list(range(1, 17))
    assert all(r["posteLabel"] and r["organisationLabel"] for r in rows)
    assert "Délégué pour l’Égalité des Chances" in str(rows[0]["posteLabel"])


# ---------------------------------------------------------------------------------------------------------
# 7. Contributions with priorities and programmes


def bullets_after(marker: str, count: int) -> list[str]:
    """The `count` bullet lines printed after the sentence (ending with ":") that contains `marker`."""
    lines = [line.strip() for line in source_lines()]
    start = next(i for i, line in enumerate(lines) if marker in line)
    colon = next(i for i in range(start, len(lines)) if lines[i].endswith(":"))
    bullets = [line for line in lines[colon + 1 :] if line][:count]
    return [re.sub(r"^\W+", "", b).rstrip(" .") for b in bullets]


def test_contributions_with_their_priorities_and_programmes(store: EmbeddedStore) -> None:
    rows = answer(store, "contributions")
    assert len({r["contribution"] for r in rows}) == 3
    priorities: dict[str, list[str]] = {}
    programmes: dict[str, set[str]] = {}
    for row in rows:
        org = str(row["organisation"]).removeprefix(ORG)
        if row["genre"] == "priorité":
            priorities.setdefault(org, []).append(str(row["label"]).rstrip(" ."))
        else:
            programmes.setdefault(org, set()).add(str(row["label"]).lower())
    # "Les priorités de la CAF du Nord s'articulent autour de quatre missions :" (lines 247-255)
    assert priorities["caf-du-nord"] == bullets_after("autour de quatre missions", 4)
    # "quatre grandes priorités du Département relatives aux quartiers en Politique de la Ville :"
    assert priorities["departement-du-nord"] == bullets_after("quatre grandes priorités", 4)
    # ARS section 2: "Les contrats locaux de santé (CLS)", "Les conseils locaux en santé mentale (CLSM)"
    ars = " | ".join(programmes[next(o for o in programmes if "ars" in o or "sante" in o)])
    assert "contrat" in ars and "santé" in ars and "mentale" in ars


# ---------------------------------------------------------------------------------------------------------
# 8. Continuing versus new measures


def test_continuing_versus_new_measures_per_axis(store: EmbeddedStore) -> None:
    def kind(text: str) -> str:
        if text.startswith("Poursuivre"):
            return "poursuite"
        return "nouveau" if re.match(r"(Mettre en place|Développer|Organiser)", text) else "autre"

    expected = [(axis, Counter(kind(m.text) for m in ms)) for axis, ms in sorted(measures_by_axis().items())]
    rows = answer(store, "measures-continue-vs-new")
    got = [
        (int(str(r["axeNumero"])), Counter({k: int(r[k]) for k in ("poursuite", "nouveau", "autre")}))
        for r in rows
    ]  # type: ignore[arg-type]
    assert [(a, +c) for a, c in got] == [(a, +c) for a, c in expected]
    assert got[0][1] == Counter(poursuite=4, nouveau=9, autre=8)


# ---------------------------------------------------------------------------------------------------------
# 9. Full-text search: answered from the build's search index (words, not substrings; best match first).
# Changed with the index (issue #9): "parents-enfants" no longer finds a substring but the two words in a row,
# a lone "œ" finds no word, and rows come ranked, so they are compared as sets of printed numbers.


def folded(text: str) -> str:
    """Lower case without accents, ligatures spelled out: what "case- and accent-insensitive" means."""
    text = unicodedata.normalize("NFD", text.lower().replace("œ", "oe").replace("æ", "ae"))
    return "".join(c for c in text if unicodedata.category(c) != "Mn")


def words(text: str) -> list[str]:
    """The words of a text as the index cuts them: runs of letters and digits, apostrophes split."""
    return re.findall(r"[^\W_]+", folded(text))


def holds(text: str, needle: str) -> bool:
    """Whether every word of `needle` is a word of `text`, a hyphenated or elided word's parts in a row, word
    and needle compared by their French stems as the search index does ("ecole" holds in "écoles")."""
    tokens = [stem(w) for w in words(text)]
    for part in needle.split():
        seq = [stem(w) for w in words(part)]
        if not any(tokens[i : i + len(seq)] == seq for i in range(len(tokens))):
            return False
    return True


@pytest.mark.parametrize(
    "needle",
    [
        "santé",
        "SANTE",
        "ECOLE",
        "l'école",
        "l’ÉCOLE",
        "pôle emploi",
        "Conseil de sécurité",
        "parents-enfants",
        "zzz",
        "œ",
    ],
)
def test_search_is_case_and_accent_insensitive(store: EmbeddedStore, needle: str) -> None:
    rows = answer(store, "search-measures", texte=needle)
    expected = [m.number for m in elements("mesure") if holds(m.text, needle)]
    assert sorted(r["numero"] for r in rows) == expected
    assert all(r["texte"] == needle for r in rows)


def test_search_default_finds_the_health_measures(store: EmbeddedStore) -> None:
    assert sorted(r["numero"] for r in answer(store, "search-measures")) == [
        m.number for m in elements("mesure") if holds(m.text, "santé")
    ]


# ---------------------------------------------------------------------------------------------------------
# 10. Territory chain


def test_territory_chain_from_qpv_to_region(store: EmbeddedStore) -> None:
    rows = answer(store, "territory-chain")
    assert len(rows) == 1
    row = rows[0]
    # Line 2: "QP Cœur d'étoile - QP059043"; INSEE 59481, SIREN 200043321, Nord 59, Hauts-de-France 32 (DESIGN.md).
    assert (
        row["quartierCode"],
        row["communeCode"],
        row["epciCode"],
        row["departementCode"],
        row["regionCode"],
    ) == (
        "QP059043",
        "59481",
        "200043321",
        "59",
        "32",
    )
    assert "étoile" in str(row["quartierLabel"]) and "Quesnoy" in str(row["communeLabel"])
    assert "Mormal" in str(row["epciLabel"]) and row["departementLabel"] == "Nord"


# ---------------------------------------------------------------------------------------------------------
# 11. Source passage of a measure


@pytest.mark.parametrize("measure", elements("mesure"), ids=lambda m: f"mesure-{m.number}")
def test_measure_source_passage_and_lines(store: EmbeddedStore, measure: Printed) -> None:
    rows = answer(store, "measure-source", numero=str(measure.number))
    assert len(rows) == 1
    row = rows[0]
    assert (row["ligneDebut"], row["ligneFin"]) == (measure.start, measure.end)
    assert row["texte"] == measure.text
    assert row["passage"] == f"{DOC}/source#L{measure.start}-L{measure.end}"


def test_measure_12_by_default(store: EmbeddedStore) -> None:
    assert [(r["numero"], r["ligneDebut"]) for r in answer(store, "measure-source")] == [(12, 118)]


# ---------------------------------------------------------------------------------------------------------
# Counts per axis and per pillar


def test_measures_per_axis(store: EmbeddedStore) -> None:
    rows = answer(store, "measures-per-axis")
    assert [(int(str(r["axeNumero"])), r["mesures"]) for r in rows] == [
        (axis, len(ms)) for axis, ms in sorted(measures_by_axis().items())
    ]


def test_measures_per_pillar_by_territory(store: EmbeddedStore) -> None:
    rows = answer(store, "measures-per-pillar-by-territory")
    assert {r["avenant"] for r in rows} == {DOC}
    assert sorted(int(r["mesures"]) for r in rows) == sorted(len(ms) for ms in measures_by_axis().values())  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------
# 12. Quality checks: none fires on the data; each fires on the fault it describes

QUALITY = [q for q in LIBRARY if "quality" in q.tags]
M = f"{DOC}/mesure/"


@pytest.mark.parametrize("query", QUALITY, ids=lambda q: q.name)
def test_quality_check_returns_no_row_on_the_data(store: EmbeddedStore, query: NamedQuery) -> None:
    assert records(run(store, query)) == []


def nn(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def typed(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=nn("http://www.w3.org/2001/XMLSchema#integer"))


BROKEN = {
    "quality-measure-without-objective": ([], [(M + "5", CDV + "parent")]),
    "quality-duplicate-measure-numbers": (
        [(M + "99", CDV + "numero", typed(5)), (M + "99", CDV + "avenant", nn(DOC))],
        [],
    ),
    "quality-measure-numbering-gap": ([], [(M + "7", CDV + "numero")]),
    "quality-signature-incomplete": ([], [(f"{DOC}/signature/3", CDV + "poste")]),
    "quality-element-without-source": ([], [(M + "12", CDV + "passage")]),
    "quality-objective-without-measure": ([(f"{DOC}/objectif/99", "a", nn(CDV + "Objectif"))], []),
}


def test_every_quality_check_has_a_broken_case() -> None:
    assert set(BROKEN) == {q.name for q in QUALITY}


@pytest.mark.parametrize("query", QUALITY, ids=lambda q: q.name)
def test_quality_check_finds_its_fault(store: EmbeddedStore, query: NamedQuery) -> None:
    added, removed = BROKEN[query.name]
    copy = ox.Store()
    copy.extend(store.raw.quads_for_pattern(None, None, None, None))
    graph = nn("https://w3id.org/cdv/graph/le-quesnoy/avenant-2020-2022")
    rdf_type = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    for subject, predicate, obj in added:
        copy.add(ox.Quad(nn(subject), nn(rdf_type if predicate == "a" else predicate), obj, graph))
    if M + "99" in {s for s, _p, _o in added}:
        copy.add(ox.Quad(nn(M + "99"), nn(rdf_type), nn(CDV + "Mesure"), graph))
    for subject, predicate in removed:
        for quad in list(copy.quads_for_pattern(nn(subject), nn(predicate), None, None)):
            copy.remove(quad)
    rows = records(run(EmbeddedStore(copy, "broken"), query))
    assert rows, f"{query.name} did not notice the fault"


# A text that numbers its measures again in each objective ("1)", "2)" under every objective) gives them no
# cdv:numero (issue #16): the queries that list measures still list every one, in reading order.
RESTARTING = PROJECT_ROOT / "tests" / "fixtures" / "protocols" / "castelvaure.expected.ttl"
CASTELVAURE = "https://w3id.org/cdv/id/castelvaure/avenant-2019-2022/"


MEASURES_UNDER = (
    "SELECT ?m WHERE { ?m a <https://w3id.org/cdv/ontology#Mesure> ; <https://w3id.org/cdv/ontology#parent>+ ?p ;"
    " <https://w3id.org/cdv/ontology#ordre> ?o } ORDER BY ?o"
)


def test_measures_without_an_integer_number_are_listed() -> None:
    from server.core.config import load_settings
    from server.core.sparql_rewrite import bind
    from server.engine import open_engine

    engine = open_engine(load_settings(), files=[PROJECT_ROOT / "ontology", RESTARTING])
    axis = ox.NamedNode(CASTELVAURE + "axe/1")
    under = [r["m"].value for r in engine.query(bind(MEASURES_UNDER, {"p": axis}))]
    rows = answer(engine, "measures-of-part", partie=axis.value)  # type: ignore[arg-type]
    assert len(under) >= 2 and [r["mesure"] for r in rows] == under
    assert all(r.get("numero") is None for r in rows)
    found = answer(engine, "search-measures", texte="élèves")  # type: ignore[arg-type]
    assert found and all(r.get("numero") is None for r in found)


def test_every_column_of_every_query_has_a_french_header() -> None:
    """The query pages title their columns from `# columns@fr:`, never with a variable name."""
    for query in load_library(PROJECT_ROOT / "queries"):
        assert set(query.columns) <= set(query.headers), (query.name, set(query.columns) - set(query.headers))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("# columns@fr: a=Avenant; axeNumero=N° d’axe", {"a": "Avenant", "axeNumero": "N° d’axe"}),
        ("# columns@fr: a=Avenant;\n#   axeNumero=N° d’axe", {"a": "Avenant", "axeNumero": "N° d’axe"}),
        ("", {}),
    ],
    ids=["one-line", "continued", "none"],
)
def test_column_headers_are_read_from_the_header(header: str, expected: dict[str, str]) -> None:
    text = f"# title@fr: t\n# title@en: t\n{header}\nSELECT ?a ?axeNumero WHERE {{ BIND(1 AS ?a) BIND(2 AS ?axeNumero) }}\n"
    query = parse_query("q", text)
    assert query.headers == expected
    assert query.header("axeNumero") == expected.get("axeNumero", "Axe numero")


@pytest.mark.parametrize(
    "header", ["# columns@fr: nope=Absent", "# columns@fr: a"], ids=["unknown-column", "no-equals"]
)
def test_bad_column_headers_are_library_errors(header: str) -> None:
    text = f"# title@fr: t\n# title@en: t\n{header}\nSELECT ?a WHERE {{ BIND(1 AS ?a) }}\n"
    with pytest.raises(LibraryError):
        parse_query("q", text)
