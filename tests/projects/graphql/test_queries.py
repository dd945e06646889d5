"""GraphQL root fields of projects, timeline statements, events and event series."""

import datetime as dt

import pytest
from graphql_relay import to_global_id

from opendata.catalogue.models import Region
from projects.models import Event, ProjectStatus
from tests.factories import (
    CitationFactory,
    EventFactory,
    EventSeriesFactory,
    ProjectFactory,
    ProjectStatusFactory,
    RegionFactory,
    SourceFactory,
)
from tests.opendata.base.graphql.helpers import gql, gql_errors, keys, nodes

pytestmark = pytest.mark.django_db


@pytest.fixture
def data():
    city = RegionFactory(code="changchun")
    district = RegionFactory(code="lvyuan", name_zh="绿园区", name_en="Lvyuan", kind=Region.Kind.DISTRICT, parent=city)
    source = SourceFactory(slug="report-2025")
    cite = CitationFactory(source=source, quote="地铁6号线开工建设")
    metro = ProjectFactory(slug="metro-line-6", name_zh="地铁6号线", name_en="Metro Line 6")
    metro.regions.add(city)
    plant = ProjectFactory(slug="nev-plant", name_zh="新能源汽车产业园", name_en="NEV industrial park")
    plant.regions.add(district)
    started = ProjectStatusFactory(project=metro, status=ProjectStatus.Status.CONSTRUCTION_STARTED,
                                   date_start=dt.date(2024, 3, 1), date_end=dt.date(2024, 3, 31))
    started.citations.add(cite)
    ProjectStatusFactory(project=metro, status=ProjectStatus.Status.IN_OPERATION, kind=ProjectStatus.Kind.TARGET,
                         date_start=dt.date(2027, 1, 1), date_end=dt.date(2027, 12, 31))
    ProjectStatusFactory(project=plant, status=ProjectStatus.Status.UNDER_CONSTRUCTION)
    series = EventSeriesFactory(slug="optoelectronics-expo")
    expo = EventFactory(slug="expo-2024", series=series, region=district, project=plant,
                        start_date=dt.date(2024, 8, 1))
    expo.citations.add(cite)
    EventFactory(slug="marathon-2025", kind=Event.Kind.SPORTS, status=Event.Status.PLANNED, region=city,
                 name_zh="长春马拉松", name_en="Changchun Marathon", start_date=dt.date(2025, 5, 1))
    return {"metro": metro, "started": started}


def test_projects_with_timeline_citations_and_events(client, data):
    result = gql(client, """{ projects(first: 10) { nodes { slug topic { code } regions { code }
        timeline(first: 10) { nodes { status kind dateStart citations(first: 5) { nodes { quote source { slug } } } } }
        events(first: 10) { nodes { slug series { slug } } } } } }""")
    metro, plant = nodes(result["projects"])
    assert metro["slug"] == "metro-line-6" and metro["regions"] == [{"code": "changchun"}]
    assert [s["status"] for s in nodes(metro["timeline"])] == ["construction_started", "in_operation"]
    assert nodes(nodes(metro["timeline"])[0]["citations"]) == [{"quote": "地铁6号线开工建设",
                                                                "source": {"slug": "report-2025"}}]
    assert nodes(plant["events"]) == [{"slug": "expo-2024", "series": {"slug": "optoelectronics-expo"}}]


def test_lookups(client, data):
    uid = str(data["started"].uid)
    result = gql(client, f"""{{ project(slug: "metro-line-6") {{ nameZh }} event(slug: "expo-2024") {{ kind
        region {{ code }} project {{ slug }} }} series(slug: "optoelectronics-expo") {{ events {{ nodes {{ slug }} }} }}
        projectStatus(uid: "{uid}") {{ status project {{ slug }} }} none: project(slug: "nope") {{ slug }} }}""")
    assert result["project"] == {"nameZh": "地铁6号线"}
    assert result["event"] == {"kind": "expo", "region": {"code": "lvyuan"}, "project": {"slug": "nev-plant"}}
    assert keys(result["series"]["events"], "slug") == ["expo-2024"]
    assert result["projectStatus"] == {"status": "construction_started", "project": {"slug": "metro-line-6"}}
    assert result["none"] is None


def test_node(client, data):
    result = gql(client, "query($id: ID!) { node(id: $id) { ... on Project { slug } } }",
                 {"id": to_global_id("Project", "metro-line-6")})
    assert result["node"] == {"slug": "metro-line-6"}


def test_project_filters(client, data):
    def slugs(arguments):
        return keys(gql(client, f"{{ projects({arguments}) {{ nodes {{ slug }} }} }}")["projects"], "slug")

    assert slugs('q: "汽车"') == ["nev-plant"]
    assert slugs('region: "changchun"') == ["metro-line-6", "nev-plant"]  # with its sub-regions
    assert slugs('region: "lvyuan"') == ["nev-plant"]
    assert slugs('status: in_operation, statusKind: target') == ["metro-line-6"]
    assert slugs('source: "report-2025"') == ["metro-line-6"]
    assert slugs('dateFrom: "2027"') == ["metro-line-6"]
    errors, _ = gql_errors(client, '{ projects(status: finished) { nodes { slug } } }')
    assert "ProjectStage" in errors[0]["message"]


def test_event_filters(client, data):
    def slugs(arguments):
        return keys(gql(client, f"{{ events({arguments}) {{ nodes {{ slug }} }} }}")["events"], "slug")

    assert slugs('kind: sports') == ["marathon-2025"]
    assert slugs('status: held') == ["expo-2024"]
    assert slugs('series: "optoelectronics-expo"') == ["expo-2024"]
    assert slugs('region: "changchun"') == ["expo-2024", "marathon-2025"]
    assert slugs('q: "马拉松"') == ["marathon-2025"]
    assert slugs('dateFrom: "2025"') == ["marathon-2025"]
    assert slugs('orderBy: ["-start_date"]') == ["marathon-2025", "expo-2024"]
    errors, _ = gql_errors(client, '{ events(kind: party) { nodes { slug } } }')
    assert "EventKind" in errors[0]["message"]


def test_project_statuses_and_filters(client, data):
    result = gql(client, '{ projectStatuses(kind: target) { nodes { status project { slug } } } }')
    assert nodes(result["projectStatuses"]) == [{"status": "in_operation", "project": {"slug": "metro-line-6"}}]
    result = gql(client, '{ project(slug: "metro-line-6") { timeline(kind: actual) { nodes { status } } } }')
    assert nodes(result["project"]["timeline"]) == [{"status": "construction_started"}]


def test_event_series(client, data):
    result = gql(client, '{ eventSeries(q: "optoelectronics") { nodes { slug events { nodes { slug } } } } }')
    assert nodes(result["eventSeries"]) == [{"slug": "optoelectronics-expo", "events": {"nodes": [{"slug": "expo-2024"}]}}]
