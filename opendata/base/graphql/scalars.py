"""The `DateTime` scalar as every interface writes moments: UTC with `Z` (REST's format), through
graphene-django's public converter registry (`convert_django_field.register`)."""

from __future__ import annotations

import datetime as dt

import graphene
from django.db import models
from graphene_django.converter import convert_django_field, get_django_field_description
from graphql import GraphQLError

from opendata.base.models import isoformat_utc


class UTCDateTime(graphene.DateTime):
    """A moment in RFC 3339, always in UTC with `Z` (e.g. `2025-01-08T02:00:00Z`), as in REST."""

    class Meta:
        name = "DateTime"

    @staticmethod
    def serialize(value):
        if not isinstance(value, dt.datetime):
            raise GraphQLError(f"DateTime cannot represent value: {value!r}")
        return isoformat_utc(value)


@convert_django_field.register(models.DateTimeField)
def convert_datetime(field, registry=None):
    return UTCDateTime(description=get_django_field_description(field), required=not field.null)
