"""v1 routes of projects, project statuses, events and event series: read and write."""

from django.urls import path

from opendata.base.api.views import link_route
from opendata.base.api.writes import write_routes
from projects import links
from projects.api.v1 import views

LIST = {"get": "list"}

urlpatterns = [
    *write_routes("projects", views.ProjectViewSet, "project"),
    path("projects/<str:key>/timeline/", views.ProjectTimelineViewSet.as_view(LIST), name="project-timeline"),
    path("projects/<str:key>/events/", views.ProjectEventViewSet.as_view(LIST), name="project-events"),
    *write_routes("project-statuses", views.ProjectStatusViewSet, "project-status"),
    *write_routes("events", views.EventViewSet, "event"),
    *write_routes("event-series", views.EventSeriesViewSet, "event-series"),
    path("event-series/<str:key>/events/", views.EventSeriesEventViewSet.as_view(LIST), name="event-series-events"),
    link_route(links.SOURCE_PROJECT_STATUSES, views.ProjectStatusViewSet),
    link_route(links.SOURCE_EVENTS, views.EventViewSet),
]
