"""v1 views of the catalogue: sources (with their text), regions (with their children), topics, units; each
collection written through the catalogue's services (opendata.base.api.writes)."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer

from opendata.base.api.views import Parent, PublicViewSet
from opendata.base.api.writes import WritableMixin
from opendata.catalogue import selectors, services
from opendata.catalogue.api.v1.serializers import RegionSerializer, SourceSerializer, TopicSerializer, UnitSerializer
from opendata.catalogue.filters import RegionFilterSet, SourceFilterSet, TopicFilterSet, UnitFilterSet
from opendata.catalogue.models import Region, Source, Topic, Unit


class PlainTextRenderer(BaseRenderer):
    media_type = "text/plain"
    format = "txt"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data.encode() if isinstance(data, str) else data


@extend_schema_view(
    list=extend_schema(summary="List sources", description="The documents every fact is quoted from."),
    retrieve=extend_schema(summary="Get a source", description="One document by slug; `expand=text` embeds its text."),
)
class SourceViewSet(WritableMixin, PublicViewSet):
    entity, label, export_name = "source", "source", "sources"
    writes, writer, resource_name = services.SOURCE_WRITES, services.SOURCE, "sources"
    selector = staticmethod(lambda: selectors.source_list())
    serializer_class = SourceSerializer
    filterset_class = SourceFilterSet
    cache_models = (Source,)

    def get_queryset(self):
        with_text = "text" in getattr(self, "expand", ()) or "text" in (getattr(self, "selected_fields", None) or ())
        return selectors.source_list(with_text=with_text)

    @extend_schema(
        summary="Get a source's text", operation_id="source_text_retrieve",
        description="The verbatim text of the document as text/plain (UTF-8). Citation offsets count Unicode "
                    "characters of this text; citation `text_url`s locate the quote with `#char=start,end`. "
                    "A browser opening it (`Accept` starting with `text/html`) is sent to the source's page, "
                    "which marks and scrolls to the `#char=` span (the fragment follows the redirect); "
                    "`?format=txt` gives it the plain text.",
        responses={(200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="The text."),
                   303: OpenApiResponse(description="To a browser: the source's page (Location).")},
    )
    @action(detail=True, url_path="text", renderer_classes=[PlainTextRenderer])
    def text(self, request, *args, **kwargs):
        self.expand = {"text"}
        source = self.get_object()
        page = source_page(request, source.slug)
        if page:
            response = HttpResponse(status=303)
            response["Location"] = page
        else:
            response = HttpResponse(source.text, content_type="text/plain; charset=utf-8")
        patch_vary_headers(response, ("Accept",))
        return response


def source_page(request, slug: str) -> str | None:
    """The source's page (opendata/pages/, by its route name) when a browser navigates to its text: its
    first choice is HTML and it did not ask for `?format=txt`. A browser keeps the `#char=` fragment
    across the redirect, and the page marks that span."""
    if "format" in request.query_params or not request.META.get("HTTP_ACCEPT", "").startswith("text/html"):
        return None
    try:
        return reverse("pages:source", kwargs={"slug": slug})
    except NoReverseMatch:
        return None


@extend_schema_view(
    list=extend_schema(summary="List regions", description="The city, its districts, counties and zones. "
                                                           "`region` filters elsewhere include sub-regions."),
    retrieve=extend_schema(summary="Get a region"),
)
class RegionViewSet(WritableMixin, PublicViewSet):
    entity, label, export_name = "region", "region", "regions"
    writes, writer, resource_name = services.REGION_WRITES, services.REGION, "regions"
    selector = staticmethod(selectors.region_list)
    serializer_class = RegionSerializer
    filterset_class = RegionFilterSet
    cache_models = (Region,)


@extend_schema_view(list=extend_schema(summary="List a region's children",
                                       description="Regions directly below the region in the URL."))
class RegionChildrenViewSet(RegionViewSet):
    entity = "region_children"
    parent = Parent(Region, "parent", "region", "region")


@extend_schema_view(list=extend_schema(summary="List topics"), retrieve=extend_schema(summary="Get a topic"))
class TopicViewSet(WritableMixin, PublicViewSet):
    entity, label, export_name = "topic", "topic", "topics"
    writes, writer, resource_name = services.TOPIC_WRITES, services.TOPIC, "topics"
    selector = staticmethod(selectors.topic_list)
    serializer_class = TopicSerializer
    filterset_class = TopicFilterSet
    cache_models = (Topic,)


@extend_schema_view(list=extend_schema(summary="List units", description="Units as written, with conversion factors."),
                    retrieve=extend_schema(summary="Get a unit", description="By symbol as written, percent-encoded "
                                                                             "(`%E4%BA%BF%E5%85%83` for 亿元)."))
class UnitViewSet(WritableMixin, PublicViewSet):
    entity, label, export_name = "unit", "unit", "units"
    writes, writer, resource_name = services.UNIT_WRITES, services.UNIT, "units"
    selector = staticmethod(lambda: selectors.unit_list(include_deleted=True))
    serializer_class = UnitSerializer
    filterset_class = UnitFilterSet
    cache_models = (Unit,)
