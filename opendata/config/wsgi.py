"""WSGI entry point."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opendata.config.settings")
application = get_wsgi_application()

# The URL map and every view, serializer and schema it names are imported now rather than by each
# worker's first request: with gunicorn's preload (opendata/config/gunicorn.conf.py) before the fork.
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns
