"""The pages: a landing page, a page for each record, and browse pages with facets. Each view reads
through the apps' selectors and FilterSets (opendata/pages/listing.py), as REST and GraphQL do, and
renders a template in the page's language (opendata/pages/i18n.py). No query of its own: what is
listed and in which order is the resource's FilterSet's and Sorting's."""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.http import Http404
from django.shortcuts import render

from indicators import selectors as indicator_selectors
from indicators.filters import IndicatorFilterSet, ObservationFilterSet
from opendata.catalogue import selectors as catalogue_selectors
from opendata.catalogue.filters import RegionFilterSet, SourceFilterSet, TopicFilterSet
from opendata.pages.charts import Point, time_chart
from opendata.pages.i18n import is_chinese, localized
from opendata.pages.listing import counted_by_filterset, facet, filtered, page_of, year_facet, year_span
from opendata.pages.text import pieces
from projects import selectors as project_selectors
from projects.filters import EventFilterSet, EventSeriesFilterSet, ProjectFilterSet, ProjectStatusFilterSet


def one(filterset_class, queryset, key_filter: str, key: str):
    """The live record whose public key is `key`, found by its FilterSet's key filter (404 otherwise)."""
    listing = filtered(filterset_class, queryset, {key_filter: key}, allowed=(key_filter,))
    record = listing.rows.first() if not listing.errors else None
    if record is None:
        raise Http404(key)
    return record


def links(request) -> dict:
    """Where the API, its documentation and the downloads are, for every page's header and footer."""
    return {
        "docs_url": settings.DOCS_URL,
        "downloads_url": settings.DOWNLOADS_URL,
    }


def page(request, template: str, context: dict, status: int = 200):
    return render(request, f"pages/{template}", {**links(request), **context}, status=status)


# -- the landing page ---------------------------------------------------------------------------------

@localized
def home(request):
    indicators = filtered(IndicatorFilterSet, indicator_selectors.indicator_list(), {}).rows
    by_topic = defaultdict(list)
    for indicator in indicators:
        by_topic[indicator.topic_id].append(indicator)
    topics = [(t, by_topic.get(t.id, [])) for t in filtered(TopicFilterSet, catalogue_selectors.topic_list(), {}).rows]
    sources = filtered(SourceFilterSet, catalogue_selectors.source_list(), {}).rows
    counts = {
        "indicators": len(indicators),
        "observations": filtered(ObservationFilterSet, indicator_selectors.observation_list(), {}).count,
        "projects": filtered(ProjectFilterSet, project_selectors.project_list(), {}).count,
        "events": filtered(EventFilterSet, project_selectors.event_list(), {}).count,
        "sources": len(sources),
        "regions": filtered(RegionFilterSet, catalogue_selectors.region_list(), {}).count,
    }
    # the first request's indicator: GDP growth when it is published, else the first there is
    codes = [i.code for i in indicators]
    example = "gdp-growth" if "gdp-growth" in codes else (codes[0] if codes else None)
    return page(request, "home.html", {"topics": topics, "counts": counts, "sources": sources,
                                       "example_indicator": example})


# -- indicators ---------------------------------------------------------------------------------------

def series_charts(indicator, observations) -> list[dict]:
    """One chart per region and unit of the indicator's observations."""
    groups = defaultdict(list)
    for o in observations:
        groups[(o.region, o.unit)].append(o)
    charts = []
    for n, ((region, unit), rows) in enumerate(sorted(groups.items(), key=lambda g: (g[0][0].code, g[0][1].symbol))):
        points = [Point(o.period_start, o.period_end, o.value, o.kind, o.comparator, o.period_label, f"obs-{o.uid}")
                  for o in rows]
        title = (f"{indicator.name_zh} — {region.name_zh}，{unit.symbol}" if is_chinese()
                 else f"{indicator.name_en} — {region.name_en}, {unit.symbol}")
        charts.append({"region": region, "unit": unit,
                       "svg": time_chart(points, title=title, unit=unit.symbol, chart_id=f"chart-{n}")})
    return charts


def target_state(pair) -> dict:
    """A target as the selectors evaluate it (indicators.selectors.evaluate_target): the result shown is
    the one for its period, else the latest within it; progress and state are the evaluation's."""
    target, evaluation = pair.target, pair.evaluation
    result = pair.result or (evaluation and (evaluation.result_at_end or evaluation.latest_result))
    progress = evaluation.progress if evaluation else None
    return {"target": target, "result": result, "state": evaluation.state if evaluation else None,
            "result_is_partial": result is not None and (result.period_start, result.period_end) != (
                target.period_start, target.period_end),
            "percent": None if progress is None else round(float(progress) * 100)}


@localized
def indicator_detail(request, code: str):
    indicator = one(IndicatorFilterSet, indicator_selectors.indicator_list(), "code", code)
    observations = list(filtered(ObservationFilterSet, indicator_selectors.observation_list(),
                                 {"indicator": indicator.code}).rows)
    observations.sort(key=lambda o: (o.region.code, o.period_start, o.period_end, o.kind))
    targets = [target_state(p) for p in indicator_selectors.targets_with_results(observations)]
    return page(request, "indicator.html", {"indicator": indicator, "observations": observations,
                                            "charts": series_charts(indicator, observations),
                                            "targets": targets})


BROWSE = {
    # name: (FilterSet, selector, the parameters the page offers,
    #        facets: (parameter, path, label fields, the related rows on the way that must be live))
    "indicators": (IndicatorFilterSet, indicator_selectors.indicator_list, ("q", "topic", "region", "source",
                                                                          "has_target"),
                   [("topic", "topic__code", ("topic__name_en", "topic__name_zh"), ()),
                    ("region", "observations__region__code", ("observations__region__name_en",
                                                              "observations__region__name_zh"), ("observations",)),
                    ("source", "observations__citations__source__slug",
                     ("observations__citations__source__title_en", "observations__citations__source__title_zh"),
                     ("observations", "observations__citations"))]),
    "projects": (ProjectFilterSet, project_selectors.project_list, ("q", "topic", "region", "status", "source",
                                                                    "date_from", "date_to"),
                 [("topic", "topic__code", ("topic__name_en", "topic__name_zh"), ()),
                  ("region", "regions__code", ("regions__name_en", "regions__name_zh"), ()),
                  ("status", "timeline__status", ("timeline__status", "timeline__status"), ("timeline",)),
                  ("source", "timeline__citations__source__slug",
                   ("timeline__citations__source__title_en", "timeline__citations__source__title_zh"),
                   ("timeline", "timeline__citations"))]),
    "events": (EventFilterSet, project_selectors.event_list, ("q", "kind", "status", "region", "series", "source",
                                                              "date_from", "date_to"),
               [("kind", "kind", ("kind", "kind"), ()),
                ("region", "region__code", ("region__name_en", "region__name_zh"), ()),
                ("series", "series__slug", ("series__name_en", "series__name_zh"), ()),
                ("source", "citations__source__slug", ("citations__source__title_en", "citations__source__title_zh"),
                 ("citations",))]),
}

# the dates a year facet spans: (first, last) date paths of the listed records
YEAR_FACETS = {"projects": ("timeline__date_start", "timeline__date_end"), "events": ("start_date", "end_date")}


@localized
def browse(request, kind: str):
    filterset_class, selector, allowed, facets = BROWSE[kind]
    listing = filtered(filterset_class, selector(), request.GET, allowed=allowed)
    shown = page_of(listing, request.GET.get("page"))
    facet_lists = []
    for param, path, labels, live in facets:
        values = facet(listing.rows, path, *labels, live=live)
        if param == "region":  # a region includes its sub-regions: counted by the FilterSet's own rule
            values = counted_by_filterset(values, param, filterset_class, selector, listing.params, allowed)
        facet_lists.append({"param": param, "values": values, "current": listing.params.get(param)})
    years = None
    if kind in YEAR_FACETS:
        years = year_facet(filterset_class, selector, listing.params, allowed,
                           year_span(listing.rows, *YEAR_FACETS[kind]))
    return page(request, "browse.html", {
        "kind": kind, "listing": listing, "page": shown, "facets": facet_lists, "years": years,
        "params": listing.params, "api_query": request.GET.urlencode()},
        status=400 if listing.errors else 200)


# -- sources ------------------------------------------------------------------------------------------

@localized
def source_list(request):
    listing = filtered(SourceFilterSet, catalogue_selectors.source_list(), request.GET, allowed=("q",))
    return page(request, "sources.html", {"listing": listing}, status=400 if listing.errors else 200)


@localized
def source_detail(request, slug: str):
    source = one(SourceFilterSet, catalogue_selectors.source_list(with_text=True), "slug", slug)
    params = {"source": source.slug}
    observations = filtered(ObservationFilterSet, indicator_selectors.observation_list(), params).rows
    statuses = filtered(ProjectStatusFilterSet, project_selectors.project_status_list(), params).rows
    events = filtered(EventFilterSet, project_selectors.event_list(), params).rows
    facts = defaultdict(list)  # citation id -> the facts stating it
    citations = {}
    for label, rows in (("observation", observations), ("status", statuses), ("event", events)):
        for row in rows:
            for citation in row.citations.all():
                if citation.source_id == source.id:
                    facts[citation.id].append((label, row))
                    citations[citation.id] = citation
    ordered = sorted(citations.values(), key=lambda c: (c.offset, len(c.quote)))
    cited = [{"citation": c, "facts": facts[c.id], "end": c.offset + len(c.quote)} for c in ordered]
    return page(request, "source.html", {"source": source, "pieces": pieces(source.text, ordered), "cited": cited})


# -- projects, events, series -------------------------------------------------------------------------

@localized
def project_detail(request, slug: str):
    project = one(ProjectFilterSet, project_selectors.project_list(), "slug", slug)
    events = filtered(EventFilterSet, project_selectors.event_list(), {"project": project.slug}).rows
    return page(request, "project.html", {"project": project, "timeline": list(project.timeline.all()),
                                          "events": events})


@localized
def event_detail(request, slug: str):
    event = one(EventFilterSet, project_selectors.event_list(), "slug", slug)
    others = []
    if event.series_id:
        others = filtered(EventFilterSet, project_selectors.event_list(), {"series": event.series.slug}).rows
    return page(request, "event.html", {"event": event, "series_events": others})


@localized
def event_series_detail(request, slug: str):
    series = one(EventSeriesFilterSet, project_selectors.event_series_list(), "slug", slug)
    events = filtered(EventFilterSet, project_selectors.event_list(), {"series": series.slug}).rows
    return page(request, "event_series.html", {"series": series, "events": events})


# -- regions and topics -------------------------------------------------------------------------------

@localized
def region_list(request):
    regions = filtered(RegionFilterSet, catalogue_selectors.region_list(), {}).rows
    return page(request, "regions.html", {"regions": regions})


@localized
def region_detail(request, code: str):
    region = one(RegionFilterSet, catalogue_selectors.region_list(), "code", code)
    params = {"region": region.code}
    return page(request, "region.html", {
        "region": region,
        "children": filtered(RegionFilterSet, catalogue_selectors.region_list(), {"parent": region.code}).rows,
        "observations": filtered(ObservationFilterSet, indicator_selectors.observation_list(), params).rows,
        "projects": filtered(ProjectFilterSet, project_selectors.project_list(), params).rows,
        "events": filtered(EventFilterSet, project_selectors.event_list(), params).rows,
    })


@localized
def topic_detail(request, code: str):
    topic = one(TopicFilterSet, catalogue_selectors.topic_list(), "code", code)
    params = {"topic": topic.code}
    return page(request, "topic.html", {
        "topic": topic,
        "indicators": filtered(IndicatorFilterSet, indicator_selectors.indicator_list(), params).rows,
        "projects": filtered(ProjectFilterSet, project_selectors.project_list(), params).rows,
    })


@localized
def not_found(request, exception=None):
    return page(request, "404.html", {}, status=404)
