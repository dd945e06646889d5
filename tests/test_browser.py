"""The pages a person opens, in a real browser (headless Chromium) against a live server: GraphiQL runs
a query, Swagger UI and Redoc render the API's operations. Every script and style comes from this API
(no CDN), so the pages also work on a closed network."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from selenium.webdriver.common.by import By
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
