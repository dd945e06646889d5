"""v1 routes of indicators and observations."""

from django.urls import path

from indicators import links
from indicators.api.v1 import views
from opendata.base.api.views import link_route

LIST, DETAIL = {"get": "list"}, {"get": "retrieve"}

urlpatterns = [
    path("indicators/", views.IndicatorViewSet.as_view(LIST), name="indicator-list"),
    path("indicators/<str:key>/", views.IndicatorViewSet.as_view(DETAIL), name="indicator-detail"),
    path("indicators/<str:key>/observations/", views.IndicatorObservationViewSet.as_view(LIST),
         name="indicator-observations"),
    path("observations/", views.ObservationViewSet.as_view(LIST), name="observation-list"),
    path("observations/<str:key>/", views.ObservationViewSet.as_view(DETAIL), name="observation-detail"),
    link_route(links.SOURCE_OBSERVATIONS, views.ObservationViewSet),
]
