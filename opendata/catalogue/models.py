"""The catalogue: sources and their citations, regions, topics and units, which every fact refers to."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from opendata.base.models import DatePrecision, PublicModel


class Topic(PublicModel):
    public_key, resource = "code", "topic"

    code = models.SlugField(max_length=64, unique=True)
    name_zh = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name_en} ({self.name_zh})"


class RegionKind(models.TextChoices):
    PROVINCE = "province", "province"
    CITY = "city", "prefecture-level city"
    DISTRICT = "district", "urban district"
    COUNTY_CITY = "county_city", "county-level city"
    COUNTY = "county", "county"
    DEVELOPMENT_ZONE = "development_zone", "development zone"
    NATIONAL_PLATFORM = "national_platform", "national platform"
    OTHER = "other", "other"


class Region(PublicModel):
    Kind = RegionKind
    public_key, resource = "code", "region"

    code = models.SlugField(max_length=64, unique=True)
    name_zh = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=RegionKind.values), name="region_kind_valid"),
            models.CheckConstraint(condition=~Q(parent=F("id")), name="region_not_own_parent"),
        ]

    def __str__(self) -> str:
        return f"{self.name_en} ({self.name_zh})"


class Unit(PublicModel):
    """A unit as written in the documents, with the factor that converts it to its base unit."""

    public_key, resource = "symbol", "unit"

    symbol = models.CharField(max_length=32, unique=True, help_text="As written, e.g. 亿元")
    name_en = models.CharField(max_length=100, help_text="Canonical English name, e.g. hundred million yuan")
    base_unit = models.CharField(max_length=32, help_text="e.g. CNY, persons, kg")
    factor = models.DecimalField(max_digits=30, decimal_places=6, help_text="value × factor = value in base unit")

    class Meta:
        ordering = ["symbol"]
        constraints = [models.CheckConstraint(condition=Q(factor__gt=0), name="unit_factor_positive")]

    def __str__(self) -> str:
        return self.symbol


class Source(PublicModel):
    public_key, resource = "slug", "source"

    slug = models.SlugField(max_length=100, unique=True)
    title_zh = models.CharField(max_length=500)
    title_en = models.CharField(max_length=500)
    publisher_zh = models.CharField(max_length=200, blank=True)
    publisher_en = models.CharField(max_length=200, blank=True)
    date = models.DateField()
    date_precision = models.CharField(max_length=8, choices=DatePrecision.choices, default=DatePrecision.DAY)
    date_note = models.CharField(max_length=500, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["date", "slug"]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_precision__in=DatePrecision.values), name="source_date_precision_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.slug


class SourcePeriod(models.Model):
    """A period a source speaks of: every observation citing the source lies within one."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="periods")
    start = models.DateField()
    end = models.DateField()
    label = models.CharField(max_length=200)

    class Meta:
        ordering = ["start", "end"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="source_period_end_after_start"),
            models.UniqueConstraint(fields=["source", "start", "end"], name="source_period_unique"),
        ]

    def __str__(self) -> str:
        return self.label


class Citation(PublicModel):
    """A verbatim quote of a source, at a character offset of the source's text."""

    public_key, resource = "uid", "citation"

    uid = models.UUIDField(unique=True, editable=False)
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="citations")
    quote = models.TextField()
    offset = models.PositiveIntegerField(help_text="Index of the quote's first character in the source text")
    garbled = models.BooleanField(
        default=False, help_text="The quoted clause reads correctly but sits in a garbled (interleaved) passage"
    )

    class Meta:
        ordering = ["source_id", "offset"]
        constraints = [
            models.UniqueConstraint(fields=["source", "offset", "quote"], name="citation_unique"),
            models.CheckConstraint(condition=Q(offset__gte=0), name="citation_offset_not_negative"),
            models.CheckConstraint(condition=~Q(quote=""), name="citation_quote_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id}@{self.offset}: {self.quote[:40]}"

    @property
    def end(self) -> int:
        return self.offset + len(self.quote)
