"""The pages (opendata/pages/) on the real fixtures: what each shows, in both languages, read through the
same FilterSets and selectors as the API (a browse page lists what REST lists for the same filters)."""

from __future__ import annotations

import re

import pytest

from indicators.models import Indicator, Observation
from opendata.catalogue.models import Citation, Source
from opendata.pages.text import pieces
from projects.models import Event, EventSeries, Project

pytestmark = pytest.mark.usefixtures("loaded_db")

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}


def html(response) -> str:
    assert response["Content-Type"].startswith("text/html"), response["Content-Type"]
    return response.content.decode()


def test_the_landing_page_says_what_the_data_is_with_live_counts_and_links(client):
    response = client.get("/")
    assert response.status_code == 200
    page = html(response)
    assert "Indicators, projects and events of Changchun" in page
    live = Indicator.objects.alive().count()
    assert re.search(rf"<strong>{live}</strong> indicators", page)
    assert re.search(rf"<strong>{Observation.objects.alive().count()}</strong> values", page)
    assert re.search(rf"<strong>{Project.objects.alive().count()}</strong> projects", page)
    for href in ('href="/api/v1/docs/"', 'href="/api/v1/redoc/"', 'href="/graphql/"', 'href="/docs/"',
                 'href="/downloads/"', 'href="/api/v1/"'):
        assert href in page, href
    # a first request to copy, in three languages, for a real indicator
    assert "curl 'http://testserver/api/v1/observations/?indicator=gdp-growth'" in page
    assert "import httpx" in page and "await fetch(" in page
    # every topic, with its indicators linked to their pages
    indicator = Indicator.objects.alive().first()
    assert f'href="/indicators/{indicator.code}/"' in page
    assert f'href="/topics/{indicator.topic.code}/"' in page


def test_a_page_is_in_chinese_when_the_browser_asks_and_says_so(client):
    response = client.get("/", **ZH)
    page = html(response)
    assert response["Content-Language"] == "zh-hans"
    assert '<html lang="zh-Hans">' in page
    assert "长春市的指标、项目与活动" in page
    assert "Accept-Language" in response["Vary"] and "Cookie" in response["Vary"]
    assert client.get("/")["Content-Language"] == "en"


def test_the_language_switch_persists_over_accept_language(client):
    response = client.post("/language/", {"language": "zh-hans", "next": "/indicators/"})
    assert response.status_code == 302 and response["Location"] == "/indicators/"
    assert client.get("/indicators/", HTTP_ACCEPT_LANGUAGE="en")["Content-Language"] == "zh-hans"
    client.post("/language/", {"language": "en", "next": "/"})
    assert client.get("/", **ZH)["Content-Language"] == "en"


def test_the_api_stays_in_english_whatever_the_browser_asks(client):
    response = client.get("/api/v1/indicators/?topic=bad%20code", **ZH)
    assert response.status_code == 400
    assert "is not a code" in response.content.decode()


def test_the_indicator_page_draws_results_and_targets_differently_with_comparators(client):
    response = client.get("/indicators/grain-output/")
    page = html(response)
    svg = re.search(r"<svg class=\"chart\".*?</svg>", page, re.S).group()
    rows = Observation.objects.alive().filter(indicator__code="grain-output")
    results = rows.filter(kind="actual").count()
    targets = rows.filter(kind="target").count()
    assert svg.count('data-kind="actual"') == results and results > 0
    assert svg.count('data-kind="target"') == targets and targets > 0
    assert svg.count('class="result-mark"') == results + 1  # and the legend's
    assert svg.count('class="target-mark"') == targets + 1
    assert 'data-comparator="at_least"' in svg and "≥260" in svg and "≈260" in svg
    # the table: every value with its quotes, each linked to its passage in the source's page
    for o in rows:
        assert f'id="obs-{o.uid}"' in page
        for c in o.citations.all():
            assert c.quote in page
            assert f'href="/sources/{c.source.slug}/#char={c.offset},{c.offset + len(c.quote)}"' in page
    assert 'href="http://testserver/api/v1/indicators/grain-output/"' in page
    # progress towards each target
    assert "Targets and results" in page and ("met" in page)


def test_the_indicator_page_shows_a_target_met_or_not_as_the_selectors_say(client):
    from indicators.selectors import indicator_targets_with_results

    indicator = Indicator.objects.get(code="gdp-growth")
    pairs = indicator_targets_with_results(indicator=indicator)
    page = html(client.get("/indicators/gdp-growth/"))
    section = page.split('id="targets-h"')[1].split("</section>")[0]
    assert section.count("<tr>") == len(pairs) + 1
    assert section.count('class="met"') == sum(p.met is True for p in pairs)
    assert section.count('class="not-met"') == sum(p.met is False for p in pairs)


def test_the_source_page_marks_every_cited_passage_and_links_it_to_its_facts(client):
    source = Source.objects.get(slug="2025-work-report-plan")
    page = html(client.get(f"/sources/{source.slug}/"))
    live = Citation.objects.alive().filter(source=source)
    cited = [c for c in live if c.observations.alive().exists() or c.project_statuses.alive().exists()
             or c.events.alive().exists()]
    assert cited
    for c in cited:
        assert f'id="q-{c.uid}"' in page and f'id="cite-{c.uid}"' in page
    observation = Observation.objects.alive().filter(citations__source=source).first()
    assert f'href="/indicators/{observation.indicator.code}/#obs-{observation.uid}"' in page
    # the text is shown whole: marks only wrap it
    text = re.search(r'<pre id="source-text"[^>]*>(.*?)</pre>', page, re.S).group(1)
    from html import unescape
    assert unescape(re.sub(r"<[^>]+>", "", text)) == source.text


def test_the_pieces_of_a_text_cover_it_once_with_overlapping_citations():
    class C:
        def __init__(self, offset, quote):
            self.offset, self.quote = offset, quote

    a, b = C(2, "cdef"), C(4, "efgh")
    got = pieces("abcdefghij", [a, b])
    assert "".join(p.text for p in got) == "abcdefghij"
    assert [(p.text, len(p.citations)) for p in got] == [("ab", 0), ("cd", 1), ("ef", 2), ("gh", 1), ("ij", 0)]
    assert [p.first_of for p in got if p.first_of] == [(a,), (b,)]


def test_text_url_opened_by_a_browser_leads_to_the_source_page_and_stays_plain_text_for_clients(client):
    url = "/api/v1/sources/2025-work-report-plan/text/"
    browser = client.get(url, HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert browser.status_code == 303 and browser["Location"] == "/sources/2025-work-report-plan/"
    assert "Accept" in browser["Vary"]
    plain = client.get(url)
    assert plain.status_code == 200 and plain["Content-Type"].startswith("text/plain")
    forced = client.get(url + "?format=txt", HTTP_ACCEPT="text/html,*/*;q=0.8")
    assert forced.status_code == 200 and forced["Content-Type"].startswith("text/plain")


def test_graphql_citations_carry_the_text_url_rest_gives(client):
    rest = client.get("/api/v1/observations/?indicator=grain-output").json()["results"]
    query = '{ observations(indicator: ["grain-output"]) { nodes { uid citations { nodes { textUrl } } } } }'
    nodes = client.post("/graphql/", {"query": query}, content_type="application/json").json()["data"][
        "observations"]["nodes"]
    by_uid = {n["uid"]: [c["textUrl"] for c in n["citations"]["nodes"]] for n in nodes}
    assert rest and {o["uid"]: [c["text_url"] for c in o["citations"]] for o in rest} == by_uid


def test_the_api_root_links_graphql_the_docs_and_the_website(client):
    documentation = client.get("/api/v1/").json()["documentation"]
    assert documentation["graphql"] == "http://testserver/graphql/"
    assert documentation["docs"] == "http://testserver/docs/"
    assert documentation["downloads"] == "http://testserver/downloads/"
    assert documentation["website"] == "http://testserver/"


@pytest.mark.parametrize("query", ["topic=economy", "has_target=true", "region=nanguan", "q=粮食",
                                   "source=2020-work-report", "topic=economy&has_target=false"])
def test_a_browse_page_lists_what_rest_lists_for_the_same_filters(client, query):
    page = html(client.get(f"/indicators/?{query}"))
    rest = client.get(f"/api/v1/indicators/?{query}&page_size=500&fields=code").json()["results"]
    listed = re.findall(r'<li>\s*<a href="/indicators/([^/]+)/">', page)
    assert listed == [r["code"] for r in rest][:50]
    assert f"{len(rest)} record" in page


def test_the_facets_count_the_records_the_filters_kept(client):
    page = html(client.get("/projects/?topic=transport"))
    facets = page.split('class="facets"')[1].split("</aside>")[0]
    rest = client.get("/api/v1/projects/?topic=transport&page_size=500&fields=slug").json()["results"]
    topic = re.search(r'href="\?([^"]*)"[^>]*>[^<]*</a> <span class="count">(\d+)</span>', facets)
    assert int(topic.group(2)) == len(rest)
    # a facet value links to the list filtered by it, which REST agrees with
    years = re.findall(r'date_from=(\d{4})&amp;date_to=\1"[^>]*>\d{4}</a> <span class="count">(\d+)</span>', facets)
    assert years
    for year, count in years:
        got = client.get(f"/api/v1/projects/?topic=transport&date_from={year}&date_to={year}&page_size=500").json()
        assert len(got["results"]) == int(count), year


@pytest.mark.parametrize("kind", ["indicators", "projects", "events"])
def test_every_facet_value_counts_what_its_link_lists(client, kind):
    """Follow every facet link of the browse page: the list it leads to has the count the facet said."""
    from html import unescape

    page = html(client.get(f"/{kind}/"))
    facets = page.split('class="facets"')[1].split("</aside>")[0]
    links = re.findall(r'<a href="\?([^"]*)"[^>]*>[^<]*</a> <span class="count">(\d+)</span>', facets)
    assert len(links) > 5
    for query, count in links:
        listed = html(client.get(f"/{kind}/?{unescape(query)}"))
        assert re.search(rf"<h2 id=\"results-h\">{count} records?</h2>", listed), (query, count)


def test_a_filter_the_filterset_refuses_is_shown_with_its_message(client):
    response = client.get("/events/?date_from=2026&date_to=2020")
    assert response.status_code == 400
    assert "is after date_to" in html(response)


@pytest.mark.parametrize("path", ["/projects/changchun-metro-line-6/", "/events/changchun-marathon-2019/",
                                  "/event-series/changchun-marathon/", "/regions/changchun/", "/topics/transport/",
                                  "/regions/", "/sources/", "/projects/", "/events/", "/indicators/"])
def test_every_page_answers_in_both_languages(client, path):
    for headers in ({}, ZH):
        response = client.get(path, **headers)
        assert response.status_code == 200, (path, headers)
        assert '<main id="main"' in html(response)


def test_the_project_page_shows_its_timeline_with_quotes(client):
    project = Project.objects.get(slug="changchun-metro-line-6")
    page = html(client.get(f"/projects/{project.slug}/", **ZH))
    for status in project.timeline.alive():
        assert f'id="status-{status.uid}"' in page
        for c in status.citations.all():
            assert c.quote in page
    assert 'href="http://testserver/api/v1/projects/changchun-metro-line-6/"' in page


def test_event_and_series_pages_link_each_other(client):
    series = EventSeries.objects.get(slug="changchun-marathon")
    events = Event.objects.alive().filter(series=series)
    page = html(client.get(f"/event-series/{series.slug}/"))
    for e in events:
        assert f'href="/events/{e.slug}/"' in page
    assert f'href="/event-series/{series.slug}/"' in html(client.get(f"/events/{events[0].slug}/"))


def test_an_unknown_or_deleted_record_has_no_page(client):
    missing = client.get("/indicators/no-such-indicator/", **ZH)
    assert missing.status_code == 404 and missing["Content-Language"] == "zh-hans" and "未找到" in html(missing)
    assert client.get("/api/v1/indicators/no-such-indicator/")["Content-Type"] == "application/problem+json"
    indicator = Indicator.objects.get(code="grain-output")
    Indicator.objects.filter(pk=indicator.pk).update(deleted_at="2025-01-01T00:00:00Z")
    assert client.get("/indicators/grain-output/").status_code == 404


def test_pages_read_in_a_number_of_queries_independent_of_the_data(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        client.get("/indicators/gdp-growth/")
    # the status facet counts each status through the FilterSet (one query per status of the schema: 8
    # since issue 14 added approved, selected, trial_operation): bounded by the schema, not by the rows
    with django_assert_max_num_queries(30):
        client.get("/projects/?topic=transport")
    with django_assert_max_num_queries(12):
        client.get("/sources/2025-work-report-plan/")


def test_every_text_of_the_pages_is_translated_and_compiled():
    """Each message of the pages has its Chinese, and the compiled catalogue (committed, so that `make run`
    needs no gettext) says the same as the source one. Regenerate: see opendata/pages/locale/README.md."""
    from pathlib import Path

    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    folder = Path(__file__).resolve().parents[3] / "opendata" / "pages" / "locale" / "zh_Hans" / "LC_MESSAGES"
    with open(folder / "django.po", "rb") as f:
        po = read_po(f)
    with open(folder / "django.mo", "rb") as f:
        mo = read_mo(f)
    untranslated = [m.id for m in po if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    assert untranslated == []
    assert not any("fuzzy" in m.flags for m in po if m.id)
    def entries(catalog):
        return {m.id if isinstance(m.id, str) else tuple(m.id): m.string if isinstance(m.string, str)
                else tuple(m.string) for m in catalog if m.id}

    assert entries(po) == entries(mo)


def test_a_date_is_shown_as_precisely_as_the_document_states_it(client):
    event = Event.objects.alive().filter(start_precision="year").first()
    page = html(client.get(f"/events/{event.slug}/"))
    assert f'<time datetime="{event.start_date.year}">{event.start_date.year}</time>' in page
    assert event.start_date.isoformat() not in page
