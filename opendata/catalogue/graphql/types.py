"""GraphQL types of the catalogue: sources (with their periods, citations and the facts citing
them), citations, regions, topics and units."""

from __future__ import annotations

import graphene
from graphene_django import DjangoObjectType

from opendata.base.api.serializers import link
from opendata.base.graphql.fields import Join, PublicConnectionField, PublicObjectType, RelatedList
from opendata.base.models import TIMESTAMPS
from opendata.catalogue import selectors
from opendata.catalogue.filters import CITATION_SORTING, RegionFilterSet
from opendata.catalogue.models import Citation, Region, Source, SourcePeriod, Topic, Unit


class TopicType(PublicObjectType):
    class Meta:
        model = Topic
        name = "Topic"
        description = "A policy area (agriculture, transport...) grouping indicators and projects."
        fields = ("code", "name_zh", "name_en", "description", *TIMESTAMPS)

    @classmethod
    def rows(cls):
        return selectors.topic_list()


class RegionType(PublicObjectType):
    class Meta:
        model = Region
        name = "Region"
        description = "The city, its districts, counties, development zones. Region filters include sub-regions."
        fields = ("code", "name_zh", "name_en", "kind", *TIMESTAMPS)

    parent = Join("opendata.catalogue.graphql.types.RegionType", description="The region this one belongs to.")
    children = PublicConnectionField("opendata.catalogue.graphql.types.RegionType", relation="children",
                                     filterset_class=RegionFilterSet, queryset=selectors.region_list,
                                     description="Regions directly below this one.")

    @classmethod
    def rows(cls):
        return selectors.region_list()


class UnitType(PublicObjectType):
    class Meta:
        model = Unit
        name = "Unit"
        description = "A unit as written in the documents, with the factor converting it to its base unit."
        fields = ("symbol", "name_en", "base_unit", "factor", *TIMESTAMPS)


    @classmethod
    def rows(cls):
        return selectors.unit_list(include_deleted=True)


class SourcePeriodType(DjangoObjectType):
    class Meta:
        model = SourcePeriod
        name = "SourcePeriod"
        description = "A period a source speaks of."
        fields = ("start", "end", "label")

class SourceType(PublicObjectType):
    class Meta:
        model = Source
        name = "Source"
        description = "A document every fact is quoted from (a government work report, a plan)."
        fields = ("slug", "title_zh", "title_en", "publisher_zh", "publisher_en", "date", "date_precision",
                  "date_note", "file_name", "text", "sha256", *TIMESTAMPS)


    periods = RelatedList(SourcePeriodType, relation="periods", queryset=selectors.source_period_list,
                          description="The periods the source speaks of.")
    citations = PublicConnectionField("opendata.catalogue.graphql.types.CitationType", relation="citations",
                                      queryset=selectors.citation_queryset, sorting=CITATION_SORTING, default_ordering=("offset",),
                                      description="The quotes of this source that facts cite.")

    @classmethod
    def rows(cls):
        return selectors.source_list()  # the text is loaded when selected (Plan.shape)


class CitationType(PublicObjectType):
    class Meta:
        model = Citation
        name = "Citation"
        description = "A verbatim quote of a source, at a character offset of the source's text."
        fields = ("uid", "quote", "offset", "garbled", *TIMESTAMPS)


    source = Join(SourceType, required=True, description="The document quoted.")
    end = graphene.Int(required=True, description="Offset just past the quote's last character (Unicode characters).")
    text_url = graphene.String(required=True, description=(
        "The source's plain text with an RFC 5147 fragment (`#char=start,end`) locating the quote, as REST's "
        "`text_url`; a browser following it is shown the source's page with the quote marked."))

    @staticmethod
    def resolve_text_url(citation, info):
        return link(info.context, "source-text", citation.source.slug, fragment=f"char={citation.offset},{citation.end}")

    @classmethod
    def rows(cls):
        return selectors.citation_queryset()
