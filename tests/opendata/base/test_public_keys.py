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
