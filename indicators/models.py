"""Indicators (what is measured) and observations (one value of one indicator, period and region)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from opendata.base.models import FactKind, PublicModel
from opendata.catalogue.models import Citation, Region, Topic, Unit


class Indicator(PublicModel):
    public_key, resource = "code", "indicator"

    code = models.SlugField(max_length=100, unique=True)
    name_zh = models.CharField(max_length=300)
    name_en = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="indicators")
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="indicators")

    class Meta:
        ordering = ["code"]
        constraints = [models.CheckConstraint(condition=~Q(code=""), name="indicator_code_not_empty")]

    def __str__(self) -> str:
        return self.code


class Comparator(models.TextChoices):
    """How a value is stated: 以上 → at least, 以内 → at most, 左右 → about (docs/fixtures.md)."""

    EXACT = "exact", "exact"
    AT_LEAST = "at_least", "at least"
    AT_MOST = "at_most", "at most"
    ABOUT = "about", "about"


class Measure(models.TextChoices):
    """What a value of a period states (docs/fixtures.md): a level reached (at the period's end, or in
    the year), a total over the period, an average over it (an average annual growth), or a change
    over it; `unspecified` where a multi-year statement does not say which."""

    LEVEL = "level", "level"
    TOTAL = "total", "total"
    AVERAGE = "average", "average"
    CHANGE = "change", "change"
    UNSPECIFIED = "unspecified", "unspecified"


class Assessment(models.TextChoices):
    """What the text itself says about a result and a goal ("提前完成三年攻坚目标")."""

    NONE = "", "none"
    ACHIEVED_EARLY = "achieved_early", "achieved early"


class TargetState(models.TextChoices):
    """How a target stands against its results (computed: indicators.selectors.evaluate_target)."""

    MET = "met", "met"
    NOT_MET = "not_met", "not met"
    ON_TRACK = "on_track", "on track"
    ACHIEVED_EARLY = "achieved_early", "achieved early"
    UNKNOWN = "unknown", "unknown"


class Observation(PublicModel):
    Kind = FactKind
    Comparator = Comparator
    Measure = Measure
    Assessment = Assessment
    public_key, resource = "uid", "observation"

    uid = models.UUIDField(unique=True, editable=False)
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="observations")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="observations")
    period_start = models.DateField()
    period_end = models.DateField()
    period_label = models.CharField(max_length=200)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    comparator = models.CharField(max_length=8, choices=Comparator.choices, default=Comparator.EXACT)
    value = models.DecimalField(max_digits=24, decimal_places=6)
    # The number as the quote writes it when it is written in Chinese numerals ("千万", "万" before 亿元).
    value_as_written = models.CharField(max_length=20, blank=True)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="observations")
    measure = models.CharField(max_length=12, choices=Measure.choices, default=Measure.LEVEL)
    # Sources that disagree: every figure is kept, each with its citations; one is preferred (mrv and
    # the targets' comparison read it), the note says why.
    disputed = models.BooleanField(default=False)
    preferred = models.BooleanField(default=True)
    dispute_note = models.TextField(blank=True)
    # The text's own statement that this result achieved a goal early, and the goal's period.
    assessment = models.CharField(max_length=16, choices=Assessment.choices, blank=True, default="")
    assessment_period_start = models.DateField(null=True, blank=True)
    assessment_period_end = models.DateField(null=True, blank=True)
    citations = models.ManyToManyField(Citation, related_name="observations")

    class Meta:
        ordering = ["indicator_id", "period_start", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=FactKind.values), name="observation_kind_valid"),
            models.CheckConstraint(condition=Q(comparator__in=Comparator.values), name="observation_comparator_valid"),
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="observation_period_valid"),
            models.CheckConstraint(condition=Q(value__isnull=False), name="observation_value_present"),
            models.CheckConstraint(condition=Q(measure__in=Measure.values), name="observation_measure_valid"),
            models.CheckConstraint(condition=Q(assessment__in=Assessment.values), name="observation_assessment_valid"),
            models.CheckConstraint(condition=Q(preferred=True) | Q(disputed=True),
                                   name="observation_alternative_disputed"),
            # One preferred figure per fact; the figures of other sources that disagree with it are kept
            # beside it (preferred=False, disputed), one per value.
            models.UniqueConstraint(
                fields=["indicator", "region", "period_start", "period_end", "kind", "comparator"],
                condition=Q(deleted_at__isnull=True, preferred=True),
                name="observation_unique_fact",
            ),
            models.UniqueConstraint(
                fields=["indicator", "region", "period_start", "period_end", "kind", "comparator", "value"],
                condition=Q(deleted_at__isnull=True, preferred=False),
                name="observation_unique_alternative",
            ),
        ]
        indexes = [
            models.Index(fields=["indicator", "kind", "period_start"], name="obs_indicator_kind_period"),
            models.Index(fields=["region", "period_start"], name="obs_region_period"),
            models.Index(fields=["period_start", "period_end"], name="obs_period"),
            models.Index(fields=["updated_at", "id"], name="obs_updated"),
            # Keyset pagination (REST `ordering`): each sort order ends in id, so a page after a cursor is
            # one index range scan, however deep.
            models.Index(fields=["indicator", "period_start", "id"], name="obs_keyset_indicator_period"),
            models.Index(fields=["period_start", "id"], name="obs_keyset_period"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.period_label} {self.kind} {self.value}"
