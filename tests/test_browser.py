"""The pages a person opens, in a real browser (headless Chromium) against a live server: GraphiQL runs
a query, Swagger UI and Redoc render the API's operations. Every script and style comes from this API
(no CDN), so the pages also work on a closed network."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from selenium.common.exceptions import (ElementClickInterceptedException, StaleElementReferenceException,
                                        TimeoutException)
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.factories import TopicFactory

pytestmark = pytest.mark.django_db(transaction=True)


# The Redoc bundle hard-codes its "API docs by Redocly" logo on a CDN; the Content Security Policy stops
# that request (the logo hides itself), and Chromium reports the refusal.
REFUSED_BY_POLICY = ("https://cdn.redoc.ly/redoc/logo-mini.svg",)


def severe_console_errors(browser) -> list[str]:
    """Console errors: a failed or refused load, a script error."""
    return [e["message"] for e in browser.get_log("browser")
            if e["level"] == "SEVERE" and not any(url in e["message"] for url in REFUSED_BY_POLICY)]


def requests_to_other_origins(browser, origin: str) -> list[str]:
    """Every resource the page loaded or tried to load that is not on this API's origin."""
    urls = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    return [u for u in urls if not u.startswith(origin) and not u.startswith(("data:", "blob:"))]


def test_graphiql_runs_a_query(live_server, browser):
    TopicFactory(code="agriculture", name_en="Agriculture")
    browser.get(f"{live_server.url}/graphql/#query=" + quote("{ topics { nodes { code nameEn } } }"))
    wait = WebDriverWait(browser, 30)
    wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, ".graphiql-execute-button"))).click()
    wait.until(lambda d: "Agriculture" in d.find_element(By.CSS_SELECTOR, ".graphiql-response").text)
    assert '"code": "agriculture"' in browser.find_element(By.CSS_SELECTOR, ".graphiql-response").text
    assert severe_console_errors(browser) == []
    assert requests_to_other_origins(browser, live_server.url) == []


def test_swagger_ui_lists_the_operations(live_server, browser):
    browser.get(f"{live_server.url}/api/v1/docs/")
    wait = WebDriverWait(browser, 30)
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".opblock")))
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "/api/v1/observations/" in text and "Changchun Open Data API" in text
    assert severe_console_errors(browser) == []
    assert requests_to_other_origins(browser, live_server.url) == []


def test_redoc_renders_the_contract(live_server, browser):
    browser.get(f"{live_server.url}/api/v1/redoc/")
    WebDriverWait(browser, 30).until(
        lambda d: "observation_list" in d.page_source and "Changchun Open Data API" in d.find_element(
            By.TAG_NAME, "body").text)
    assert severe_console_errors(browser) == []


# -- the pages (opendata/pages/), on the real fixtures ---------------------------------------------------

@pytest.fixture(scope="session")
def screenshots(request):
    """The folder the screenshots go to (SCREENSHOT_DIR, else var/screenshots), said at the end of the run."""
    import os
    from pathlib import Path

    from django.conf import settings

    folder = Path(os.environ.get("SCREENSHOT_DIR") or Path(settings.BASE_DIR) / "var" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    yield folder
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"browser screenshots: {folder}")


@pytest.fixture
def site(live_server):
    """The live server with the published fixtures loaded."""
    import os

    from django.core.management import call_command

    call_command("load_opendata", verbosity=0, stdout=open(os.devnull, "w"))
    return live_server.url


@pytest.fixture
def fresh_log(browser):
    """The browser's console log emptied of what earlier tests left in it."""
    browser.get_log("browser")
    return browser


def shoot(browser, screenshots, name: str) -> None:
    browser.save_screenshot(str(screenshots / f"{name}.png"))


def in_viewport(browser, element) -> bool:
    return browser.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "return r.top >= 0 && r.bottom <= window.innerHeight && r.width > 0;", element)


def test_the_landing_page_in_both_languages_and_the_switch_persists(site, fresh_log, browser, screenshots):
    browser.get(f"{site}/")
    wait = WebDriverWait(browser, 30)
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".counts")))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert "Indicators, projects and events of Changchun" in browser.find_element(By.TAG_NAME, "h1").text
    links = {a.get_attribute("pathname") for a in browser.find_elements(By.CSS_SELECTOR, ".cards a")}
    assert {"/api/v1/docs/", "/api/v1/redoc/", "/graphql/", "/api/v1/"} <= links
    # the keyboard reaches the skip link first
    browser.find_element(By.TAG_NAME, "body").send_keys("\ue004")  # Tab
    assert browser.switch_to.active_element.get_attribute("class") == "skip"
    shoot(browser, screenshots, "landing-en")
    browser.find_element(By.CSS_SELECTOR, 'form.language button[value="zh-hans"]').click()
    wait.until(lambda d: d.execute_script("return document.documentElement.lang") == "zh-Hans")
    assert "长春市的指标、项目与活动" in browser.find_element(By.TAG_NAME, "h1").text
    shoot(browser, screenshots, "landing-zh")
    browser.get(f"{site}/indicators/")  # the choice persists
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-Hans"
    browser.find_element(By.CSS_SELECTOR, 'form.language button[value="en"]').click()
    wait.until(lambda d: d.execute_script("return document.documentElement.lang") == "en")
    assert severe_console_errors(browser) == []
    assert requests_to_other_origins(browser, site) == []


def test_the_indicator_page_draws_its_chart(site, fresh_log, browser, screenshots):
    browser.get(f"{site}/indicators/grain-output/")
    chart = WebDriverWait(browser, 30).until(EC.presence_of_element_located((By.CSS_SELECTOR, "svg.chart")))
    assert chart.size["width"] > 300 and chart.size["height"] > 100
    results = chart.find_elements(By.CSS_SELECTOR, 'a[data-kind="actual"] circle')
    targets = chart.find_elements(By.CSS_SELECTOR, 'a[data-kind="target"] path.target-mark')
    assert len(results) == 2 and len(targets) == 3
    # drawn differently: filled dots, hollow dashed targets
    assert browser.execute_script("return getComputedStyle(arguments[0]).fill", results[0]) != "rgb(255, 255, 255)"
    assert browser.execute_script("return getComputedStyle(arguments[0]).fill", targets[0]) == "rgb(255, 255, 255)"
    bar = chart.find_element(By.CSS_SELECTOR, "line.target-bar")
    assert browser.execute_script("return getComputedStyle(arguments[0]).strokeDasharray", bar) != "none"
    assert all(r.rect["width"] > 0 for r in results + targets)
    shoot(browser, screenshots, "indicator-en")
    # on a phone: nothing wider than the screen
    browser.set_window_size(390, 844)
    try:
        browser.get(f"{site}/indicators/grain-output/")
        assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
        shoot(browser, screenshots, "indicator-phone")
    finally:
        browser.set_window_size(1280, 900)
    assert severe_console_errors(browser) == []
    assert requests_to_other_origins(browser, site) == []


def test_a_citations_text_url_scrolls_to_the_quote_marked_on_the_source_page(site, fresh_log, browser, screenshots):
    import json
    import urllib.request

    with urllib.request.urlopen(f"{site}/api/v1/observations/?indicator=grain-output&kind=actual") as response:
        citation = json.load(response)["results"][0]["citations"][0]
    browser.get(citation["text_url"])  # the API's URL: the browser is sent to the page, the fragment kept
    mark = WebDriverWait(browser, 30).until(EC.presence_of_element_located((By.CSS_SELECTOR, "mark.fragment")))
    assert browser.current_url.startswith(f"{site}/sources/")
    assert "".join(m.text for m in browser.find_elements(By.CSS_SELECTOR, "mark.fragment")) == citation["quote"]
    assert in_viewport(browser, mark)
    shoot(browser, screenshots, "source-quote-en")
    assert severe_console_errors(browser) == []


def test_the_project_page_in_chinese_shows_its_timeline(site, fresh_log, browser, screenshots):
    browser.get(f"{site}/")
    browser.find_element(By.CSS_SELECTOR, 'form.language button[value="zh-hans"]').click()
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return document.documentElement.lang") == "zh-Hans")
    browser.get(f"{site}/projects/changchun-metro-line-6/")
    items = browser.find_elements(By.CSS_SELECTOR, "ol.timeline > li")
    assert items and all(i.find_elements(By.CSS_SELECTOR, "blockquote") for i in items)
    assert "进展时间线" in browser.find_element(By.ID, "timeline-h").text
    shoot(browser, screenshots, "project-zh")
    assert severe_console_errors(browser) == []


def try_it_out(browser, operation: str) -> WebElement:
    """Open `operation`'s "Try it out", press Execute with the defaults, and return the element that holds the
    response's body.
    Driven by what the page shows, not by a fixed order of clicks: a press while Swagger UI is still opening
    the operation or laying out the parameters it has just shown can be lost or land on another element
    (seen with Chromium 156), so each round looks at the page again and does the next step that is missing:
    open the operation, press "Try it out", press Execute, wait for the response. 60 s in all."""
    block = f"#operations-{operation}"
    answer = f"{block} .live-responses-table .response-col_description pre"

    def press(element) -> None:
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        try:
            element.click()
        except (ElementClickInterceptedException, StaleElementReferenceException):
            pass  # covered or replaced while the page settles: the next round looks again

    def shown(driver, css):
        return [e for e in driver.find_elements(By.CSS_SELECTOR, css) if e.is_displayed() and e.is_enabled()]

    def step(driver):
        try:
            bodies = driver.find_elements(By.CSS_SELECTOR, answer)
            if bodies and bodies[0].text.strip():
                return bodies[0]
            if bodies:
                return False  # the response is being written
            if execute := shown(driver, f"{block} .execute"):
                press(execute[0])
                try:  # give the request time before pressing again
                    WebDriverWait(driver, 5).until(EC.presence_of_element_located((By.CSS_SELECTOR, answer)))
                except TimeoutException:
                    pass
            elif (try_out := shown(driver, f"{block} .try-out__btn")) and "cancel" not in try_out[0].text.lower():
                press(try_out[0])
            elif not try_out and (summary := shown(driver, f"{block} .opblock-summary")):
                press(summary[0])  # the operation is closed: open it
        except StaleElementReferenceException:
            pass
        return False

    return WebDriverWait(browser, 60, poll_frequency=0.5).until(step, f"{operation}: no response shown after Execute")


def test_swagger_try_it_out_returns_records_with_its_defaults(site, fresh_log, browser, screenshots):
    browser.get(f"{site}/api/v1/docs/#/indicator/indicator_list")
    body = try_it_out(browser, "indicator-indicator_list")
    WebDriverWait(browser, 30).until(lambda d: '"results"' in body.text)
    assert '"code": "' in body.text  # records, not an empty list
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", body)
    shoot(browser, screenshots, "swagger-try-it-out")
    # a record's operation, its key pre-filled with a published record
    browser.get(f"{site}/api/v1/docs/#/indicator/indicator_retrieve")
    browser.refresh()
    body = try_it_out(browser, "indicator-indicator_retrieve")
    WebDriverWait(browser, 30).until(lambda d: '"code": "gdp-growth"' in body.text)
    # Swagger UI warns that it reads the `_` of an operation id in the address as a space (it still opens it)
    assert [e for e in severe_console_errors(browser) if "escaping deep link whitespace" not in e] == []


def test_graphiql_opens_on_an_example_that_runs(site, fresh_log, browser, screenshots):
    browser.get(f"{site}/graphql/")
    wait = WebDriverWait(browser, 30)
    wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, ".graphiql-execute-button"))).click()
    wait.until(lambda d: "gdp-growth" in d.find_element(By.CSS_SELECTOR, ".graphiql-response").text)
    response = browser.find_element(By.CSS_SELECTOR, ".graphiql-response").text
    assert '"textUrl"' in response and '"errors"' not in response
    shoot(browser, screenshots, "graphiql-example")
    assert severe_console_errors(browser) == []
