"""Projects with their status timelines, and events (with their series)."""

from __future__ import annotations

import calendar
import datetime as dt

from django.db import models
from django.db.models import F, Q

from opendata.base.models import DatePrecision, FactKind, PublicModel
from opendata.catalogue.models import Citation, Region, Topic


class Project(PublicModel):
    public_key, resource = "slug", "project"

    slug = models.SlugField(max_length=150, unique=True)
    name_zh = models.CharField(max_length=300)
    name_en = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="projects")
    regions = models.ManyToManyField(Region, related_name="projects", blank=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class ProjectStage(models.TextChoices):
    """Where a project stands: the `status` a timeline statement asserts."""

    PROPOSED = "proposed", "proposed"
    CONSTRUCTION_STARTED = "construction_started", "construction started"
    UNDER_CONSTRUCTION = "under_construction", "under construction"
    COMPLETED = "completed", "completed"
    IN_OPERATION = "in_operation", "in operation"
    # Added in v1 (issue 14): statuses the texts state that the five above could not express.
    APPROVED = "approved", "approved"  # 获批: granted by a higher authority (a national cluster)
    SELECTED = "selected", "selected"  # 入选: chosen for a national list or pilot
    TRIAL_OPERATION = "trial_operation", "trial operation"  # 试运行: running on trial, not yet in service


#: Where a stage stands in a project's life, for "the latest status" when two statements share a date.
STAGE_ORDER = {
    ProjectStage.PROPOSED: 0, ProjectStage.APPROVED: 1, ProjectStage.SELECTED: 2,
    ProjectStage.CONSTRUCTION_STARTED: 3, ProjectStage.UNDER_CONSTRUCTION: 4, ProjectStage.COMPLETED: 5,
    ProjectStage.TRIAL_OPERATION: 6, ProjectStage.IN_OPERATION: 7,
}


class StatusDatePrecision(models.TextChoices):
    """A status statement's date: a day, a month, a year, or a period of years."""

    DAY = "day", "day"
    MONTH = "month", "month"
    YEAR = "year", "year"
    PERIOD = "period", "period"


class ProjectStatus(PublicModel):
    """One dated statement of a project's status, as a document states it (its timeline entry)."""

    Status = ProjectStage
    Kind = FactKind
    Precision = StatusDatePrecision
    public_key, resource = "uid", "project_status"

    uid = models.UUIDField(unique=True, editable=False)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="timeline")
    status = models.CharField(max_length=24, choices=Status.choices)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    date_start = models.DateField()
    date_end = models.DateField()
    date_precision = models.CharField(max_length=8, choices=Precision.choices)
    date_label = models.CharField(max_length=100)
    citations = models.ManyToManyField(Citation, related_name="project_statuses")

    class Meta:
        ordering = ["project_id", "date_start", "id"]
        verbose_name_plural = "project statuses"
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ProjectStage.values), name="project_status_valid"),
            models.CheckConstraint(condition=Q(kind__in=FactKind.values), name="project_status_kind_valid"),
            models.CheckConstraint(
                condition=Q(date_precision__in=StatusDatePrecision.values), name="project_status_precision_valid"
            ),
            models.CheckConstraint(condition=Q(date_end__gte=F("date_start")), name="project_status_dates_valid"),
            models.UniqueConstraint(
                fields=["project", "status", "kind", "date_start", "date_end"],
                condition=Q(deleted_at__isnull=True),
                name="project_status_unique",
            ),
        ]
        indexes = [models.Index(fields=["status", "date_start"], name="project_status_status_date")]

    def __str__(self) -> str:
        return f"{self.project_id} {self.status} {self.date_label}"


class EventSeries(PublicModel):
    public_key, resource = "slug", "event_series"

    slug = models.SlugField(max_length=150, unique=True)
    name_zh = models.CharField(max_length=300)
    name_en = models.CharField(max_length=300)

    class Meta:
        ordering = ["slug"]
        verbose_name_plural = "event series"

    def __str__(self) -> str:
        return self.slug


class EventKind(models.TextChoices):
    MEETING = "meeting", "meeting"
    EXPO = "expo", "expo"
    SPORTS = "sports", "sports"
    FESTIVAL = "festival", "festival"
    FORUM = "forum", "forum"
    COMPETITION = "competition", "competition"
    OTHER = "other", "other"


class EventStatus(models.TextChoices):
    HELD = "held", "held"
    PLANNED = "planned", "planned"


class Event(PublicModel):
    Kind = EventKind
    Status = EventStatus
    public_key, resource = "slug", "event"

    slug = models.SlugField(max_length=150, unique=True)
    name_zh = models.CharField(max_length=300)
    name_en = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    series = models.ForeignKey(EventSeries, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    start_date = models.DateField()
    start_precision = models.CharField(max_length=8, choices=DatePrecision.choices)
    end_date = models.DateField(null=True, blank=True)
    end_precision = models.CharField(max_length=8, choices=DatePrecision.choices, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="events")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    citations = models.ManyToManyField(Citation, related_name="events")

    class Meta:
        ordering = ["start_date", "slug"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=EventKind.values), name="event_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=EventStatus.values), name="event_status_valid"),
            models.CheckConstraint(
                condition=Q(start_precision__in=DatePrecision.values), name="event_start_precision_valid"
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")), name="event_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True, end_precision="")
                | Q(end_date__isnull=False, end_precision__in=DatePrecision.values),
                name="event_end_precision_valid",
            ),
        ]
        indexes = [models.Index(fields=["kind", "start_date"], name="event_kind_start")]

    def __str__(self) -> str:
        return self.slug

    # The event's date named as a project status names its date (issue 14): the days it may cover, their
    # precision and a label as written. `start_date` of an event known to the year is 1 January: read
    # `date_label` ("2025"), never the day.
    @property
    def date_start(self) -> dt.date:
        return self.start_date

    @property
    def date_end(self) -> dt.date:
        if self.end_date is not None:
            return last_day(self.end_date, self.end_precision)
        return last_day(self.start_date, self.start_precision)

    @property
    def date_precision(self) -> str:
        if self.end_date is None:
            return self.start_precision
        if self.start_precision == self.end_precision == DatePrecision.YEAR and \
                self.start_date.year != self.end_date.year:
            return "period"
        coarse = [DatePrecision.YEAR, DatePrecision.MONTH, DatePrecision.DAY]
        return min((self.start_precision, self.end_precision), key=coarse.index)

    @property
    def start_label(self) -> str:
        return date_label(self.start_date, self.start_precision)

    @property
    def end_label(self) -> str:
        return date_label(self.end_date, self.end_precision) if self.end_date is not None else ""

    @property
    def date_label(self) -> str:
        if self.end_date is None or self.end_label == self.start_label:
            return self.start_label
        if self.date_precision == "period":
            return f"{self.start_date.year}–{self.end_date.year}"
        return f"{self.start_label}/{self.end_label}"


def date_label(day: dt.date, precision: str) -> str:
    """A date as precise as it is known: "2025", "2025-03" or "2025-03-01"."""
    if precision == DatePrecision.YEAR:
        return f"{day.year:04d}"
    if precision == DatePrecision.MONTH:
        return f"{day.year:04d}-{day.month:02d}"
    return day.isoformat()


def last_day(day: dt.date, precision: str) -> dt.date:
    """The last day a date of this precision may be."""
    if precision == DatePrecision.YEAR:
        return dt.date(day.year, 12, 31)
    if precision == DatePrecision.MONTH:
        return dt.date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])
    return day
