"""The public collections of API v1, read from its URL map: each one's viewset (serializer, FilterSet,
selector). The dictionary, the downloads and the catalogue all list the same collections."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.urls import resolve, reverse


@dataclass(frozen=True)
class Collection:
    name: str          # "observations"
    route: str         # "observation-list"
    viewset: type

    @property
    def path(self) -> str:
        return reverse(f"v1:{self.route}", kwargs={"version": "v1"})

    @property
    def model(self):
        return self.viewset.selector().model

    @property
    def serializer_class(self):
        return self.viewset.serializer_class

    @property
    def filterset_class(self):
        return self.viewset.filterset_class


@cache
def collections() -> tuple[Collection, ...]:
    """Every record collection of v1 (the change feed is not a collection of records)."""
    from opendata.config.urls_v1 import COLLECTIONS

    found = []
    for name, route in COLLECTIONS.items():
        func = resolve(reverse(f"v1:{route}", kwargs={"version": "v1"})).func
        viewset = getattr(func, "cls", None)
        if viewset is None or getattr(viewset, "serializer_class", None) is None:
            continue
        found.append(Collection(name, route, viewset))
    return tuple(found)
