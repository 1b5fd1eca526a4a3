"""Full-text search (issue #9): the index built with the store, /search in HTML and JSON, the search box, the
search named query answered from the same index.

Expected hits come from an oracle written here, independently of the index: every text literal of the
store, folded (lower case, no accents, ligatures spelled out) and cut into words; a word matches a word with
the same French stem (Snowball, then a final s or x dropped: issue #17, "ecole" finds "écoles"), a phrase a
run of such words, `secur*` any word that starts so as written.
"""

from __future__ import annotations

import json
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pyoxigraph as ox
import pytest
import snowballstemmer
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from server.cli.main import main
from server.core.config import Settings, load_settings
from server.core.search_syntax import Marked, SearchSyntaxError, marked_html, parse_search, split_marks
from server.engine.release import Release, current_release
from server.engine.search_index import FILENAME, SearchIndex, build_index_from_store
from server.engine.store import EmbeddedStore
from server.web.app import create_app
from server.web.errors import http_status

from .source_text import source_lines

CDV = "https://w3id.org/cdv/ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
MESURE = CDV + "Mesure"
JSON_ACCEPT = {"Accept": "application/json"}
HTML_ACCEPT = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


# --- the oracle -------------------------------------------------------------------------------------------


def folded(text: str) -> str:
    text = unicodedata.normalize("NFD", text.lower().replace("œ", "oe").replace("æ", "ae"))
    return "".join(c for c in text if unicodedata.category(c) != "Mn")


def words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", folded(text))


FRENCH = snowballstemmer.stemmer("french")


def stem(word: str) -> str:
    """The stem a folded word is matched by: Snowball's French stem without a final plural s or x."""
    s = FRENCH.stemWord(word) or word
    return s[:-1] if len(s) > 2 and s[-1] in "sx" else s


def holds(text: str, q: str) -> bool:
    """Whether `text` matches every term of the search `q` (words, "phrases" by their stems, prefix*)."""
    tokens = words(text)
    stems = [stem(w) for w in tokens]
    for phrase, star, word in re.findall(r'"([^"]*)"(\*?)|(\S+)', q):
        part, prefix = (phrase, star == "*") if not word else (word.rstrip("*"), word.endswith("*"))
        seq = words(part) if prefix else [stem(w) for w in words(part)]
        within = tokens if prefix else stems
        if not any(_matches(within[i : i + len(seq)], seq, prefix) for i in range(len(within))):
            return False
    return True


def _matches(window: list[str], seq: list[str], prefix: bool) -> bool:
    if len(window) != len(seq):
        return False
    if prefix:
        return window[:-1] == seq[:-1] and window[-1].startswith(seq[-1])
    return window == seq


@pytest.fixture(scope="module")
def texts(release: Release) -> dict[str, str]:
    """Every resource's texts (its type labels included), one string each, read from the store."""
    store = EmbeddedStore(ox.Store.read_only(str(release.store_path)), release.build_id)
    rows = store.query(
        """PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
           PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
           SELECT ?s ?o WHERE {
             { GRAPH ?g { ?s ?p ?o } FILTER(isLiteral(?o) && (LANG(?o) != "" || DATATYPE(?o) = xsd:string)) }
             UNION { GRAPH ?g { ?s a ?t } GRAPH ?h { ?t rdfs:label ?o FILTER(LANG(?o) = "fr") } }
             FILTER(isIRI(?s) && ?g != <https://w3id.org/cdv/graph/metadata>)
           }"""
    )
    out: dict[str, list[str]] = {}
    for row in rows:  # type: ignore[union-attr]
        out.setdefault(row["s"].value, []).append(row["o"].value)
    return {iri: "\n".join(dict.fromkeys(values)) for iri, values in out.items()}


def expected(texts: dict[str, str], q: str) -> set[str]:
    return {iri for iri, text in texts.items() if holds(text, q)}


def search(client: FlaskClient, q: str, **params: str) -> dict:
    response = client.get("/search", query_string={"q": q, "format": "json", **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def all_hits(client: FlaskClient, q: str, **params: str) -> list[str]:
    """The IRIs of every hit, page after page."""
    iris, page = [], 1
    while True:
        body = search(client, q, page=str(page), **params)
        iris += [hit["iri"] for hit in body["results"]]
        if body["links"]["next"] is None:
            return iris
        page += 1


# --- the parser, pure ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "match"),
    [
        ("santé", 'S : "sant"'),  # words and phrases: their French stems, in the stem columns
        ("  Santé   ÉCOLE ", 'S : "sant" AND S : "ecol"'),
        ("écoles", 'S : "ecol"'),
        ("emplois", 'S : "emploi"'),
        ("secur*", 'W : "secur"*'),  # prefixes: the words as written
        ('"accès aux droits"', 'S : "acce au droit"'),
        ('"accès aux dr"*', 'W : "accès aux dr"*'),
        ("l'école", 'S : "l\'ecol"'),
        ("cœur", 'S : "coeur"'),
        ("NEAR(a b)", 'S : "near(a" AND S : "b)"'),  # FTS5 syntax is only ever text inside a string
        ("col:santé", 'S : "col:sant"'),
        ("or", 'S : "or"'),  # the French word; only the upper-case operator is refused
    ],
)
def test_search_text_becomes_quoted_fts_strings(q: str, match: str) -> None:
    columns = {"S :": "{slabel skinds sbody} :", "W :": "{label kinds body} :"}
    assert parse_search(q).match == re.sub(r"\b[SW] :", lambda m: columns[m.group()], match)


@pytest.mark.parametrize(
    ("q", "message"),
    [
        (None, "vide"),
        ("", "vide"),
        ("   ", "vide"),
        ('"accès aux', "guillemet non refermé"),
        ('santé "', "guillemet non refermé"),
        ('""', "expression vide"),
        ('" "', "expression vide"),
        ("a*", "le préfixe 'a*' est trop court"),
        ("*", "ni lettre ni chiffre"),
        ("sec*ur", "'*' au milieu"),
        ("secur**", "'*' au milieu"),
        ('"acc*s"', "'*' dans l’expression"),
        ("santé OR école", "'OR' n’est pas un opérateur"),
        ("NOT santé", "'NOT' n’est pas un opérateur"),
        ("- + ()", "ni lettre ni chiffre"),
        ("’", "ni lettre ni chiffre"),
        ("x" * 201, "201 caractères ; au plus 200"),
        (" ".join(["mot"] * 17), "17 termes ; au plus 16"),
        ("santé\x00", "caractère de contrôle"),
    ],
)
def test_bad_search_texts_are_refused_with_a_precise_message(q: str | None, message: str) -> None:
    with pytest.raises(SearchSyntaxError) as err:
        parse_search(q)
    assert http_status(err.value) == 400
    assert err.value.message.startswith("texte recherché 'q' : ")
    assert message in err.value.message


@pytest.mark.parametrize(
    ("marked", "text", "marks", "html"),
    [
        ("a \x02b\x03 c", "a b c", ((2, 3),), "a <mark>b</mark> c"),
        (
            "\x02<b>\x03 & \x02é\x03",
            "<b> & é",
            ((0, 3), (6, 7)),
            "<mark>&lt;b&gt;</mark> &amp; <mark>é</mark>",
        ),
        ("<mark>x</mark>", "<mark>x</mark>", (), "&lt;mark&gt;x&lt;/mark&gt;"),
        ("", "", (), ""),
    ],
)
def test_snippet_markers_become_ranges_and_escaped_html(
    marked: str, text: str, marks: tuple, html: str
) -> None:
    assert split_marks(marked) == Marked(text, marks)
    assert str(marked_html(split_marks(marked))) == html


# --- the index in the release --------------------------------------------------------------------------


def test_the_index_is_in_the_release_and_names_its_build(release: Release) -> None:
    index = SearchIndex(release.path / FILENAME)
    assert index.build_id == release.build_id
    assert index.types()[MESURE].count == 32
    assert index.types()[MESURE].label == "Mesure"


def test_cdv_build_writes_the_index(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["--build-dir", str(tmp_path), "build"])
    assert result.exit_code == 0, result.output
    release = current_release(tmp_path)
    index = SearchIndex(release.path / FILENAME)
    assert index.build_id == release.build_id
    assert index.search(parse_search("quesnoy")).total > 0


def test_a_remote_engine_gets_the_same_index(
    engine: str, settings: Settings, release: Release, tmp_path: Path
) -> None:
    """build_index_from_backend over SPARQL (Oxigraph server on a copy of the store) = the build's own index."""
    from dataclasses import replace

    from server.engine.remote import open_remote
    from server.engine.search_index import build_index_from_backend

    remote = open_remote(replace(settings, endpoint=engine))
    count = build_index_from_backend(remote, tmp_path / FILENAME, [settings.graph_base + "metadata"])
    rows = "SELECT iri, label, kinds, body, types FROM docs ORDER BY iri"
    ours = SearchIndex(release.path / FILENAME)._db().execute(rows).fetchall()
    theirs = SearchIndex(tmp_path / FILENAME)._db().execute(rows).fetchall()
    assert count == len(ours) > 300
    assert theirs == ours
    assert SearchIndex(tmp_path / FILENAME).build_id == release.build_id


# --- what is found ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "same_as"),
    [
        ("securite", "Sécurité"),
        ("SÉCURITÉ", "sécurité"),
        ("coeur", "Cœur"),
        ("CŒUR", "coeur"),
        ("État", "etat"),  # the texts write both "l’État" and "l’Etat"
        ("ecole", "ÉCOLE"),
        ("l'emploi", "l’EMPLOI"),  # both apostrophes split words
        ("qp059043", "QP059043"),
    ],
)
def test_case_and_accents_never_matter(
    client: FlaskClient, texts: dict[str, str], q: str, same_as: str
) -> None:
    hits = set(all_hits(client, q))
    assert hits == expected(texts, q)
    assert hits == set(all_hits(client, same_as))
    assert hits


def test_an_accented_query_finds_unaccented_text_and_the_reverse(
    client: FlaskClient, texts: dict[str, str]
) -> None:
    accented = {iri for iri, text in texts.items() if "État" in text and "Etat" not in text}
    plain = {iri for iri, text in texts.items() if re.search(r"\bEtat\b", text) and "État" not in text}
    assert accented and plain
    assert plain <= set(all_hits(client, "État"))
    assert accented <= set(all_hits(client, "etat"))


@pytest.mark.parametrize("q", ["secur*", "sant*", "développ*", '"accès aux dr"*', "QP05*"])
def test_prefix(client: FlaskClient, texts: dict[str, str], q: str) -> None:
    hits = set(all_hits(client, q))
    assert hits == expected(texts, q)
    # A prefix finds at least what the bare word finds (which matches by its stem: "sant" finds "santé").
    assert hits >= set(all_hits(client, q.rstrip("*").strip('"'))) or q.startswith('"')


@pytest.mark.parametrize(
    ("phrase", "words_"),
    [
        ('"accès aux droits"', "accès droits"),
        ('"santé mentale"', "santé mentale"),
        ('"accès aux soins"', "soins accès aux"),
        ('"jeunes enfants"', "enfants jeunes"),
    ],
)
def test_a_phrase_is_words_in_a_row(
    client: FlaskClient, texts: dict[str, str], phrase: str, words_: str
) -> None:
    in_a_row, anywhere = set(all_hits(client, phrase)), set(all_hits(client, words_))
    assert in_a_row == expected(texts, phrase)
    assert anywhere == expected(texts, words_)
    assert in_a_row < anywhere  # some resources hold the words, not in a row


@pytest.mark.parametrize("q", ["santé", "emploi", "sécurité", "logement", "caf"])
def test_a_label_match_ranks_first(client: FlaskClient, texts: dict[str, str], q: str) -> None:
    results = search(client, q)["results"]
    assert results[0]["label_marks"], results[0]  # the best hit has the word in its label
    assert any(not r["label_marks"] for r in all_results(client, q))  # others have it in their text only
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)


def all_results(client: FlaskClient, q: str) -> list[dict]:
    return search(client, q)["results"] + search(client, q, page="2")["results"]


def test_type_filter_and_facets(client: FlaskClient, texts: dict[str, str]) -> None:
    body = search(client, "santé")
    facets = {f["curie"]: f["count"] for f in body["facets"]}
    assert sum(1 for f in body["facets"] if f["curie"] == "cdv:Mesure") == 1
    measures = search(client, "santé", type="cdv:Mesure")
    assert measures["total"] == facets["cdv:Mesure"] == len(measures["results"])
    assert all(r["types"][0]["curie"] == "cdv:Mesure" for r in measures["results"])
    assert search(client, "santé", type=MESURE)["results"] == measures["results"]  # the IRI works too


def test_json_hit_shape(client: FlaskClient) -> None:
    body = search(client, "permis de conduire")
    assert body["q"] == "permis de conduire" and body["page"] == 1 and body["page_size"] == 20
    hit = body["results"][0]
    assert set(hit) == {
        "iri", "url", "label", "label_marks", "types", "snippet", "snippet_marks", "score", "place"
    }  # fmt: skip
    assert hit["url"] == "http://localhost/" + hit["iri"].removeprefix("https://w3id.org/cdv/")
    for start, end in hit["snippet_marks"]:
        assert stem(folded(hit["snippet"][start:end])) in {stem(w) for w in ("permis", "de", "conduire")}


def test_paging(client: FlaskClient) -> None:
    first, second = search(client, "santé"), search(client, "santé", page="2")
    assert first["total"] == second["total"] > 20
    assert not {r["iri"] for r in first["results"]} & {r["iri"] for r in second["results"]}
    assert first["links"]["next"].endswith("page=2") and first["links"]["prev"] is None


# --- HTTP: errors, negotiation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("q=", "texte recherché 'q' : vide"),
        ("q=+++&type=cdv:Mesure", "texte recherché 'q' : vide"),
        ("q=%22acc%C3%A8s", "guillemet non refermé"),
        ("q=OR", "'OR' n’est pas un opérateur"),
        ("q=" + "x" * 201, "201 caractères"),
        ("q=sant%C3%A9&page=0", "la page est un nombre entier de 1 à 50"),
        ("q=sant%C3%A9&page=x", "la page est un nombre entier"),
        ("q=sant%C3%A9&page=51", "la page est un nombre entier"),
        ("q=sant%C3%A9&type=cdv:Nope", "type inconnu 'cdv:Nope' ; les types indexés sont : cdv:Acteur"),
        ("q=a&q=b", "le paramètre 'q' est donné 2 fois"),
        ("q=%E2%80%99+-", "ni lettre ni chiffre"),
    ],
)
@pytest.mark.parametrize("accept", [JSON_ACCEPT, HTML_ACCEPT])
def test_bad_requests_are_400_with_the_reason(
    client: FlaskClient, query: str, message: str, accept: dict
) -> None:
    response = client.get("/search?" + query, headers=accept)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert message in body.replace("&#39;", "'")
    assert "Traceback" not in body


@pytest.mark.parametrize(
    ("headers", "query", "status", "media_type"),
    [
        (HTML_ACCEPT, "", 200, "text/html"),  # a browser (Chrome's Accept)
        ({"Accept": "text/html"}, "", 200, "text/html"),
        (JSON_ACCEPT, "", 200, "application/json"),
        ({"Accept": "*/*"}, "", 200, "application/json"),  # curl, requests: a program
        ({}, "", 200, "application/json"),
        (HTML_ACCEPT, "&format=json", 200, "application/json"),
        (JSON_ACCEPT, "&format=html", 200, "text/html"),
        ({"Accept": "image/png"}, "", 406, "text/plain"),
        ({"Accept": "text/turtle"}, "", 406, "text/plain"),
        ({}, "&format=xml", 406, "text/plain"),
    ],
)
def test_html_for_browsers_json_for_programs(
    client: FlaskClient, headers: dict, query: str, status: int, media_type: str
) -> None:
    response = client.get("/search?q=sant%C3%A9" + query, headers=headers)
    assert response.status_code == status
    assert response.mimetype == media_type
    if status == 200:
        assert "Accept" in response.headers["Vary"] or "format" in query


def test_without_q_a_browser_gets_the_form_and_a_program_a_400(client: FlaskClient) -> None:
    response = client.get("/search", headers=HTML_ACCEPT)
    assert response.status_code == 200
    assert 'id="search-q" name="q"' in response.get_data(as_text=True)
    response = client.get("/search", headers=JSON_ACCEPT)
    assert response.status_code == 400
    assert response.get_data(as_text=True).startswith("texte recherché 'q' : vide")


# --- escaping: a literal that holds markup ---------------------------------------------------------------

HOSTILE = '<script>alert("x")</script> sécurité <mark>faux</mark> & <b>gras</b>'


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """A small store whose only texts hold markup, and its index, served by the app."""
    folder = tmp_path_factory.mktemp("hostile")
    store = ox.Store(str(folder / "store"))
    iri, graph = ox.NamedNode("https://w3id.org/cdv/id/test/mesure/1"), ox.NamedNode("urn:test")
    for predicate, value in (
        (RDFS_LABEL, HOSTILE),
        (CDV + "texte", HOSTILE + " (texte)"),
        (RDF_TYPE, MESURE),
    ):
        term = ox.NamedNode(value) if predicate == RDF_TYPE else ox.Literal(value, language="fr")
        store.add(ox.Quad(iri, ox.NamedNode(predicate), term, graph))
    store.flush()
    del store
    build_index_from_store(folder / "store", folder / FILENAME, build_id="hostile")
    app = create_app(load_settings({"build_dir": folder, "store_path": folder / "store"}))
    app.testing = True
    return app


@pytest.mark.parametrize("q", ["securite", "script", "mark", "gras"])
def test_snippets_and_labels_are_escaped(hostile_app: Flask, q: str) -> None:
    client = hostile_app.test_client()
    page = client.get("/search", query_string={"q": q}, headers=HTML_ACCEPT).get_data(as_text=True)
    assert "&lt;script&gt;" in page.replace("<mark>", "").replace("</mark>", "")
    assert "alert(&#34;x&#34;)" in page and "&lt;b&gt;" in page
    assert "<script" not in page and "<b>" not in page and "<mark>faux" not in page
    assert page.count("<mark>") >= 2  # the word in the label and in the text, marked by the server
    body = client.get("/search", query_string={"q": q, "format": "json"}).get_json()
    hit = body["results"][0]
    assert hit["label"] == HOSTILE  # JSON: plain text and ranges, the client escapes
    assert hit["label_marks"] and hit["snippet_marks"]
    for text, marks in ((hit["label"], hit["label_marks"]), (hit["snippet"], hit["snippet_marks"])):
        assert {folded(text[start:end]) for start, end in marks} == {folded(q)}


# --- the search box on every page, and the page without JavaScript ------------------------------------


class Forms(HTMLParser):
    """The forms of a page, their inputs, and every link and script."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self.links: list[str] = []
        self.scripts: list[dict] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append({**attributes, "inputs": []})
        elif tag in {"input", "select"} and self.forms:
            self.forms[-1]["inputs"].append(attributes)
        elif tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"] or "")
        elif tag == "script":
            self.scripts.append(attributes)


def parse(html: str) -> Forms:
    forms = Forms()
    forms.feed(html)
    return forms


def site_search(page: str) -> dict:
    forms = [
        f for f in parse(page).forms if f.get("role") == "search" and "site-search" in f.get("class", "")
    ]
    assert len(forms) == 1
    return forms[0]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/id/le-quesnoy/avenant-2020-2022/mesure/12",
        "/sparql",
        "/queries",
        "/queries/search-measures",
        "/ontology",
        "/catalog",
        "/sources/protocole-le-quesnoy-2020-2022.txt",
        "/search?q=sant%C3%A9",
    ],
)
def test_every_page_has_the_search_box(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers=HTML_ACCEPT)
    assert response.status_code == 200 and response.mimetype == "text/html"
    form = site_search(response.get_data(as_text=True))
    assert form["method"] == "get" and form["action"] == "/search"
    assert [i.get("name") for i in form["inputs"]] == ["q"]


def test_the_search_works_without_javascript(client: FlaskClient) -> None:
    """Do what a browser without scripts does: submit the header form, read the page, follow its links."""
    form = site_search(client.get("/", headers=HTML_ACCEPT).get_data(as_text=True))
    response = client.get(form["action"] + "?" + urlencode({"q": "permis de conduire"}), headers=HTML_ACCEPT)
    assert response.status_code == 200
    page = parse(response.get_data(as_text=True))
    assert not [s for s in page.scripts if s.get("type") != "application/ld+json"]  # nothing to run
    results = [link for link in page.links if link.startswith("/id/")]
    assert "/id/le-quesnoy/avenant-2020-2022/mesure/32" in results
    for link in results[:5]:
        assert client.get(urlsplit(link).path, headers=HTML_ACCEPT).status_code == 200
    refine = next(f for f in page.forms if f.get("class") == "search-page")
    assert {i.get("name") for i in refine["inputs"]} == {"q", "type"}
    filtered = client.get("/search?q=sant%C3%A9&type=cdv%3AMesure", headers=HTML_ACCEPT)
    assert filtered.status_code == 200
    total = search(client, "santé", type="cdv:Mesure")["total"]
    assert total > 1 and f"{total} résultats de type Mesure" in filtered.get_data(as_text=True)


# --- the named query answers from the same index -----------------------------------------------------


@pytest.mark.parametrize(
    "texte", ["santé", "ECOLE", "secur*", '"permis de conduire"', "jeunes emploi", "zzz"]
)
def test_named_query_returns_the_measures_of_the_index(
    client: FlaskClient, runner: CliRunner, settings: Settings, texte: str
) -> None:
    api = client.get("/api/queries/search-measures", query_string={"texte": texte})
    assert api.status_code == 200
    rows = api.get_json()
    index = all_hits(client, texte, type="cdv:Mesure")
    assert [r["mesure"] for r in rows] == index
    assert all(r["texte"] == texte for r in rows)
    assert set(rows[0]) == {"texte", "avenant", "mesure", "numero", "texteMesure"} if rows else True
    cli = runner.invoke(
        main,
        [
            "--build-dir",
            str(settings.build_dir),
            "query",
            "search-measures",
            "-p",
            f"texte={texte}",
            "--format",
            "json",
        ],
    )
    assert cli.exit_code == 0, cli.output
    assert [r["mesure"] for r in json.loads(cli.output)] == index
    page = client.get("/queries/search-measures", query_string={"texte": texte}).get_data(as_text=True)
    assert [link for link in parse(page).links if "/mesure/" in link and "/id/" in link][: len(index)] == [
        "/" + iri.removeprefix("https://w3id.org/cdv/") for iri in index
    ]


def test_named_query_refuses_a_malformed_search_text(client: FlaskClient) -> None:
    response = client.get("/api/queries/search-measures", query_string={"texte": '"santé'})
    assert response.status_code == 400
    assert response.get_data(as_text=True).startswith("texte recherché 'texte' : guillemet non refermé")


def test_openapi_says_the_named_query_uses_the_index(client: FlaskClient) -> None:
    operation = client.get("/api/openapi.json").get_json()["paths"]["/api/queries/search-measures"]["get"]
    assert "full-text search index" in operation["description"]
    assert "search text `texte`" in operation["responses"]["400"]["description"]


ENGINE_QUERY = """# title@fr: t
# title@en: t
# param: texte string -- words
# engine: {engine}
PREFIX cdv: <https://w3id.org/cdv/ontology#>
SELECT ?texte ?mesure WHERE {{
  VALUES ?texte {{ "santé" }}
  ?mesure cdv:texte ?t .
{match}}}
"""
MATCH_LINES = "  # portable-match-begin\n  FILTER(CONTAINS(?t, ?texte))\n  # portable-match-end\n"


@pytest.mark.parametrize(
    ("engine", "match", "message"),
    [
        ("search texte mesure cdv:Mesure", "", "marks its text match"),
        ("search nope mesure cdv:Mesure", MATCH_LINES, "bad engine declaration"),
        ("search texte other cdv:Mesure", MATCH_LINES, "does not use"),
        ("search texte mesure nope:Mesure", MATCH_LINES, "unknown prefix"),
        ("lucene texte mesure cdv:Mesure", MATCH_LINES, "bad engine declaration"),
    ],
)
def test_bad_engine_lines_stop_the_library(engine: str, match: str, message: str) -> None:
    from server.core.library import LibraryError, parse_query

    with pytest.raises(LibraryError, match=message):
        parse_query("q", ENGINE_QUERY.format(engine=engine, match=match))
    assert parse_query(
        "q", ENGINE_QUERY.format(engine="search texte mesure cdv:Mesure", match=MATCH_LINES)
    ).engine


# --- search in French (issue #17) ------------------------------------------------------------------------

DOC = "https://w3id.org/cdv/id/le-quesnoy/avenant-2020-2022"


@pytest.mark.parametrize(
    ("q", "finds"),
    [
        ("ecole", f"{DOC}/mesure/16"),  # "écoles" (mesure 16): no accent, no plural in the query
        ("ecoles", f"{DOC}/mesure/14"),  # "l’école maternelle": a plural query finds the singular
        ("emploi", f"{DOC}/mesure/28"),  # "emplois francs"
        ("bailleur", "https://w3id.org/cdv/id/le-quesnoy/acteur/bailleurs-sociaux"),
        ("sociale", "https://w3id.org/cdv/id/le-quesnoy/acteur/bailleurs-sociaux"),  # "sociaux"
    ],
)
def test_accents_and_plurals_do_not_matter(
    client: FlaskClient, texts: dict[str, str], q: str, finds: str
) -> None:
    hits = set(all_hits(client, q))
    assert finds in hits
    assert hits == expected(texts, q)


def test_the_stems_of_a_text_keep_its_tokens_in_place() -> None:
    from server.core.search_syntax import stem_text

    text = "Les écoles primaires, l’emploi — Cœur d’étoile 2020-2022 ; QP059043"
    assert stem_text(text) == "le ecol primair, l’emploi — coeur d’etoil 2020-2022 ; qp059043"
    assert len(words(stem_text(text))) == len(words(text))


def test_filters_name_types_in_french(client: FlaskClient) -> None:
    facets = {f["curie"]: f["label"] for f in search(client, "organisation*")["facets"]}
    types = {f["curie"]: f["label"] for f in search(client, "le")["facets"]} | facets
    assert types["cpov:PublicOrganisation"] == "Organisation publique"
    assert types["eli:LegalResource"] == "Texte juridique"
    assert types["cdv:Mesure"] == "Mesure"
    page = client.get("/search", query_string={"q": "emploi"}, headers=HTML_ACCEPT).get_data(as_text=True)
    options = re.findall(r"<option value=\"([^\"]*)\"[^>]*>([^<]*)</option>", page)
    assert len(options) > 20
    assert all(":" not in label for _value, label in options), options  # no CURIE left: owl:Class is "Classe"
    assert ("owl:Class", "Classe (19)") in options


@pytest.mark.parametrize(
    ("q", "iri", "place"),
    [
        (
            "ecoles",
            f"{DOC}/mesure/16",
            "Axe 1 · Cohésion sociale \u203a Réussite éducative \u203a Objectif : Accompagner les parents dans leurs",
        ),
        (
            "addictions",
            f"{DOC}/contribution/ars-hauts-de-france/liste/1/2",
            "Contribution : Agence Régionale de Santé",
        ),
        (
            "parentale",
            f"{DOC}/contribution/caf-du-nord/liste/1/2",
            "Contribution : Caisse d’Allocations Familiales",
        ),
    ],
)
def test_a_hit_says_where_it_is(client: FlaskClient, q: str, iri: str, place: str) -> None:
    hit = next(h for h in search(client, q)["results"] if h["iri"] == iri)
    assert hit["place"].startswith(place), hit["place"]
    page = client.get("/search", query_string={"q": q}, headers=HTML_ACCEPT).get_data(as_text=True)
    assert "Dans : " + place in page.replace("&#39;", "'")


@pytest.mark.parametrize("q", ["sant*", "jeunes", "emploi", "logement", "partenaires"])
def test_a_snippet_is_a_marked_passage_never_a_bare_number(client: FlaskClient, q: str) -> None:
    for hit in all_results(client, q):
        assert hit["snippet"] == "" or hit["snippet_marks"], hit
        assert not re.fullmatch(r"[\d.]+", hit["snippet"]), hit


def test_result_counts_in_french_singular_and_plural(client: FlaskClient) -> None:
    def summary(q: str) -> str:
        page = client.get("/search", query_string={"q": q}, headers=HTML_ACCEPT).get_data(as_text=True)
        return " ".join(re.search(r'<p class="summary" role="status">(.*?)</p>', page, re.S)[1].split())

    assert summary("zzyzzx").startswith("0 résultat pour")
    assert summary("qp059043").startswith(f"{search(client, 'qp059043')['total']} résultat")
    assert search(client, "gressier")["total"] == 1  # Cécile GRESSIER, the person
    assert summary("gressier").startswith("1 résultat pour")
    assert summary("santé").startswith(f"{search(client, 'santé')['total']} résultats pour")


def test_errors_on_the_page_are_in_french(client: FlaskClient) -> None:
    page = client.get("/search", query_string={"q": '"accès'}, headers=HTML_ACCEPT).get_data(as_text=True)
    assert "Recherche impossible" in page and "guillemet non refermé" in page
    assert "unbalanced" not in page and "empty" not in page


def test_words_stemmed_by_many_threads_get_the_stems_one_thread_gives() -> None:
    """A server worker stems on 8 threads at once: each word gets the stem it gets alone (a shared Snowball
    stemmer mixed the words of two threads: IndexError, a 500 in the soak test)."""
    from concurrent.futures import ThreadPoolExecutor

    from server.core.search_syntax import stem_word

    words = [w for line in source_lines() for w in re.findall(r"\w+", line)][:20_000]
    alone = [stem_word(w) for w in words]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(5):  # a race shows in most rounds, not all: five make a shared stemmer fail for sure
            assert list(pool.map(stem_word, words, chunksize=1)) == alone
