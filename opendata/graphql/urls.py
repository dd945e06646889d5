"""GraphQL endpoint URL: /graphql/ (GraphiQL in a browser, GET or POST for clients)."""

from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from opendata.graphql.views import PublicGraphQLView

# A public read-only API takes POSTs from any origin without a CSRF token (there is no session to
# protect: authentication is off, and there are no mutations).
urlpatterns = [path("", csrf_exempt(PublicGraphQLView.as_view()), name="graphql")]
