"""The named-query API, pages and CLI: listing, formats, errors, links, charts."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import time
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from server.cli.main import main
from server.core.config import PROJECT_ROOT, Settings, load_settings
from server.core.library import Chart, load_library
from server.web.app import create_app
from server.web.query_pages import bar_groups

from .servers import LiveServer

LIBRARY = load_library(PROJECT_ROOT / "queries")
NAMES = [q.name for q in LIBRARY]
DOC = "https://w3id.org/cdv/id/le-quesnoy/avenant-2020-2022"
POLE_EMPLOI = "https://w3id.org/cdv/id/organisation/pole-emploi"
ORG_QUERY = "/api/queries/measures-naming-organisation"


# ---------------------------------------------------------------------------------------------------------
# /api/queries


def test_list_has_every_query_with_metadata_and_links(client: FlaskClient) -> None:
    response = client.get("/api/queries")
    assert response.status_code == 200 and response.mimetype == "application/json"
    listed = response.get_json()
    assert [q["name"] for q in listed] == NAMES
    for entry in listed:
        assert set(entry["title"]) == {"fr", "en"} and entry["description"]["en"]
        assert entry["links"]["self"] == f"/api/queries/{entry['name']}"
        assert entry["links"]["page"] == f"/queries/{entry['name']}"
        assert "VALUES" in entry["sparql"] or not entry["parameters"]


def test_list_gives_types_defaults_and_allowed_values(client: FlaskClient) -> None:
    entry = next(
        q for q in client.get("/api/queries").get_json() if q["name"] == "measures-naming-organisation"
    )
    (param,) = entry["parameters"]
    assert (param["name"], param["type"], param["default"]) == ("organisation", "iri", POLE_EMPLOI)
    labels = {a["value"]: a["label"] for a in param["allowed"]}
    assert labels[POLE_EMPLOI] == "Pôle Emploi"
    source = next(q for q in client.get("/api/queries").get_json() if q["name"] == "measure-source")
    assert [a["value"] for a in source["parameters"][0]["allowed"]] == list(range(1, 33))


# ---------------------------------------------------------------------------------------------------------
# Past the bound: no list of values, a lookup


@pytest.fixture(scope="module")
def bounded(settings: Settings) -> FlaskClient:
    """An app that lists at most 3 values of a parameter (the data has 1 avenant and dozens of organisations)."""
    return create_app(replace(settings, choices_bound=3, cache_bytes=0)).test_client()


def test_past_the_bound_the_list_gives_a_lookup_instead_of_values(bounded: FlaskClient) -> None:
    listed = {q["name"]: q for q in bounded.get("/api/queries").get_json()}
    (organisation,) = listed["measures-naming-organisation"]["parameters"]
    assert "allowed" not in organisation
    assert organisation["lookup"] == f"{ORG_QUERY}/parameters/organisation"
    (avenant,) = listed["signatories"]["parameters"]
    assert [a["value"] for a in avenant["allowed"]] == [DOC]  # under the bound: as before


@pytest.mark.parametrize(
    ("query_string", "expected"),
    [
        ({"q": "pôle em"}, {POLE_EMPLOI, POLE_EMPLOI + "-hauts-de-france"}),  # the last word as a prefix
        ({"q": "POLE EMPLOI HAUTS"}, {POLE_EMPLOI + "-hauts-de-france"}),  # case and accents folded
        ({"q": POLE_EMPLOI}, {POLE_EMPLOI, POLE_EMPLOI + "-hauts-de-france"}),  # an IRI, by its start
        ({"q": "zzzz"}, set()),
    ],
)
def test_lookup_finds_values_by_name_or_iri(
    bounded: FlaskClient, query_string: dict[str, str], expected: set[str]
) -> None:
    response = bounded.get(f"{ORG_QUERY}/parameters/organisation", query_string=query_string)
    assert response.status_code == 200 and response.mimetype == "application/json"
    found = response.get_json()["values"]
    assert {v["value"] for v in found} == expected
    assert all(v["label"] for v in found)


def test_lookup_is_bounded_and_gives_the_first_values_without_text(bounded: FlaskClient) -> None:
    found = bounded.get(f"{ORG_QUERY}/parameters/organisation?limit=5").get_json()["values"]
    assert len(found) == 5
    numbers = bounded.get("/api/queries/measure-source/parameters/numero?q=2&limit=100").get_json()
    assert [v["value"] for v in numbers["values"]] == [2, 12, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 32]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (f"{ORG_QUERY}/parameters/organisation?limit=0", 400),
        (f"{ORG_QUERY}/parameters/organisation?limit=101", 400),
        (f"{ORG_QUERY}/parameters/organisation?limit=x", 400),
        (f"{ORG_QUERY}/parameters/organisation?q=%22open", 400),  # an unbalanced quote in a search text
        (f"{ORG_QUERY}/parameters/organisation?format=csv", 406),
        (f"{ORG_QUERY}/parameters/nope", 404),
        ("/api/queries/nope/parameters/organisation", 404),
        ("/api/queries/search-measures/parameters/texte", 400),  # a free text: nothing to look up
    ],
)
def test_lookup_errors(bounded: FlaskClient, path: str, status: int) -> None:
    response = bounded.get(path)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "text/plain" and response.get_data(as_text=True).strip()


def test_past_the_bound_values_are_still_checked_by_the_store(bounded: FlaskClient) -> None:
    assert bounded.get(ORG_QUERY, query_string={"organisation": POLE_EMPLOI}).status_code == 200
    refused = bounded.get(ORG_QUERY, query_string={"organisation": POLE_EMPLOI + "-nope"})
    assert refused.status_code == 400 and "not an allowed value" in refused.get_data(as_text=True)


def test_the_form_offers_a_type_ahead_and_a_lookup_page_past_the_bound(bounded: FlaskClient) -> None:
    page = bounded.get("/queries/measures-naming-organisation").get_data(as_text=True)
    lookup = f"{ORG_QUERY}/parameters/organisation"
    assert f'list="values-organisation" data-lookup="{lookup}"' in page
    assert f'href="{lookup}?format=html"' in page and "<select" not in page
    html = bounded.get(lookup, query_string={"q": "pôle", "format": "html"}, headers={"Accept": "text/html"})
    assert html.status_code == 200 and html.mimetype == "text/html"
    assert "/queries/measures-naming-organisation?organisation=https" in html.get_data(as_text=True)
    assert "<select" in bounded.get("/queries/signatories").get_data(as_text=True)  # under the bound


# ---------------------------------------------------------------------------------------------------------
# /api/queries/<name>: formats


@pytest.mark.parametrize(
    ("headers", "query", "mimetype"),
    [
        ({}, "", "application/json"),
        ({"Accept": "*/*"}, "", "application/json"),
        ({"Accept": "application/json"}, "", "application/json"),
        ({"Accept": "application/sparql-results+json"}, "", "application/sparql-results+json"),
        ({"Accept": "text/csv"}, "", "text/csv"),
        ({"Accept": "text/tab-separated-values"}, "", "text/tab-separated-values"),
        (
            {"Accept": "text/csv;q=0.5, application/sparql-results+json"},
            "",
            "application/sparql-results+json",
        ),
        ({}, "format=csv", "text/csv"),
        ({}, "format=tsv", "text/tab-separated-values"),
        ({}, "format=json", "application/json"),
        ({}, "format=sparql-json", "application/sparql-results+json"),
        ({"Accept": "text/csv"}, "format=json", "application/json"),
    ],
)
def test_formats_by_accept_or_format(
    client: FlaskClient, headers: dict[str, str], query: str, mimetype: str
) -> None:
    response = client.get(f"{ORG_QUERY}?{query}", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == mimetype
    body = response.get_data(as_text=True)
    assert "/mesure/27" in body and "/mesure/28" in body


def test_records_sparql_json_and_csv_agree(client: FlaskClient) -> None:
    records = client.get(ORG_QUERY).get_json()
    sparql = json.loads(client.get(f"{ORG_QUERY}?format=sparql-json").data)
    table = list(csv.DictReader(io.StringIO(client.get(f"{ORG_QUERY}?format=csv").get_data(as_text=True))))
    assert [r["numero"] for r in records] == [27, 28]
    assert [int(b["numero"]["value"]) for b in sparql["results"]["bindings"]] == [27, 28]
    assert [int(r["numero"]) for r in table] == [27, 28]
    assert sparql["head"]["vars"] == list(records[0])


def test_parameters_from_the_query_string(client: FlaskClient) -> None:
    rows = client.get("/api/queries/measures-of-part", query_string={"partie": f"{DOC}/axe/2"}).get_json()
    assert [r["numero"] for r in rows] == [22, 23, 24, 25]
    rows = client.get("/api/queries/measure-source?numero=5").get_json()
    assert [(r["numero"], r["ligneDebut"]) for r in rows] == [(5, 82)]


# ---------------------------------------------------------------------------------------------------------
# /api/queries/<name>: errors


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("/api/queries/no-such-query", 404, "no-such-query"),
        (f"{ORG_QUERY}?organisation=pole-emploi", 400, "'organisation' must be an absolute IRI"),
        (f"{ORG_QUERY}?organisation=https://example.org/not-here", 400, "'organisation'"),
        (f"{ORG_QUERY}?organisation=", 400, "'organisation'"),
        (
            f"{ORG_QUERY}?organisation={POLE_EMPLOI}&organisation={POLE_EMPLOI}",
            400,
            "'organisation' is given 2 times",
        ),
        (f"{ORG_QUERY}?organsation={POLE_EMPLOI}", 400, "unknown parameter 'organsation'"),
        ("/api/queries/measure-source?numero=douze", 400, "'numero' must be an integer"),
        ("/api/queries/measure-source?numero=33", 400, "'numero'"),
        ("/api/queries/measure-source?numero=1.5", 400, "'numero' must be an integer"),
        ("/api/queries/reference-texts?depuis=2019-02-30", 400, "'depuis' must be a date"),
        ("/api/queries/reference-texts?depuis=hier", 400, "'depuis' must be a date"),
        ("/api/queries/search-measures?texte=a&format=xml", 406, "unknown format"),
        ("/api/queries/search-measures?format=", 406, "unknown format ''"),
    ],
)
def test_bad_requests_get_a_plain_message_naming_the_problem(
    client: FlaskClient, url: str, status: int, message: str
) -> None:
    response = client.get(url)
    assert response.status_code == status
    assert response.mimetype == "text/plain"
    assert message in response.get_data(as_text=True)


def test_unacceptable_accept_header_is_406(client: FlaskClient) -> None:
    assert client.get(ORG_QUERY, headers={"Accept": "image/png"}).status_code == 406


def test_post_is_not_allowed(client: FlaskClient) -> None:
    response = client.post(ORG_QUERY)
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


# ---------------------------------------------------------------------------------------------------------
# Pages


def test_list_page_links_every_query_and_filters_by_tag(client: FlaskClient) -> None:
    page = client.get("/queries").get_data(as_text=True)
    for name in NAMES:
        assert f'href="/queries/{name}"' in page
    quality = client.get("/queries?tag=quality").get_data(as_text=True)
    assert 'href="/queries/quality-measure-numbering-gap"' in quality
    assert 'href="/queries/signatories"' not in quality


def test_query_page_has_description_sparql_form_table_links_and_downloads(client: FlaskClient) -> None:
    response = client.get("/queries/measures-naming-organisation")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Mesures citant une organisation" in page and "Measures naming an organisation" not in page
    assert "SELECT ?organisation" in page  # the SPARQL
    assert '<select id="param-organisation" name="organisation">' in page
    assert f'<option value="{POLE_EMPLOI}" selected>Pôle Emploi</option>' in page
    # an IRI shows as its label, linked to its page; headers come from the query's `# columns@fr:`
    assert (
        '<a href="/id/le-quesnoy/avenant-2020-2022/mesure/27" title="https://w3id.org/cdv/id/le-quesnoy/avenant-2020-2022/mesure/27">Mesure 27</a>'
        in page
    )
    assert '<th scope="col" title="?numero">N°</th>' in page
    assert "id/le-quesnoy/avenant-2020-2022/mesure/27<" not in page  # no raw path as a cell's text
    assert 'class="table-scroll" role="region"' in page
    assert 'href="/api/queries/measures-naming-organisation?format=csv"' in page
    assert 'href="/api/queries/measures-naming-organisation?format=json"' in page
    assert 'class="chart"' not in page  # no count per category here


def test_query_page_keeps_the_chosen_values(client: FlaskClient) -> None:
    page = client.get("/queries/search-measures?texte=ECOLE").get_data(as_text=True)
    assert 'value="ECOLE"' in page
    assert 'href="/api/queries/search-measures?texte=ECOLE&amp;format=csv"' in page
    assert 'href="/id/le-quesnoy/avenant-2020-2022/mesure/12"' in page


def test_count_per_category_is_drawn_as_a_bar_chart_on_the_server(client: FlaskClient) -> None:
    """HTML bars, not an SVG that shrinks with the screen: the labels are text of the page's own size."""
    page = client.get("/queries/measures-per-axis").get_data(as_text=True)
    chart = page.split('<figure class="chart"', 1)[1].split("</figure>", 1)[0]
    bars = re.findall(r'class="bar" style="width: ([\d.]+)%', chart)
    assert [float(b) for b in bars] == [85.0, round(85 * 4 / 21, 1), round(85 * 7 / 21, 1)]
    labels = re.findall(r'<span class="bar-label">([^<]+)</span>', chart)
    assert labels == ["Cohésion sociale", "Logement et cadre de vie", "Emploi et développement économique"]
    assert "<svg" not in page and "<script" not in page


@pytest.mark.parametrize(
    ("rows", "chart", "expected"),
    [
        (
            [{"a": "x", "n": "2"}, {"a": "y", "n": "4"}],
            Chart(("a",), ("n",)),
            [("x", [50.0]), ("y", [100.0])],
        ),
        ([{"a": "x", "n": "0"}, {"a": "y", "n": "3"}], Chart(("a",), ("n",)), [("y", [100.0])]),
        (
            [{"a": "x", "b": "p", "n": "1", "m": "4"}],
            Chart(("a", "b"), ("n", "m")),
            [("x · p", [25.0, 100.0])],
        ),
        ([{"a": "x", "n": "not a number"}], Chart(("a",), ("n",)), []),
    ],
    ids=["one-series", "zeros-left-out", "two-series-two-labels", "not-numeric"],
)
def test_bar_groups(
    rows: list[dict[str, str]], chart: Chart, expected: list[tuple[str, list[float]]]
) -> None:
    groups = bar_groups(rows, chart)
    assert [(g.label, [b.percent for b in g.bars]) for g in groups] == expected


def test_chart_with_several_series_has_a_legend(client: FlaskClient) -> None:
    page = client.get("/queries/measures-continue-vs-new").get_data(as_text=True)
    assert page.count('class="bar"') == 9  # 3 axes, 3 series each (poursuite, nouveau, autre)
    assert 'class="legend"' in page and "Poursuites" in page


def test_bad_parameter_on_a_page_is_400_with_the_form_and_the_message(client: FlaskClient) -> None:
    response = client.get("/queries/measure-source?numero=abc")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "must be an integer" in page and "<form" in page


def test_unknown_query_page_is_404(client: FlaskClient) -> None:
    assert client.get("/queries/nope").status_code == 404


def test_api_docs_page(client: FlaskClient) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'href="/api/openapi.json"' in page
    for name in NAMES:
        assert f"/api/queries/{name}" in page


def test_api_docs_without_node_modules_is_a_plain_page(build_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "queries").symlink_to(PROJECT_ROOT / "queries")
    shutil.copy(PROJECT_ROOT / "package.json", tmp_path / "package.json")
    app = create_app(load_settings({"project_root": tmp_path, "build_dir": build_dir}))
    page = app.test_client().get("/api/docs").get_data(as_text=True)
    assert "swagger-ui" not in page and "<script" not in page
    assert 'href="/api/queries/measures-naming-organisation"' in page


# ---------------------------------------------------------------------------------------------------------
# CLI: cdv query


def cdv(runner: CliRunner, build_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(main, ["--build-dir", str(build_dir), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_cli_lists_the_queries(runner: CliRunner, build_dir: Path) -> None:
    code, output = cdv(runner, build_dir, "query")
    assert code == 0
    assert [line.split()[0] for line in output.splitlines()] == NAMES


@pytest.mark.parametrize(
    ("args", "check"),
    [
        ((), lambda out: "27" in out and "28" in out and "(2 rows)" in out),
        (("--format", "csv"), lambda out: list(csv.DictReader(io.StringIO(out)))[1]["numero"] == "28"),
        (("--format", "tsv"), lambda out: out.startswith("?organisation\t")),
        (("--format", "json"), lambda out: [r["numero"] for r in json.loads(out)] == [27, 28]),
        (("--param", f"organisation={POLE_EMPLOI}"), lambda out: "(2 rows)" in out),
    ],
)
def test_cli_runs_a_query_in_each_format(
    runner: CliRunner, build_dir: Path, args: tuple[str, ...], check
) -> None:  # type: ignore[no-untyped-def]
    code, output = cdv(runner, build_dir, "query", "measures-naming-organisation", *args)
    assert code == 0, output
    assert check(output), output


def test_cli_parameters(runner: CliRunner, build_dir: Path) -> None:
    code, output = cdv(runner, build_dir, "query", "search-measures", "-p", "texte=permis de conduire")
    assert code == 0 and "(1 row)" in output and "32" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope",), "no named query 'nope'"),
        (("measure-source", "--param", "numero=abc"), "'numero' must be an integer"),
        (("measure-source", "--param", "nombre=3"), "unknown parameter 'nombre'"),
        (("measure-source", "--param", "numero"), "expected NAME=VALUE"),
    ],
)
def test_cli_errors_exit_2_with_a_message(
    runner: CliRunner, build_dir: Path, args: tuple[str, ...], message: str
) -> None:
    code, output = cdv(runner, build_dir, "query", *args)
    assert code == 2
    assert message in output


# ---------------------------------------------------------------------------------------------------------
# CLI: cdv validate runs the quality checks


def test_validate_runs_the_quality_checks(runner: CliRunner) -> None:
    result = runner.invoke(main, ["validate"])
    code, output = result.exit_code, result.output
    checks = sum("quality" in q.tags for q in LIBRARY)
    assert f"quality checks: {checks} of {checks} passed" in output
    assert code == 0, output


def test_validate_fails_on_a_quality_check_and_prints_its_rows(runner: CliRunner, tmp_path: Path) -> None:
    for folder in ("ontology", "shapes", "data", "queries"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder)
    structure = tmp_path / "data/le-quesnoy/avenant-2020-2022/structure.ttl"
    # Measure 7 printed as 8: a duplicate number and a gap, which SHACL alone does not see.
    text = structure.read_text("utf-8")
    text = text.replace('skos:notation "7" ;\n    cdv:numero 7 ;', 'skos:notation "8" ;\n    cdv:numero 8 ;')
    structure.write_text(text, "utf-8")
    result = runner.invoke(main, ["--root", str(tmp_path), "validate"])
    assert result.exit_code == 1, result.output
    assert "quality check quality-duplicate-measure-numbers failed" in result.output
    assert "quality check quality-measure-numbering-gap failed" in result.output
    assert re.search(r"avenant-2020-2022\s+8\s+2", result.output)


# ---------------------------------------------------------------------------------------------------------
# The interactive documentation in a real browser


@pytest.mark.live
@pytest.mark.browser
@pytest.mark.skipif(
    not (PROJECT_ROOT / "node_modules/swagger-ui-dist/package.json").is_file(),
    reason="swagger-ui-dist is not installed (npm install); the plain page is tested above",
)
def test_interactive_docs_render_every_operation_from_local_assets(
    live_server: LiveServer, artifacts_dir: Path
) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,1600"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    try:
        driver.get(f"{live_server.url}/api/docs")
        shadow = driver.find_element(By.ID, "swagger-host").shadow_root  # Swagger UI draws in a shadow root
        blocks = WebDriverWait(driver, 30).until(
            lambda d: shadow.find_elements(By.CSS_SELECTOR, ".opblock-summary-path") or None
        )
        paths = {b.get_attribute("data-path") or b.text for b in blocks}
        lookup = "/api/queries/{name}/parameters/{param}"
        assert paths == {"/api/queries", lookup} | {f"/api/queries/{name}" for name in NAMES}
        # isolated: the page keeps one <main> and one h1; the site's `pre` style does not reach Swagger UI's
        assert driver.execute_script(
            "return [document.querySelectorAll('main').length, document.querySelectorAll('h1').length]"
        ) == [1, 1]
        assert not driver.find_elements(By.CSS_SELECTOR, 'head link[href*="swagger-ui.css"]')
        version = shadow.find_element(By.CSS_SELECTOR, "pre.version")
        assert version.value_of_css_property("background-color") != "rgba(246, 246, 246, 1)"
        assert version.value_of_css_property("color") == "rgba(255, 255, 255, 1)"
        loaded = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert loaded and all(url.startswith(live_server.url) for url in loaded), loaded
        driver.save_screenshot(str(artifacts_dir / "api-docs.png"))
    finally:
        driver.quit()


# ---------------------------------------------------------------------------------------------------------
# Time limit: a named query runs in a query process, stopped at the limit of /sparql

ENDLESS = """# title@fr: Requête sans fin
# title@en: Endless query
# description@fr: Trois fois toutes les données, l'une contre l'autre.
# description@en: Every triple against every triple, three times.
# tags: test
SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }
"""


def test_a_named_query_past_the_time_limit_is_stopped_with_a_503(build_dir: Path, tmp_path: Path) -> None:
    from server.web.context import engine

    (tmp_path / "queries").mkdir()  # the project's own queries, added to the packaged ones
    (tmp_path / "queries" / "endless.rq").write_text(ENDLESS, "utf-8")
    app = create_app(
        load_settings(
            {
                "project_root": tmp_path,
                "build_dir": build_dir,
                "query_timeout": 1.0,
                "query_workers": 1,
                "cache_bytes": 0,
            }
        )
    )
    client = app.test_client()
    with app.app_context():
        engine().warm_up()
    try:
        for path, accept in [("/api/queries/endless", "application/json"), ("/queries/endless", "text/html")]:
            started = time.monotonic()
            response = client.get(path, headers={"Accept": accept})
            assert response.status_code == 503, path
            assert time.monotonic() - started < 1.0 + 1.0, path
            text = response.get_data(as_text=True)
            assert "time limit of 1 s" in text and "Traceback" not in text, text
        # the worker goes on, and a parameter is still bound (joined to the query as VALUES)
        avenant = "https://w3id.org/cdv/id/le-quesnoy/avenant-2020-2022"
        rows = client.get("/api/queries/measures-per-axis", query_string={"avenant": avenant}).get_json()
        assert [row["axeNumero"] for row in rows] == ["1", "2", "3"]
        assert {row["avenant"] for row in rows} == {avenant}
    finally:
        app.extensions["cdv.engine"]["engine"].close()
