"""Links between apps: the records of one app listed under a record of another (a source's
observations, a region's events, a topic's indicators).

A link is declared once, in the app that owns the listed records (`<app>/links.py`), and each
interface is built from that one declaration: GraphQL's connection on the parent's type
(`Source.observations`, attached when the type is created: see PublicObjectType) and, where the link
names the FilterSet parameter that means "under this parent", REST's nested collection
(`/sources/{slug}/observations/`, see opendata.base.api.views.nested_viewset). The parent's app never
imports the child's, and REST and GraphQL cannot disagree on what "under this parent" means: both
use the listed records' FilterSet and its rule (a `CitesSourceFilter`'s CitesSource for a source).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Model, QuerySet


@dataclass(frozen=True)
class Link:
    parent: type[Model]            # the record the list hangs from (Source)
    name: str                      # snake_case: the GraphQL field (`project_statuses` → projectStatuses) and
                                   # the REST path segment (`project-statuses`)
    node_type: str                 # dotted path of the GraphQL type of the listed records
    filterset_class: type          # the listed records' FilterSet (filters, sorting)
    selector: Callable[[], QuerySet]
    description: str
    relation: str | None = None    # the parent's reverse relation to the records (a region's `observations`)
    filter_param: str | None = None  # else: the FilterSet parameter meaning "under this parent" (`source`)
    rest_summary: str = ""         # with filter_param: the nested REST collection's summary

    def __post_init__(self):
        if (self.relation is None) == (self.filter_param is None):
            raise ValueError(f"link {self.name!r}: give either a relation or a filter_param")

    @property
    def parent_key(self) -> str:
        """The parent's public identifier (`slug`): its model's `public_key`."""
        return self.parent.public_key

    @property
    def parent_name(self) -> str:
        return self.parent._meta.model_name

    @property
    def rest_path(self) -> str:
        """`sources/<str:key>/observations/`"""
        return f"{self.parent._meta.verbose_name_plural}/<str:key>/{self.name.replace('_', '-')}/"

    @property
    def route_name(self) -> str:
        return f"{self.parent_name}-{self.name.replace('_', '-')}"

    def graphql_field(self):
        from opendata.base.graphql.fields import PublicConnectionField, citing

        if self.relation is not None:
            loading = {"relation": self.relation}
        else:
            loading = {"batch": citing(self.filterset_class.base_filters[self.filter_param].cites)}
        return PublicConnectionField(self.node_type, filterset_class=self.filterset_class, queryset=self.selector,
                                     description=self.description, **loading)


_LINKS: list[Link] = []


def register(*links: Link) -> None:
    """Called by each app's links.py, which its AppConfig.ready() imports (before any GraphQL type)."""
    _LINKS.extend(links)


def links_to(model: type[Model]) -> list[Link]:
    return [link for link in _LINKS if link.parent is model]
