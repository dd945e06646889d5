"""The pages' URL map, at the site's root (opendata/config/urls.py includes it after /api/ and /graphql/)."""

from django.urls import path
from django.views.i18n import set_language

from opendata.pages import views

app_name = "pages"

urlpatterns = [
    path("", views.home, name="home"),
    path("indicators/", views.browse, {"kind": "indicators"}, name="indicators"),
    path("indicators/<slug:code>/", views.indicator_detail, name="indicator"),
    path("projects/", views.browse, {"kind": "projects"}, name="projects"),
    path("projects/<slug:slug>/", views.project_detail, name="project"),
    path("events/", views.browse, {"kind": "events"}, name="events"),
    path("events/<slug:slug>/", views.event_detail, name="event"),
    path("event-series/<slug:slug>/", views.event_series_detail, name="event-series"),
    path("sources/", views.source_list, name="sources"),
    path("sources/<slug:slug>/", views.source_detail, name="source"),
    path("regions/", views.region_list, name="regions"),
    path("regions/<slug:code>/", views.region_detail, name="region"),
    path("topics/<slug:code>/", views.topic_detail, name="topic"),
    # The language switch: a POST that sets the language cookie and returns to the page (Django's view).
    path("language/", set_language, name="set-language"),
]
