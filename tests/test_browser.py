"""The linked-data pages in Debian's headless Chromium, with JavaScript off, against the real server.

A reader opens the home page, follows links to measure 12, reads the breadcrumb and the quoted source
passage, follows the passage into the source text, then the measure's class into the ontology page.
Screenshots at a phone's and a desktop's width go to test-artifacts/.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
import requests

from .servers import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.live]

PHONE = (412, 915)  # a common Android phone, in CSS pixels
DESKTOP = (1280, 900)
CDV = rdflib.Namespace("https://w3id.org/cdv/ontology#")
MEASURE_PATH = "/id/le-quesnoy/avenant-2020-2022/mesure/12"


@pytest.fixture(scope="module")
def driver() -> Iterator[object]:
    """Headless Chromium from Debian, JavaScript disabled: the pages must work without it."""
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
    options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    browser.set_page_load_timeout(30)
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
