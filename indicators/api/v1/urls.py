"""v1 routes of indicators and observations: read and write (observations in bulk too)."""

from django.urls import path

from indicators import links
from indicators.api.v1 import views
from opendata.base.api.views import link_route
from opendata.base.api.writes import BULK_ACTIONS, write_routes

LIST = {"get": "list"}

urlpatterns = [
    *write_routes("indicators", views.IndicatorViewSet, "indicator"),
    path("indicators/<str:key>/observations/", views.IndicatorObservationViewSet.as_view(LIST),
         name="indicator-observations"),
    # Before observations/<key>/: "bulk" is no uid.
    path("observations/bulk/", views.ObservationViewSet.as_view(dict(BULK_ACTIONS)), name="observation-bulk"),
    *write_routes("observations", views.ObservationViewSet, "observation"),
    link_route(links.SOURCE_OBSERVATIONS, views.ObservationViewSet),
    path("targets/", views.TargetViewSet.as_view(LIST), name="target-list"),
    path("targets/<str:key>/", views.TargetViewSet.as_view({"get": "retrieve"}), name="target-detail"),
]
