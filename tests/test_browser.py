"""The pages in Debian's headless Chromium against the real server.

With JavaScript off, a reader opens the home page, follows links to measure 12, reads the breadcrumb and the
quoted source passage, follows the passage into the source text, then the measure's class into the ontology
page. With JavaScript on (as most people browse), every family of page is audited at 390 px and 1,280 px:
no sideways scrolling, one <main> and one h1, chart text never below 12 px on screen, and axe-core (npm,
injected into the page) finds no serious or critical violation. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import rdflib
import requests

from server.core.config import PROJECT_ROOT

from .servers import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.live]

PHONE = (412, 915)  # a common Android phone, in CSS pixels
DESKTOP = (1280, 900)
CDV = rdflib.Namespace("https://w3id.org/cdv/ontology#")
MEASURE_PATH = "/id/le-quesnoy/avenant-2020-2022/mesure/12"


def chromium(javascript: bool) -> object:
    """Headless Chromium from Debian and its driver, with or without JavaScript."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tempfile.mkdtemp(prefix='cdv-chromium-')}",
    ):
        options.add_argument(argument)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    browser.set_page_load_timeout(30)
    return browser


@pytest.fixture(scope="module")
def driver() -> Iterator[object]:
    """JavaScript disabled: the pages must work without it."""
    browser = chromium(javascript=False)
    try:
        yield browser
    finally:
        browser.quit()


def shoot(driver, artifacts: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    """Full-page screenshots at phone and desktop width; the phone layout must not scroll sideways."""
    for label, (width, height) in (("phone", PHONE), ("desktop", DESKTOP)):
        driver.set_window_size(width, height)
        full = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, min(full + 140, 12_000))
        if label == "phone":
            overflow = driver.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name}: the page is {overflow}px wider than a phone screen"
        driver.save_screenshot(str(artifacts / f"pages-{name}-{label}.png"))
    driver.set_window_size(*PHONE)


def click(driver, text: str) -> None:  # type: ignore[no-untyped-def]
    """Click the first visible link whose text is `text`, as a person would, and wait for the new page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    links = [a for a in driver.find_elements(By.LINK_TEXT, text) if a.is_displayed()]
    assert links, f"no visible link {text!r} on {driver.current_url}"
    target = links[0].get_attribute("href").split("#")[0]
    same_page = target == driver.current_url.split("#")[0]
    old = driver.find_element(By.TAG_NAME, "html")
    links[0].click()
    if not same_page:
        WebDriverWait(driver, 20).until(ready.staleness_of(old))


def passage_lines(server: LiveServer) -> tuple[int, int, str]:
    """Lines of measure 12's passage and its text file, as the RDF says (the server's own Turtle)."""
    graph = rdflib.Graph().parse(
        data=requests.get(server.url + MEASURE_PATH, headers={"Accept": "text/turtle"}, timeout=30).text,
        format="turtle",
    )
    measure = rdflib.URIRef("https://w3id.org/cdv" + MEASURE_PATH)
    passage = graph.value(measure, CDV.passage)
    return int(graph.value(passage, CDV.ligneDebut)), int(graph.value(passage, CDV.ligneFin)), str(passage)


def test_a_reader_goes_from_home_to_measure_12_and_its_source(
    live_server: LiveServer,
    driver,
    artifacts_dir: Path,  # type: ignore[no-untyped-def]
) -> None:
    from selenium.webdriver.common.by import By

    driver.set_window_size(*PHONE)
    driver.get(live_server.url + "/")
    assert "Les contrats de ville en données ouvertes" in driver.find_element(By.TAG_NAME, "h1").text
    shoot(driver, artifacts_dir, "home")

    # home → axis 1 → its thematic "Réussite éducative" → measure 12, by the links on each page
    click(driver, "Axe 1 : Cohésion sociale")
    assert driver.find_element(By.TAG_NAME, "h1").text == "Axe 1 : Cohésion sociale"
    click(driver, "Réussite éducative")
    assert driver.find_element(By.TAG_NAME, "h1").text == "Réussite éducative"
    click(driver, "Mesure 12")
    assert driver.current_url == live_server.url + MEASURE_PATH
    assert driver.find_element(By.TAG_NAME, "h1").text == "Mesure 12"
    assert "ateliers parents-enfants" in driver.find_element(By.CSS_SELECTOR, ".lead").text

    # the breadcrumb: home, avenant, axis, thematic, objective, then the measure itself
    crumbs = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "nav.breadcrumb li")]
    assert crumbs[0] == "Accueil"
    assert crumbs[1].startswith("Avenant au contrat de ville du Quesnoy")
    assert crumbs[2] == "Axe 1 · Cohésion sociale"
    assert crumbs[3] == "Thématique · Réussite éducative"
    assert crumbs[4].startswith("Objectif · Maintenir et développer")
    assert crumbs[5] == "Mesure 12"
    previous, following = (
        driver.find_element(By.CSS_SELECTOR, ".prevnext a[rel=prev]").text,
        driver.find_element(By.CSS_SELECTOR, ".prevnext a[rel=next]").text,
    )
    assert "Mesure 11" in previous and "Mesure 13" in following

    # the quoted source passage, with its line numbers
    start, end, _passage = passage_lines(live_server)
    quote = driver.find_element(By.CSS_SELECTOR, "section.source figure.quote")
    assert "parents-enfants" in quote.find_element(By.TAG_NAME, "blockquote").text
    assert f"Lignes {start} à {end}" in quote.find_element(By.TAG_NAME, "figcaption").text
    numbers = [int(li.get_attribute("value")) for li in quote.find_elements(By.CSS_SELECTOR, "ol.lines li")]
    assert numbers[0] == start and numbers[-1] <= end
    shoot(driver, artifacts_dir, "mesure-12")

    # into the source text, at the passage's first line
    click(driver, "lire dans le texte")
    assert driver.execute_script("return document.querySelector(':target').id") == f"L{start}"
    assert "Développer des ateliers parents-enfants" in driver.find_element(By.ID, f"L{start}").text
    driver.save_screenshot(str(artifacts_dir / "pages-source-text-phone.png"))
    driver.back()

    # the measure's class leads to its entry in the ontology; the nav leads to the whole page
    click(driver, "mesure")
    assert driver.current_url == live_server.url + "/ontology#Mesure"
    entry = driver.find_element(By.CSS_SELECTOR, "article.term:target")
    assert entry.get_attribute("id") == "Mesure"
    assert "measure" in entry.text and "ressources dans les données" in entry.text
    click(driver, "Ontologie")
    assert "Ontologie des contrats de ville" in driver.find_element(By.TAG_NAME, "h1").text
    shoot(driver, artifacts_dir, "ontology")


# ---------------------------------------------------------------------------------------------------------
# Every family of page at a phone's and a desktop's width, with axe-core

AUDIT_WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}
AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
DOC = "/id/le-quesnoy/avenant-2020-2022"
FAMILIES = {
    "home": "/",
    "avenant": DOC,
    "axe": DOC + "/axe/3",
    "thematique": DOC + "/thematique/3",
    "objectif": DOC + "/objectif/6",
    "mesure": MEASURE_PATH,
    "organisation": "/id/organisation/pole-emploi",
    "contribution": DOC + "/contribution/caf-du-nord",
    "concept": "/id/concept/pilier/emploi-et-developpement-economique",
    "source-text": "/sources/protocole-le-quesnoy-2020-2022.txt",
    "ontology": "/ontology",
    "queries": "/queries",
    "query-chart": "/queries/measures-per-axis",
    "query-table": "/queries/contributions",
    "search": "/search?q=ecoles",
    "search-emploi": "/search?q=emploi",
    "catalog": "/catalog",
    # long IRIs and texts in a wide table: what made the page 2,372 px wide on a phone
    "sparql-results": "/sparql?query="
    + quote("SELECT * WHERE { ?s <https://w3id.org/cdv/ontology#texte> ?texte ; ?p ?o } LIMIT 40"),
    "api-docs": "/api/docs",
    "not-found": "/id/nothing-here",
}
SCREENSHOTS = {"axe", "mesure", "query-chart", "search"}
SERIOUS = ("serious", "critical")

# What the page is measured on, in the browser: sideways overflow, landmarks, the smallest chart text as
# drawn on screen (an SVG's text is scaled by its viewBox), and the smallest tap target that is not a link
# inside a sentence.
MEASURE_SCRIPT = """
const root = document.documentElement;
let smallest = null;
for (const el of document.querySelectorAll("figure.chart *, svg text")) {
  if (!el.childNodes.length || ![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
  let size = parseFloat(getComputedStyle(el).fontSize);
  const svg = el.closest("svg");
  if (svg && svg.viewBox.baseVal && svg.viewBox.baseVal.width) {
    size *= svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  }
  smallest = smallest === null ? size : Math.min(smallest, size);
}
return {
  overflow: root.scrollWidth - root.clientWidth,
  mains: document.querySelectorAll("main").length,
  h1s: document.querySelectorAll("h1").length,
  chartText: smallest,
  widestTable: Math.max(0, ...[...document.querySelectorAll("table")].map(t => t.scrollWidth)),
};
"""
AXE_SCRIPT = """
const done = arguments[arguments.length - 1];
axe.run(document, {
  runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
  resultTypes: ["violations"],
}).then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, nodes: v.nodes.length,
  targets: v.nodes.slice(0, 3).map(n => n.target.join(" ")) }))), e => done({ error: String(e) }));
"""


@pytest.fixture(scope="module")
def js_driver() -> Iterator[object]:
    """JavaScript enabled: the editor, the API explorer and axe-core run."""
    browser = chromium(javascript=True)
    browser.set_script_timeout(60)
    try:
        yield browser
    finally:
        browser.quit()


def settle(driver, family: str) -> None:  # type: ignore[no-untyped-def]
    """Wait for what scripts draw: YASGUI's results after its run, Swagger UI's operations."""
    from selenium.webdriver.support.ui import WebDriverWait

    waits = {
        "sparql-results": "return document.querySelectorAll('#yasgui .yasr_results table tbody tr').length > 0",
        "api-docs": "const h = document.getElementById('swagger-host');"
        " return !!(h && h.shadowRoot && h.shadowRoot.querySelector('.opblock'))",
    }
    if family in waits:
        WebDriverWait(driver, 30).until(lambda d: d.execute_script(waits[family]))


def audit(driver, url: str, family: str, width: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """One page at one width: its measures and axe-core's serious and critical violations."""
    driver.set_window_size(*AUDIT_WIDTHS[width])
    driver.get(url)
    settle(driver, family)
    found = driver.execute_script(MEASURE_SCRIPT)
    driver.execute_script(AXE.read_text("utf-8"))
    violations = driver.execute_async_script(AXE_SCRIPT)
    assert isinstance(violations, list), violations
    found["serious"] = [v for v in violations if v["impact"] in SERIOUS]
    found["other"] = sorted(f"{v['id']} ({v['impact']})" for v in violations if v["impact"] not in SERIOUS)
    return found


@pytest.mark.skipif(not AXE.is_file(), reason="scripts/setup installs axe-core from npm")
def test_every_page_family_fits_a_phone_and_passes_axe(
    live_server: LiveServer,
    js_driver,
    artifacts_dir: Path,  # type: ignore[no-untyped-def]
) -> None:
    rows, problems = [], []
    for family, path in FAMILIES.items():
        for width in AUDIT_WIDTHS:
            found = audit(js_driver, live_server.url + path, family, width)
            rows.append({"family": family, "width": AUDIT_WIDTHS[width][0], **found})
            if family in SCREENSHOTS and width == "phone":
                full = js_driver.execute_script("return document.documentElement.scrollHeight")
                js_driver.set_window_size(390, min(full + 140, 12_000))
                js_driver.save_screenshot(str(artifacts_dir / f"audit-{family}-phone.png"))
            where = f"{family} at {AUDIT_WIDTHS[width][0]} px"
            if found["overflow"] > 0:
                problems.append(f"{where}: {found['overflow']} px wider than the screen")
            if (found["mains"], found["h1s"]) != (1, 1):
                problems.append(f"{where}: {found['mains']} <main>, {found['h1s']} h1")
            if found["chartText"] is not None and found["chartText"] < 12:
                problems.append(f"{where}: chart text {found['chartText']:.1f} px")
            problems += [
                f"{where}: axe {v['id']} ({v['impact']}) on {v['targets']}" for v in found["serious"]
            ]
    report = [
        "family          width  overflow  main  h1  axe serious/critical  chart text px  widest table px"
        "  other axe findings"
    ]
    for r in rows:
        chart = "" if r["chartText"] is None else f"{r['chartText']:.1f}"
        report.append(
            f"{r['family']:15} {r['width']:5}  {r['overflow']:8}  {r['mains']:4}  {r['h1s']:2}  "
            f"{len(r['serious']):20}  {chart:13}  {r['widestTable']:15}  {', '.join(r['other'])}"
        )
    # on a phone, the home page's outline reaches axis 3 within about two screens (5,200 px down before)
    js_driver.set_window_size(*AUDIT_WIDTHS["phone"])
    js_driver.get(live_server.url + "/")
    axis_3 = js_driver.execute_script(
        "const a = [...document.querySelectorAll('ol.outline a')].find(a => a.textContent.startsWith('Axe 3'));"
        " return a.getBoundingClientRect().top + window.scrollY"
    )
    report_home = f"home at 390 px: the link to axis 3 starts {axis_3:.0f} px down"
    if axis_3 > 2000:
        problems.append(report_home)
    report.append(report_home)
    (artifacts_dir / "pages-audit.txt").write_text("\n".join(report) + "\n", "utf-8")
    (artifacts_dir / "pages-audit.json").write_text(json.dumps(rows, indent=1, ensure_ascii=False), "utf-8")
    print("\n".join(report))
    assert not problems, "\n".join(problems)


def test_open_in_the_editor_opens_one_tab(live_server: LiveServer, js_driver) -> None:  # type: ignore[no-untyped-def]
    """A resource page's "open in the editor" link opens its query in one YASGUI tab, and opening it again
    selects that tab rather than adding one."""
    from selenium.webdriver.support.ui import WebDriverWait

    if not (PROJECT_ROOT / "node_modules" / "@zazuko" / "yasgui").is_dir():
        pytest.skip("scripts/setup installs YASGUI")
    link = live_server.url + "/sparql?query=" + quote(f"DESCRIBE <https://w3id.org/cdv{MEASURE_PATH}>")
    tabs = "return document.querySelectorAll('#yasgui .tabsList [role=tab]').length"
    js_driver.get(live_server.url + "/sparql")
    js_driver.execute_script("localStorage.clear()")  # a first visit: no tab kept from earlier
    counts = []
    for _ in range(2):
        js_driver.get(link)
        WebDriverWait(js_driver, 30).until(lambda d: d.execute_script(tabs) > 0)
        counts.append(js_driver.execute_script(tabs))
        active = js_driver.execute_script(
            "return document.querySelector('#yasgui .CodeMirror').CodeMirror.getValue()"
        )
        assert active.startswith("DESCRIBE <https://w3id.org/cdv/id/le-quesnoy/")
    assert counts == [1, 1]


@pytest.fixture(scope="module")
def bounded_server(build_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server that lists at most 3 values of a parameter: the organisations are looked up."""
    from .servers import run_server

    logs = tmp_path_factory.mktemp("bounded-logs")
    with run_server(build_dir, logs, ("--workers", "1"), env={"CDV_CHOICES_BOUND": "3"}) as server:
        yield server


def test_type_ahead_suggests_organisations_and_the_lookup_page_works_without_javascript(
    bounded_server: LiveServer, js_driver, driver
) -> None:  # type: ignore[no-untyped-def]
    """Typing "pôle" in the organisation field fills its datalist from the lookup API; without JavaScript
    the link beside the field leads to a search page whose result opens the query with that value."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    js_driver.get(bounded_server.url + "/queries/measures-naming-organisation")
    field = js_driver.find_element(By.ID, "param-organisation")
    field.clear()
    field.send_keys("pôle")
    options = "return [...document.querySelectorAll('#values-organisation option')].map(o => o.value)"
    found = WebDriverWait(js_driver, 15).until(lambda d: d.execute_script(options) or None)
    assert "https://w3id.org/cdv/id/organisation/pole-emploi" in found
    driver.get(bounded_server.url + "/queries/measures-naming-organisation")
    driver.find_element(By.LINK_TEXT, "cherchez une valeur").click()
    box = driver.find_element(By.ID, "q")
    box.send_keys("pôle emploi")
    box.submit()
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.LINK_TEXT, "Pôle Emploi") or None)[0].click()
    assert driver.current_url.endswith("organisation=https://w3id.org/cdv/id/organisation/pole-emploi")
    assert "/mesure/27" in driver.page_source
