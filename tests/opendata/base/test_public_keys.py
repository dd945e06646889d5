"""Every public model declares its public identifier and its resource name once, on the model."""

from opendata.base.models import PublicModel, public_models


def test_every_public_model_declares_its_key_and_resource():
    models = public_models()
    assert set(models) == {"topic", "region", "unit", "source", "citation", "indicator", "observation", "project",
                           "project_status", "event_series", "event"}
    for resource, model in models.items():
        assert issubclass(model, PublicModel)
        field = model._meta.get_field(model.public_key)
        assert field.unique, (resource, model.public_key)
        assert resource == model.resource


def test_the_keys_are_the_ones_the_api_uses():
    keys = {resource: model.public_key for resource, model in public_models().items()}
    assert keys == {"topic": "code", "region": "code", "indicator": "code", "unit": "symbol", "source": "slug",
                    "project": "slug", "event": "slug", "event_series": "slug", "citation": "uid",
                    "observation": "uid", "project_status": "uid"}


def test_rest_graphql_and_the_links_take_the_key_from_the_model():
    """One home for the key: a REST record's URL, a GraphQL global id and a link's parent all read
    `Model.public_key` (no view, type or link names the field again)."""
    from django.urls import get_resolver

    from opendata.base.api.views import PublicViewSet
    from opendata.base.graphql.fields import PublicObjectType
    from opendata.base.links import _LINKS
    from opendata.config.schema import schema

    def callbacks(resolver):
        for pattern in resolver.url_patterns:
            if hasattr(pattern, "url_patterns"):
                yield from callbacks(pattern)
            else:
                yield pattern.callback

    views = {getattr(cb, "cls", None) for cb in callbacks(get_resolver())}
    views = [v for v in views if isinstance(v, type) and issubclass(v, PublicViewSet)]
    assert len(views) >= 11
    for view in views:
        assert view.lookup_field == view.filterset_class._meta.model.public_key, view
        if view.parent is not None:
            assert view.parent.lookup_field == view.parent.model.public_key, view

    types = [t.graphene_type for t in schema.graphql_schema.type_map.values()
             if isinstance(getattr(t, "graphene_type", None), type) and issubclass(t.graphene_type, PublicObjectType)]
    assert len(types) == len(public_models())
    for graphene_type in types:
        assert graphene_type.public_key == graphene_type._meta.model.public_key, graphene_type

    assert _LINKS
    for link in _LINKS:
        assert link.parent_key == link.parent.public_key
