"""v1 routes of indicators and observations."""

from django.urls import path

from indicators.api.v1 import views

LIST, DETAIL = {"get": "list"}, {"get": "retrieve"}

urlpatterns = [
    path("indicators/", views.IndicatorViewSet.as_view(LIST), name="indicator-list"),
    path("indicators/<str:key>/", views.IndicatorViewSet.as_view(DETAIL), name="indicator-detail"),
    path("indicators/<str:key>/observations/", views.IndicatorObservationViewSet.as_view(LIST),
         name="indicator-observations"),
    path("observations/", views.ObservationViewSet.as_view(LIST), name="observation-list"),
    path("observations/<str:key>/", views.ObservationViewSet.as_view(DETAIL), name="observation-detail"),
    path("sources/<str:key>/observations/", views.SourceObservationViewSet.as_view(LIST), name="source-observations"),
]
