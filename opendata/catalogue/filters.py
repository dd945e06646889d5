"""FilterSets for the catalogue resources: sources, regions, topics, units."""

from __future__ import annotations

import django_filters

from opendata.base.filters import (
    CodeListFilter,
    PeriodBoundFilter,
    PublicFilterSet,
    SearchFilter,
    Sorting,
    StrictChoiceFilter,
)
from opendata.catalogue.models import Region, Source, Topic, Unit
from opendata.catalogue.selectors import region_with_descendants_ids


class RegionTreeFilter(CodeListFilter):
    """`region`: records of these regions *or of any region below them*; `field_name` is the path to
    the record's region id (`region_id`)."""

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__in": region_with_descendants_ids(value)})


class SourceFilterSet(PublicFilterSet):
    slug = CodeListFilter(field_name="slug", help_text="Source slugs, comma-separated.")
    date_from = PeriodBoundFilter(field_name="date", lookup_expr="gte", help_text="Sources dated on or after.")
    date_to = PeriodBoundFilter(field_name="date", lookup_expr="lte", upper=True, help_text="Sources dated on or before.")
    q = SearchFilter(fields=("slug", "title_zh", "title_en", "publisher_zh", "publisher_en"),
                     help_text="Search titles and publisher.")

    class Meta:
        model = Source
        fields: list[str] = []

    sorting = Sorting({"date": "date", "slug": "slug", "updated_at": "updated_at"}, default=("date", "slug"))



class RegionFilterSet(PublicFilterSet):
    code = CodeListFilter(field_name="code", help_text="Region codes, comma-separated.")
    kind = StrictChoiceFilter(choices=Region.Kind, help_text="Kind of region.")
    parent = CodeListFilter(field_name="parent__code", help_text="Direct children of these regions.")
    q = SearchFilter(fields=("code", "name_zh", "name_en"), help_text="Search Chinese and English names.")

    class Meta:
        model = Region
        fields: list[str] = []

    sorting = Sorting({"code": "code", "name_en": "name_en", "kind": "kind", "updated_at": "updated_at"},
                      default=("code",))


class TopicFilterSet(PublicFilterSet):
    code = CodeListFilter(field_name="code", help_text="Topic codes, comma-separated.")
    q = SearchFilter(fields=("code", "name_zh", "name_en", "description"), help_text="Search names and description.")

    class Meta:
        model = Topic
        fields: list[str] = []

    sorting = Sorting({"code": "code", "name_en": "name_en", "updated_at": "updated_at"}, default=("code",))


class UnitFilterSet(PublicFilterSet):
    base_unit = django_filters.CharFilter(field_name="base_unit", max_length=32,
                                          help_text="Base unit, e.g. `CNY`, `kg`, `persons`.")
    q = SearchFilter(fields=("symbol", "name_en"), help_text="Search symbol and English name.")

    class Meta:
        model = Unit
        fields: list[str] = []

    sorting = Sorting({"symbol": "symbol", "base_unit": "base_unit", "updated_at": "updated_at"}, default=("symbol",))



#: Citations are no REST collection of their own (they come inside the facts), and have no filters;
#: GraphQL connections of citations sort by these.
CITATION_SORTING = Sorting({"source_date": "source__date", "offset": "offset"}, default=("source_date", "offset"))
