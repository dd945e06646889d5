"""REST API URLs, one include per version (owned by the REST work)."""

urlpatterns: list = []
