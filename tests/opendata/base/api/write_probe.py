"""A URL map for tests: the project's, plus a tiny write endpoint guarded like the real ones will be
(`ReadAnonymousWriteWithKey`, `resource_name = "notes"`) and a view that fails, under /api/."""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from opendata.base.api.auth import ReadAnonymousWriteWithKey, actor_of
from opendata.config import urls

PROBE = "/api/v1/_probe/notes/"
BOOM = "/api/v1/_probe/boom/"


class NotesProbe(APIView):
    permission_classes = (ReadAnonymousWriteWithKey,)
    resource_name = "notes"

    def get(self, request):
        return Response({"actor": str(actor_of(request))})

    def post(self, request):
        return Response({"actor": str(actor_of(request)), "user": str(request.user), "auth": str(request.auth)},
                        status=201)

    def delete(self, request):
        return Response(status=204)


class Boom(APIView):
    def get(self, request):
        raise RuntimeError("the probe fails on purpose")


urlpatterns = [
    path(PROBE.lstrip("/"), NotesProbe.as_view()),
    path(BOOM.lstrip("/"), Boom.as_view()),
    *urls.urlpatterns,
]
handler404 = urls.handler404
handler500 = urls.handler500
