"""FilterSets for projects, their timeline statements and events, shared by REST and GraphQL."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from opendata.base.filters import (
    CitesSource,
    CitesSourceFilter,
    CodeListFilter,
    PeriodBoundFilter,
    PublicFilterSet,
    SearchFilter,
    Sorting,
    StrictChoiceFilter,
)
from opendata.catalogue.filters import RegionTreeFilter
from opendata.catalogue.selectors import region_with_descendants_ids
from projects.models import Event, EventSeries, Project, ProjectStatus
from projects.selectors import latest_status_subquery

SEARCH_FIELDS = ("slug", "name_zh", "name_en", "description")
STATUS_CITES = CitesSource(ProjectStatus.citations)
PROJECT_CITES = CitesSource(ProjectStatus.citations, via="project")
EVENT_CITES = CitesSource(Event.citations)


class ProjectFilterSet(PublicFilterSet):
    slug = CodeListFilter(field_name="slug", help_text="Project slugs, comma-separated.")
    topic = CodeListFilter(field_name="topic__code", help_text="Topic codes, comma-separated.")
    region = CodeListFilter(method="filter_region", help_text="Region codes; each includes its sub-regions.")
    status = StrictChoiceFilter(choices=ProjectStatus.Status, method="filter_status",
                                help_text="Projects with a timeline statement of this status.")
    status_kind = StrictChoiceFilter(choices=ProjectStatus.Kind, method="filter_status",
                                     help_text="With `status`: only statements of this kind (`actual` or `target`).")
    latest_status = StrictChoiceFilter(choices=ProjectStatus.Status, method="filter_latest_status", help_text=(
        "Projects whose latest reported (`actual`) status is this one (the project's `latest_status`)."))
    source = CitesSourceFilter(PROJECT_CITES, help_text="Projects with a statement citing these sources.")
    date_from = PeriodBoundFilter(method="filter_status",
                                  help_text="Projects with a statement dated on or after this year or date.")
    date_to = PeriodBoundFilter(method="filter_status", upper=True,
                                help_text="Projects with a statement dated on or before this year or date.")
    q = SearchFilter(fields=SEARCH_FIELDS,
                     help_text="Search slug, Chinese and English names and description: `地铁|轨道` finds either; Chinese matches as a substring, Latin words as whole words (`metro` is not Metropolitan).")

    class Meta:
        model = Project
        fields: list[str] = []

    sorting = Sorting({"slug": "slug", "name_en": "name_en", "updated_at": "updated_at"}, default=("slug",))

    def filter_region(self, qs, name, value):
        ids = region_with_descendants_ids(value)
        through = Project.regions.through
        return qs.filter(Exists(through.objects.filter(project_id=OuterRef("pk"), region_id__in=ids)))

    def filter_latest_status(self, qs, name, value):
        if not value:
            return qs
        return qs.annotate(_latest_status=latest_status_subquery()).filter(_latest_status=value)

    def filter_status(self, qs, name, value):
        """status, status_kind, date_from and date_to all constrain the same timeline statement."""
        data = self.form.cleaned_data
        if getattr(self, "_status_applied", False):
            return qs
        self._status_applied = True
        cond = Q(project_id=OuterRef("pk"), deleted_at__isnull=True)
        if data.get("status"):
            cond &= Q(status=data["status"])
        if data.get("status_kind"):
            cond &= Q(kind=data["status_kind"])
        if data.get("date_from"):
            cond &= Q(date_end__gte=data["date_from"])
        if data.get("date_to"):
            cond &= Q(date_start__lte=data["date_to"])
        return qs.filter(Exists(ProjectStatus.objects.filter(cond)))


class EventFilterSet(PublicFilterSet):
    slug = CodeListFilter(field_name="slug", help_text="Event slugs, comma-separated.")
    kind = StrictChoiceFilter(choices=Event.Kind, help_text="Kind of event.")
    series = CodeListFilter(field_name="series__slug", help_text="Event series slugs, comma-separated.")
    status = StrictChoiceFilter(choices=Event.Status, help_text="`held` or `planned`.")
    region = RegionTreeFilter(field_name="region_id", help_text="Region codes; each includes its sub-regions.")
    project = CodeListFilter(field_name="project__slug", help_text="Project slugs, comma-separated.")
    source = CitesSourceFilter(EVENT_CITES, help_text="Events citing these sources.")
    date_from = PeriodBoundFilter(method="filter_date_from",
                                  help_text="Events ending (or starting) on or after this year or date.")
    date_to = PeriodBoundFilter(field_name="start_date", lookup_expr="lte", upper=True,
                                help_text="Events starting on or before this year or date.")
    q = SearchFilter(fields=SEARCH_FIELDS,
                     help_text="Search slug, Chinese and English names and description: `地铁|轨道` finds either; Chinese matches as a substring, Latin words as whole words (`metro` is not Metropolitan).")

    class Meta:
        model = Event
        fields: list[str] = []

    sorting = Sorting({"start_date": "start_date", "slug": "slug", "updated_at": "updated_at"},
                      default=("start_date", "slug"))


    def filter_date_from(self, qs, name, value):
        return qs.filter(Q(end_date__gte=value) | Q(end_date__isnull=True, start_date__gte=value))


class ProjectStatusFilterSet(PublicFilterSet):
    """Timeline statements (a project's status at a date, stated or planned by a document)."""

    project = CodeListFilter(field_name="project__slug", help_text="Project slugs, comma-separated.")
    status = StrictChoiceFilter(choices=ProjectStatus.Status, help_text="Status stated.")
    kind = StrictChoiceFilter(choices=ProjectStatus.Kind,
                              help_text="`actual` (the document reports it) or `target` (it plans it).")
    source = CitesSourceFilter(STATUS_CITES, help_text="Statements citing these sources.")
    date_from = PeriodBoundFilter(field_name="date_end", lookup_expr="gte",
                                  help_text="Statements dated on or after this year or date.")
    date_to = PeriodBoundFilter(field_name="date_start", lookup_expr="lte", upper=True,
                                help_text="Statements dated on or before this year or date.")

    class Meta:
        model = ProjectStatus
        fields: list[str] = []

    sorting = Sorting({"date_start": "date_start", "updated_at": "updated_at"}, default=("date_start",))


class EventSeriesFilterSet(PublicFilterSet):
    slug = CodeListFilter(field_name="slug", help_text="Series slugs, comma-separated.")
    q = SearchFilter(fields=("slug", "name_zh", "name_en"), help_text="Search slug and names: `地铁|轨道` finds either; Chinese matches as a substring, Latin words as whole words (`metro` is not Metropolitan).")

    class Meta:
        model = EventSeries
        fields: list[str] = []

    sorting = Sorting({"slug": "slug", "updated_at": "updated_at"}, default=("slug",))

