"""The GraphQL schema: each app's root fields, the change feed and the Relay `node` field. Read-only:
no mutations."""

import graphene

from indicators.graphql.queries import Query as IndicatorQuery
from opendata.base.graphql.changes import Query as ChangeQuery
from opendata.catalogue.graphql.queries import Query as CatalogueQuery
from projects.graphql.queries import Query as ProjectQuery


class Query(ChangeQuery, IndicatorQuery, ProjectQuery, CatalogueQuery, graphene.ObjectType):
    node = graphene.relay.Node.Field(description="Any record by its global `id`.")


schema = graphene.Schema(query=Query)
