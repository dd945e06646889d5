"""v1 routes of projects, project statuses, events and event series."""

from django.urls import path

from opendata.base.api.views import link_route
from projects import links
from projects.api.v1 import views

LIST, DETAIL = {"get": "list"}, {"get": "retrieve"}

urlpatterns = [
    path("projects/", views.ProjectViewSet.as_view(LIST), name="project-list"),
    path("projects/<str:key>/", views.ProjectViewSet.as_view(DETAIL), name="project-detail"),
    path("projects/<str:key>/timeline/", views.ProjectTimelineViewSet.as_view(LIST), name="project-timeline"),
    path("projects/<str:key>/events/", views.ProjectEventViewSet.as_view(LIST), name="project-events"),
    path("project-statuses/", views.ProjectStatusViewSet.as_view(LIST), name="project-status-list"),
    path("project-statuses/<str:key>/", views.ProjectStatusViewSet.as_view(DETAIL), name="project-status-detail"),
    path("events/", views.EventViewSet.as_view(LIST), name="event-list"),
    path("events/<str:key>/", views.EventViewSet.as_view(DETAIL), name="event-detail"),
    path("event-series/", views.EventSeriesViewSet.as_view(LIST), name="event-series-list"),
    path("event-series/<str:key>/", views.EventSeriesViewSet.as_view(DETAIL), name="event-series-detail"),
    path("event-series/<str:key>/events/", views.EventSeriesEventViewSet.as_view(LIST), name="event-series-events"),
    link_route(links.SOURCE_PROJECT_STATUSES, views.ProjectStatusViewSet),
    link_route(links.SOURCE_EVENTS, views.EventViewSet),
]
