"""The GraphQL schema: each app's root fields, the change feed and the Relay `node` field; each app's
mutations (writes through the services, with an API key: opendata/base/graphql/mutations.py)."""

import graphene

from indicators.graphql.mutations import Mutation as IndicatorMutation
from indicators.graphql.queries import Query as IndicatorQuery
from opendata.base.graphql.changes import Query as ChangeQuery
from opendata.catalogue.graphql.mutations import Mutation as CatalogueMutation
from opendata.catalogue.graphql.queries import Query as CatalogueQuery
from projects.graphql.mutations import Mutation as ProjectMutation
from projects.graphql.queries import Query as ProjectQuery


class Query(ChangeQuery, IndicatorQuery, ProjectQuery, CatalogueQuery, graphene.ObjectType):
    node = graphene.relay.Node.Field(description="Any record by its global `id`.")


class Mutation(IndicatorMutation, ProjectMutation, CatalogueMutation, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation)
