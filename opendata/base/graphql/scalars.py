"""The scalars and enums of the schema's arguments, so that a bad value fails validation (400, before
anything runs) instead of a field: codes and slugs (`Code`), periods (`Period`), moments
(`DateTime`, as every interface writes them: UTC with `Z`, registered for every model field through
graphene-django's public converter registry), and one enum per model choice list, whose values are
REST's strings (`kind: actual`, `comparator: at_least`).
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import graphene
from django.core.exceptions import ValidationError
from django.db import models
from graphene_django.converter import convert_django_field, get_django_field_description
from graphql import GraphQLError, StringValueNode

from opendata.base.filters import CODE, CODE_PATTERN, moment, period_bound
from opendata.base.models import isoformat_utc


class UTCDateTime(graphene.DateTime):
    """A moment in RFC 3339, always in UTC with `Z` (e.g. `2025-01-08T02:00:00Z`), as in REST. As an
    argument, any offset (`Z`, `+08:00`), never none."""

    class Meta:
        name = "DateTime"

    @staticmethod
    def serialize(value):
        if not isinstance(value, dt.datetime):
            raise GraphQLError(f"DateTime cannot represent value: {value!r}")
        return isoformat_utc(value)

    @staticmethod
    def parse_value(value):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value
        if not isinstance(value, str):
            raise TypeError(f"A DateTime is a string such as 2025-01-01T00:00:00Z, not {value!r}.")
        try:
            return moment(value)
        except ValidationError as exc:
            raise ValueError(" ".join(exc.messages)) from None


@convert_django_field.register(models.DateTimeField)
def convert_datetime(field, registry=None):
    return UTCDateTime(description=get_django_field_description(field), required=not field.null)


class _StringScalar(graphene.Scalar):
    """A scalar written as a string, read by `read` (which raises ValueError with what is wrong)."""

    class Meta:
        abstract = True

    @staticmethod
    def serialize(value):
        return value

    @classmethod
    def parse_literal(cls, node, _variables=None):
        if not isinstance(node, StringValueNode):
            raise TypeError(f"{cls._meta.name} is written as a string.")
        return cls.parse_value(node.value)

    @classmethod
    def parse_value(cls, value):
        if not isinstance(value, str):
            raise TypeError(f"{cls._meta.name} is written as a string, not {value!r}.")
        return cls.read(value)

    @staticmethod
    def read(value: str) -> str:
        raise NotImplementedError


class Code(_StringScalar):
    """A code or slug: 1 to 150 letters, digits, `-` or `_` (e.g. `grain-output`)."""

    @staticmethod
    def read(value: str) -> str:
        if not CODE.fullmatch(value):
            raise ValueError(f"{value!r} is not a code: use 1 to 150 letters, digits, '-' and '_' "
                             f"({CODE_PATTERN}).")
        return value


class Period(_StringScalar):
    """A year (`2024`) or a date (`2024-06-30`). As a lower bound a year means 1 January, as an upper
    bound 31 December."""

    @staticmethod
    def read(value: str) -> str:
        try:
            period_bound(value)
        except ValidationError as exc:
            raise ValueError(" ".join(exc.messages)) from None
        return value


@cache
def choice_enum(choices: type[models.Choices]) -> type[graphene.Enum]:
    """The GraphQL enum of a model choice list, named after it (`FactKind`), its values REST's strings."""
    own_doc = choices.__dict__.get("__doc__")
    values = ", ".join(f"`{v}` ({label})" if label != v.replace("_", " ") else f"`{v}`"
                       for v, label in choices.choices)
    description = f"{own_doc.strip() + ' ' if own_doc else ''}Values: {values}."
    return graphene.Enum(choices.__name__, [(v, v) for v in choices.values], description=description)
