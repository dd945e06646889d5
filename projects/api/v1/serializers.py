"""v1 representations of projects (with their timelines), timeline statements, events and event series."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from opendata.base.api.serializers import DynamicSerializer, LinkField, TimestampsMixin
from opendata.base.models import FactKind
from projects.selectors import latest_status
from opendata.catalogue.api.v1.serializers import (
    RegionSummarySerializer,
    TopicSummarySerializer,
    citations_expanded,
    citations_field,
)


class ProjectSummarySerializer(serializers.Serializer):
    slug = serializers.CharField(read_only=True)
    url = LinkField("project-detail", "slug")
    name_zh = serializers.CharField(read_only=True)
    name_en = serializers.CharField(read_only=True)


class EventSeriesSummarySerializer(serializers.Serializer):
    slug = serializers.CharField(read_only=True)
    url = LinkField("event-series-detail", "slug")
    name_zh = serializers.CharField(read_only=True)
    name_en = serializers.CharField(read_only=True)


class ProjectStatusSerializer(TimestampsMixin, DynamicSerializer):
    """One dated statement of a project's status (planned, started, under construction, completed, in operation), with its citations."""

    uid = serializers.UUIDField(read_only=True, help_text="Public identifier of the statement.")
    url = LinkField("project-status-detail", "uid")
    project = serializers.CharField(source="project.slug", read_only=True,
                                    help_text="Project slug; the project object with `expand=project`.")
    status = serializers.CharField(read_only=True, help_text=(
        "proposed, construction_started, under_construction, completed, in_operation, approved (获批), "
        "selected (入选) or trial_operation (试运行)."))
    kind = serializers.CharField(read_only=True, help_text="`actual` (reported) or `target` (planned).")
    date_start = serializers.DateField(read_only=True)
    date_end = serializers.DateField(read_only=True)
    date_precision = serializers.CharField(read_only=True, help_text="day, month, year or period.")
    date_label = serializers.CharField(read_only=True, help_text="The date as written, e.g. `2024` or `2022/2026`.")
    citations = citations_field()

    expandable = {
        "project": ("project", lambda: ProjectSummarySerializer(read_only=True)),
        "source": ("citations", citations_expanded),
    }


class TimelineEntrySerializer(ProjectStatusSerializer):
    """A statement inside its project: without the project again."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.pop("project", None)


#: A timeline entry or null, written so that OpenAPI 3.0 validators accept the null (a `nullable` beside an
#: `allOf` is not read by all of them).
NULLABLE_TIMELINE_ENTRY = {"oneOf": [{"$ref": "#/components/schemas/TimelineEntry"},
                                     {"type": "object", "nullable": True, "enum": [None]}]}

STAMPS = {"created_at": "2025-03-01T02:00:00Z", "updated_at": "2025-03-01T02:00:00Z", "deleted_at": None}
CITATION = {"source": "2025-work-report-plan", "source_url": "http://127.0.0.1:8000/api/v1/sources/2025-work-report-plan/",
            "quote": "地铁6号线开工建设", "offset": 120,
            "text_url": "http://127.0.0.1:8000/api/v1/sources/2025-work-report-plan/text/#char=120,129",
            "garbled": False}


@extend_schema_serializer(examples=[OpenApiExample("A metro line", response_only=True, value={
    "slug": "changchun-metro-line-6", "url": "http://127.0.0.1:8000/api/v1/projects/changchun-metro-line-6/",
    "name_zh": "长春地铁6号线", "name_en": "Changchun Metro Line 6", "description": "", "topic": "transport",
    "regions": ["changchun"],
    "timeline": [{"uid": "08b71c42-458d-5e9f-8fe9-9bf5e0032462",
                  "url": "http://127.0.0.1:8000/api/v1/project-statuses/08b71c42-458d-5e9f-8fe9-9bf5e0032462/",
                  "status": "construction_started", "kind": "target", "date_start": "2025-01-01",
                  "date_end": "2025-12-31", "date_precision": "year", "date_label": "2025", "citations": [CITATION],
                  **STAMPS}],
    "timeline_url": "http://127.0.0.1:8000/api/v1/projects/changchun-metro-line-6/timeline/",
    "events_url": "http://127.0.0.1:8000/api/v1/projects/changchun-metro-line-6/events/", **STAMPS})])
class ProjectSerializer(TimestampsMixin, DynamicSerializer):
    """A named undertaking (a road, plant, park, metro line, science city) with its status timeline."""

    slug = serializers.CharField(read_only=True, help_text="Public identifier, e.g. `changchun-metro-line-6`.")
    url = LinkField("project-detail", "slug")
    name_zh = serializers.CharField(read_only=True)
    name_en = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    topic = serializers.CharField(source="topic.code", read_only=True,
                                  help_text="Topic code; the topic object with `expand=topic`.")
    regions = serializers.SerializerMethodField(help_text="Region codes; region objects with `expand=regions`.")
    timeline = TimelineEntrySerializer(many=True, read_only=True, help_text=(
        "The project's status statements in date order, each with its citations."))
    latest_status = serializers.SerializerMethodField(allow_null=True, help_text=(
        "The project's latest reported (`actual`) status statement: the one whose date ends last (on the same "
        "date, the later stage); null when no document reports a status yet. Filter with `latest_status`."))
    latest_planned_status = serializers.SerializerMethodField(allow_null=True, help_text=(
        "The project's latest planned (`target`) status statement, read the same way; null without a plan."))
    timeline_url = LinkField("project-timeline", "slug")
    events_url = LinkField("project-events", "slug", help_text="Events of this project.")

    expandable = {
        "topic": ("topic", lambda: TopicSummarySerializer(read_only=True)),
        "regions": ("regions", lambda: RegionSummarySerializer(many=True, read_only=True)),
        "source": ("timeline", lambda: TimelineEntrySerializer(many=True, read_only=True, expand={"source"})),
    }


    @extend_schema_field({"type": "array", "items": {"type": "string"}, "example": ["changchun"]})
    def get_regions(self, obj) -> list[str]:
        return [r.code for r in obj.regions.all()]  # prefetched by projects.selectors.project_list

    def _latest(self, obj, kind):
        row = latest_status(obj.timeline.all(), kind=kind)  # prefetched by projects.selectors.project_list
        if row is None:
            return None
        context = {k: v for k, v in self.context.items() if k not in ("fields", "expand")}  # they name our fields
        return TimelineEntrySerializer(row, context=context).data

    @extend_schema_field(NULLABLE_TIMELINE_ENTRY)
    def get_latest_status(self, obj):
        return self._latest(obj, FactKind.ACTUAL)

    @extend_schema_field(NULLABLE_TIMELINE_ENTRY)
    def get_latest_planned_status(self, obj):
        return self._latest(obj, FactKind.TARGET)


class EventSeriesSerializer(TimestampsMixin, DynamicSerializer):
    """A recurring event (an annual expo, a marathon): one event per occurrence."""

    slug = serializers.CharField(read_only=True)
    url = LinkField("event-series-detail", "slug")
    name_zh = serializers.CharField(read_only=True)
    name_en = serializers.CharField(read_only=True)
    events_url = LinkField("event-series-events", "slug", help_text="Events of this series.")


@extend_schema_serializer(examples=[OpenApiExample("An expo", response_only=True, value={
    "slug": "changchun-optoelectronics-expo-2025",
    "url": "http://127.0.0.1:8000/api/v1/events/changchun-optoelectronics-expo-2025/",
    "name_zh": "光博会", "name_en": "China (Changchun) International Optoelectronic Expo 2025", "description": "",
    "kind": "expo", "series": "china-changchun-optoelectronics-expo", "start_date": "2025-01-01",
    "start_precision": "year", "end_date": None, "end_precision": "", "status": "planned", "region": "changchun",
    "project": None, "citations": [{**CITATION, "quote": "光博会", "offset": 300,
                                    "text_url": CITATION["text_url"].replace("120,129", "300,303")}], **STAMPS})])
class EventSerializer(TimestampsMixin, DynamicSerializer):
    """A named occurrence (a meeting, expo, sports event, festival) with its dates, held or planned, and its citations."""

    slug = serializers.CharField(read_only=True, help_text="Public identifier.")
    url = LinkField("event-detail", "slug")
    name_zh = serializers.CharField(read_only=True)
    name_en = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    kind = serializers.CharField(read_only=True, help_text="meeting, expo, sports, festival, forum, competition or other.")
    series = serializers.CharField(source="series.slug", read_only=True, allow_null=True, default=None,
                                   help_text="Series slug; the series object with `expand=series`.")
    start_date = serializers.DateField(read_only=True, help_text=(
        "Deprecated name (kept in v1): the first day the event may start; read `date_start` with "
        "`date_precision` and `date_label` (an event known to the year starts on 1 January here)."))
    start_precision = serializers.CharField(read_only=True, help_text=(
        "Deprecated name (kept in v1): day, month or year: what the text states of the start."))
    end_date = serializers.DateField(read_only=True, allow_null=True, help_text=(
        "Deprecated name (kept in v1): the end as stated (its first day); read `date_end`."))
    end_precision = serializers.CharField(read_only=True, help_text="Deprecated name (kept in v1): the end's precision.")
    date_start = serializers.DateField(read_only=True, help_text=(
        "First day the event may cover (as `date_start` of a project status)."))
    date_end = serializers.DateField(read_only=True, help_text=(
        "Last day the event may cover: the end of its end date, or of its start date when no end is stated, "
        "at their precision (an event of \"2025\" covers 2025-01-01 to 2025-12-31)."))
    date_precision = serializers.CharField(read_only=True, help_text=(
        "day, month, year, or period (years): the precision of the event's dates, the coarser of start and end."))
    date_label = serializers.CharField(read_only=True, help_text=(
        "The event's date as precise as it is known: `2025`, `2025-03`, `2025-08-20/2025-08-24`, `2022–2026`. "
        "Show this, not `date_start`, when `date_precision` is not `day`."))
    start_label = serializers.CharField(read_only=True, help_text="The start as precise as it is known (`2025`).")
    end_label = serializers.CharField(read_only=True, help_text="The end as precise as it is known; empty without one.")
    status = serializers.CharField(read_only=True, help_text="`held` or `planned`.")
    region = serializers.CharField(source="region.code", read_only=True,
                                   help_text="Region code; the region object with `expand=region`.")
    project = serializers.CharField(source="project.slug", read_only=True, allow_null=True, default=None,
                                    help_text="Project slug; the project object with `expand=project`.")
    citations = citations_field()

    expandable = {
        "series": ("series", lambda: EventSeriesSummarySerializer(read_only=True, allow_null=True)),
        "region": ("region", lambda: RegionSummarySerializer(read_only=True)),
        "project": ("project", lambda: ProjectSummarySerializer(read_only=True, allow_null=True)),
        "source": ("citations", citations_expanded),
    }
