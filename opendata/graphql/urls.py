"""GraphQL endpoint URL (owned by the GraphQL work)."""

urlpatterns: list = []
