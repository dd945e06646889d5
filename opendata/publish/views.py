"""HTTP views of what the API publishes beside its collections: the data dictionary
(/api/v1/dictionary/), the bulk downloads (/downloads/) and the DCAT-AP catalogue (/catalog.jsonld,
/catalog.ttl)."""

from __future__ import annotations

from functools import cache

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from opendata.base.api.errors import InvalidParameters
from opendata.base.api.renderers import StrictContentNegotiation, UTF8JSONRenderer
from opendata.base.api.views import check_edge
from opendata.publish import dictionary


@cache
def _dictionary() -> dict:
    return dictionary.build()


@extend_schema(
    summary="Data dictionary",
    description=("Every field of every collection (type, meaning, allowed values), every filter, and how "
                 "units and citations are to be read. Generated from the code; the same as docs/dictionary.md."),
    responses={200: OpenApiTypes.OBJECT},
)
class DictionaryView(APIView):
    """The data dictionary (opendata/publish/dictionary.py); it changes only with a deploy."""

    entity, schema_tag = "dictionary", "api"
    renderer_classes = [UTF8JSONRenderer]
    content_negotiation_class = StrictContentNegotiation

    def get(self, request, *args, **kwargs):
        check_edge(request)
        unknown = [p for p in request.query_params if p != "format"]
        if unknown:
            raise InvalidParameters({p: "Unknown parameter; the dictionary takes none." for p in unknown},
                                    kind="unknown-parameters")
        response = Response(_dictionary())
        response["Cache-Control"] = "public, max-age=3600"
        return response
