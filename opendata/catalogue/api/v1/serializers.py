"""v1 representations of the catalogue (sources, regions, topics, units) and of citations."""

from __future__ import annotations

from rest_framework import serializers

from opendata.base.api.serializers import (
    DecimalStringField,
    DynamicSerializer,
    LinkField,
    QuoteLinkField,
    TimestampsMixin,
)

# -- summaries (what `expand=` embeds) ------------------------------------------------------------

class SourceSummarySerializer(serializers.Serializer):
    slug = serializers.CharField(read_only=True)
    url = LinkField("source-detail", "slug")
    title_zh = serializers.CharField(read_only=True)
    title_en = serializers.CharField(read_only=True)
    date = serializers.DateField(read_only=True)
    date_precision = serializers.CharField(read_only=True)


class RegionSummarySerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    url = LinkField("region-detail", "code")
    name_zh = serializers.CharField(read_only=True)
    name_en = serializers.CharField(read_only=True)
    kind = serializers.CharField(read_only=True)


class TopicSummarySerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    url = LinkField("topic-detail", "code")
    name_zh = serializers.CharField(read_only=True)
    name_en = serializers.CharField(read_only=True)


class UnitSummarySerializer(serializers.Serializer):
    symbol = serializers.CharField(read_only=True)
    url = LinkField("unit-detail", "symbol")
    name_en = serializers.CharField(read_only=True)
    base_unit = serializers.CharField(read_only=True)
    factor = DecimalStringField()


# -- citations: the provenance every fact carries ------------------------------------------------

class CitationSerializer(DynamicSerializer):
    """A verbatim quote of a source document, at its character offset: where a fact is stated."""

    source = serializers.CharField(source="source.slug", read_only=True, help_text=(
        "Slug of the source document; the source object with `expand=source`."))
    source_url = LinkField("source-detail", "source.slug", help_text="The source document in this API.")
    quote = serializers.CharField(read_only=True, help_text="Verbatim quote of the source text.")
    offset = serializers.IntegerField(read_only=True, help_text=(
        "Index of the quote's first character in the source text, counted in Unicode characters."))
    text_url = QuoteLinkField("source-text", "source.slug", help_text=(
        "The source's plain text, with an RFC 5147 fragment (`#char=start,end`) locating the quote."))
    garbled = serializers.BooleanField(read_only=True, help_text=(
        "The quoted clause reads correctly but stands in a column-interleaved (garbled) passage."))

    expandable = {"source": ("source", lambda: SourceSummarySerializer(read_only=True))}


def citations_field():
    return CitationSerializer(many=True, read_only=True, help_text="Where the documents state this fact.")


def citations_expanded():
    return CitationSerializer(many=True, read_only=True, expand={"source"},
                              help_text="Where the documents state this fact.")


# -- full resources ------------------------------------------------------------------------------

class SourcePeriodSerializer(serializers.Serializer):
    start = serializers.DateField(read_only=True)
    end = serializers.DateField(read_only=True)
    label = serializers.CharField(read_only=True)


class SourceSerializer(TimestampsMixin, DynamicSerializer):
    """A source document (a government work report or plan), with the periods it speaks of; its verbatim text is at `text_url`."""

    slug = serializers.CharField(read_only=True, help_text="Public identifier of the document.")
    url = LinkField("source-detail", "slug")
    title_zh = serializers.CharField(read_only=True)
    title_en = serializers.CharField(read_only=True)
    publisher_zh = serializers.CharField(read_only=True)
    publisher_en = serializers.CharField(read_only=True)
    date = serializers.DateField(read_only=True, help_text="Date of the document (see date_precision).")
    date_precision = serializers.CharField(read_only=True, help_text="`day`, `month` or `year`.")
    date_note = serializers.CharField(read_only=True)
    file_name = serializers.CharField(read_only=True)
    sha256 = serializers.CharField(read_only=True, help_text="SHA-256 of the text, as published to us.")
    periods = SourcePeriodSerializer(many=True, read_only=True, help_text="Periods the document speaks of.")
    text_url = LinkField("source-text", "slug", help_text="The verbatim text (text/plain; citations' offsets index it).")
    observations_url = LinkField("source-observations", "slug", help_text="Observations citing this source.")
    project_statuses_url = LinkField("source-project-statuses", "slug",
                                     help_text="Project timeline statements citing this source.")
    events_url = LinkField("source-events", "slug", help_text="Events citing this source.")
    text = serializers.CharField(read_only=True, required=False,
                                 help_text="The verbatim text; only with `expand=text` (or `fields=text`).")

    expandable = {"text": ("text", lambda: serializers.CharField(read_only=True))}
    optional_fields = ("text",)


class RegionSerializer(TimestampsMixin, DynamicSerializer):
    """The city, or a district, county-level city, county, development zone or national platform within it."""

    code = serializers.CharField(read_only=True, help_text="Public identifier, e.g. `changchun`.")
    url = LinkField("region-detail", "code")
    name_zh = serializers.CharField(read_only=True)
    name_en = serializers.CharField(read_only=True)
    kind = serializers.CharField(read_only=True, help_text="province, city, district, county_city, county, "
                                                           "development_zone, national_platform or other.")
    parent = serializers.CharField(source="parent.code", read_only=True, allow_null=True, default=None,
                                   help_text="Code of the enclosing region; the object with `expand=parent`.")
    children_url = LinkField("region-children", "code", help_text="Regions directly below this one.")

    expandable = {"parent": ("parent", lambda: RegionSummarySerializer(read_only=True, allow_null=True))}


class TopicSerializer(TimestampsMixin, DynamicSerializer):
    """A subject that groups indicators and projects."""

    code = serializers.CharField(read_only=True, help_text="Public identifier, e.g. `agriculture`.")
    url = LinkField("topic-detail", "code")
    name_zh = serializers.CharField(read_only=True)
    name_en = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)


class UnitSerializer(TimestampsMixin, DynamicSerializer):
    """A unit as written in the documents, with the factor that converts a value to its base unit."""

    symbol = serializers.CharField(read_only=True, help_text="The unit as written, e.g. `亿元` (percent-encode in URLs).")
    url = LinkField("unit-detail", "symbol")
    name_en = serializers.CharField(read_only=True, help_text="Canonical English name.")
    base_unit = serializers.CharField(read_only=True)
    factor = DecimalStringField(help_text="value × factor = value in base_unit.")
