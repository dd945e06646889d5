"""factory_boy factories for test data (real rows in the test database, no mocks)."""

import datetime as dt
from decimal import Decimal

import factory

from indicators.models import Indicator, Observation
from opendata.base.models import natural_uid
from opendata.catalogue.models import Citation, Region, Source, SourcePeriod, Topic, Unit
from projects.models import Event, EventSeries, Project, ProjectStatus

TEXT = "全市粮食产量达到259.9亿斤，地区生产总值增长5.5%以上，新建口袋公园40处。光博会成功举办。地铁6号线开工建设。"


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"topic-{n}")
    name_zh = "农业"
    name_en = "Agriculture"


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit
        django_get_or_create = ("symbol",)

    symbol = "亿斤"
    name_en = "hundred million jin"
    base_unit = "kg"
    factor = Decimal("5e7")


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = "changchun"
    name_zh = "长春市"
    name_en = "Changchun"
    kind = Region.Kind.CITY


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"source-{n}")
    title_zh = "政府工作报告"
    title_en = "Government work report"
    date = dt.date(2025, 1, 8)
    text = TEXT
    sha256 = "0" * 64

    @factory.post_generation
    def periods(obj, create, extracted, **kwargs):
        if create:
            SourcePeriod.objects.create(source=obj, start=dt.date(2024, 1, 1), end=dt.date(2025, 12, 31), label="2024–2025")


class CitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Citation

    source = factory.SubFactory(SourceFactory)
    quote = "粮食产量达到259.9亿斤"
    offset = factory.LazyAttribute(lambda o: o.source.text.find(o.quote))
    uid = factory.LazyAttribute(lambda o: natural_uid("citation", o.source.slug, o.offset, o.quote))


class IndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Indicator

    code = factory.Sequence(lambda n: f"indicator-{n}")
    name_zh = "粮食产量"
    name_en = "Grain output"
    unit = factory.SubFactory(UnitFactory)
    topic = factory.SubFactory(TopicFactory)


class ObservationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Observation

    uid = factory.Faker("uuid4")
    indicator = factory.SubFactory(IndicatorFactory)
    region = factory.SubFactory(RegionFactory)
    period_start = dt.date(2024, 1, 1)
    period_end = dt.date(2024, 12, 31)
    period_label = "2024"
    kind = Observation.Kind.ACTUAL
    comparator = Observation.Comparator.EXACT
    value = Decimal("259.9")
    unit = factory.SelfAttribute("indicator.unit")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    slug = factory.Sequence(lambda n: f"project-{n}")
    name_zh = "地铁6号线"
    name_en = "Metro Line 6"
    topic = factory.SubFactory(TopicFactory)


class ProjectStatusFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProjectStatus

    uid = factory.Faker("uuid4")
    project = factory.SubFactory(ProjectFactory)
    status = ProjectStatus.Status.CONSTRUCTION_STARTED
    kind = ProjectStatus.Kind.ACTUAL
    date_start = dt.date(2024, 1, 1)
    date_end = dt.date(2024, 12, 31)
    date_precision = "year"
    date_label = "2024"


class EventSeriesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EventSeries

    slug = factory.Sequence(lambda n: f"series-{n}")
    name_zh = "光博会"
    name_en = "Optoelectronics Expo"


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    slug = factory.Sequence(lambda n: f"event-{n}")
    name_zh = "光博会"
    name_en = "Optoelectronics Expo"
    kind = Event.Kind.EXPO
    start_date = dt.date(2024, 1, 1)
    start_precision = "year"
    status = Event.Status.HELD
    region = factory.SubFactory(RegionFactory)
