"""The catalogue's metadata as DCAT-AP 3 (rdflib): /catalog.jsonld and /catalog.ttl.

One catalogue, four datasets (indicators, projects, events, and the sources with the reference lists),
each with its publisher, temporal coverage (from the data's own periods), spatial coverage (the
regions the data names, by their names: no coordinates are invented), keywords in Chinese and
English, provenance, and distributions: the REST collections (JSON, CSV, NDJSON, XLSX) and, when
built, the bulk files of /downloads/ with their SHA-256. Two data services: the REST API and GraphQL.
Validated against the DCAT-AP 3.0.1 SHACL shapes in tests/opendata/publish/test_dcat.py.

A licence is stated only when the operator sets CATALOG_LICENSE (a licence URI): the source documents
state none, and this project does not choose one for them. Without it each dataset carries a rights
statement saying so.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Max, Min
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD

from indicators.models import Observation
from opendata.base.api.caching import data_stamp
from opendata.catalogue.models import Region
from opendata.publish import downloads
from opendata.publish.resources import collections
from projects.models import Event, ProjectStatus

SPDX = Namespace("http://spdx.org/rdf/terms#")
FILE_TYPE = Namespace("http://publications.europa.eu/resource/authority/file-type/")
LANG = Namespace("http://publications.europa.eu/resource/authority/language/")
IANA = "https://www.iana.org/assignments/media-types/"
# EU file-type authority codes for the formats that have one (others are described by their title).
FILE_TYPES = {"csv": "CSV", "json": "JSON", "xlsx": "XLSX"}
MEDIA_TYPES = {"csv": "text/csv", "json": "application/json",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "sqlite": "application/vnd.sqlite3"}

DATASETS = [
    {
        "id": "indicators",
        "collections": ["indicators", "observations"],
        "title": ("长春市经济社会发展指标：结果与目标", "Changchun indicators: results and targets"),
        "description": (
            "长春市政府工作报告等文件中的指标（地区生产总值、粮食产量、高新技术企业等）及其各期实际值与目标值，每个数值附原文引文。",
            "Indicators (GDP, grain output, high-tech enterprises…) stated in Changchun's government work reports "
            "and plans, with their results and targets per period; every value carries the verbatim quote that "
            "states it."),
        "keywords": (["指标", "目标", "统计", "经济", "长春"],
                     ["indicators", "targets", "statistics", "economy", "Changchun"]),
    },
    {
        "id": "projects",
        "collections": ["projects", "project_statuses"],
        "title": ("长春市重点项目及其进展", "Changchun projects and their status over time"),
        "description": (
            "文件中点名的道路、工厂、科技城、地铁线路等项目，以及各时期的状态（计划、开工、建成等），每条状态附原文引文。",
            "Named projects (roads, plants, science cities, metro lines…) and their status over the years "
            "(planned, started, completed…), each status with its verbatim quote."),
        "keywords": (["项目", "基础设施", "建设", "长春"], ["projects", "infrastructure", "construction", "Changchun"]),
    },
    {
        "id": "events",
        "collections": ["events", "event_series"],
        "title": ("长春市会议与活动", "Changchun events"),
        "description": ("文件中提到的会议、博览会、马拉松等活动及其系列，每项附原文引文。",
                        "Congress sessions, expos, marathons and other events named in the documents, with their "
                        "series; each with its verbatim quote."),
        "keywords": (["活动", "会议", "博览会", "长春"], ["events", "congress", "expo", "Changchun"]),
    },
    {
        "id": "sources",
        "collections": ["sources", "regions", "topics", "units"],
        "title": ("来源文件与参考列表", "Source documents and reference lists"),
        "description": ("数据所依据的原始文件全文，以及地区、主题与计量单位列表。",
                        "The full texts of the documents the data is extracted from, and the lists of regions, "
                        "topics and units of measure."),
        "keywords": (["政府工作报告", "来源", "地区", "单位"], ["government work report", "sources", "regions", "units"]),
    },
]
API_FORMATS = [("json", ""), ("csv", "format=csv&bom=true"), ("ndjson", "format=ndjson"), ("xlsx", "format=xlsx")]


def _zh_en(g: Graph, node, pred, pair):
    zh, en = pair
    g.add((node, pred, Literal(zh, lang="zh")))
    g.add((node, pred, Literal(en, lang="en")))


def _date(d) -> Literal:
    return Literal(d.isoformat(), datatype=XSD.date)


def coverage() -> tuple[dt.date | None, dt.date | None]:
    """The first and last day the data speaks of: observations' periods, statuses' dates, events'."""
    starts, ends = [], []
    for qs, lo, hi in ((Observation.objects.alive(), "period_start", "period_end"),
                       (ProjectStatus.objects.alive(), "date_start", "date_end"),
                       (Event.objects.alive(), "start_date", "start_date")):
        agg = qs.aggregate(lo=Min(lo), hi=Max(hi))
        if agg["lo"]:
            starts.append(agg["lo"])
        if agg["hi"]:
            ends.append(agg["hi"])
    return (min(starts) if starts else None), (max(ends) if ends else None)


def build(base_url: str) -> Graph:
    base = base_url.rstrip("/")
    g = Graph()
    for prefix, ns in (("dcat", DCAT), ("dct", DCTERMS), ("foaf", FOAF), ("skos", SKOS), ("spdx", SPDX),
                       ("xsd", XSD), ("rdfs", RDFS)):
        g.bind(prefix, ns)

    by_name = {c.name: c for c in collections()}
    latest, _ = data_stamp([c.model for c in by_name.values()])
    modified = Literal(latest.strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=XSD.dateTime)

    publisher = URIRef(f"{base}/catalog#publisher")
    g.add((publisher, RDF.type, FOAF.Agent))
    g.add((publisher, FOAF.name, Literal(settings.CATALOG_PUBLISHER_NAME_EN, lang="en")))
    if settings.CATALOG_PUBLISHER_NAME_ZH:
        g.add((publisher, FOAF.name, Literal(settings.CATALOG_PUBLISHER_NAME_ZH, lang="zh")))

    catalog = URIRef(f"{base}/catalog")
    g.add((catalog, RDF.type, DCAT.Catalog))
    _zh_en(g, catalog, DCTERMS.title, ("长春开放数据", "Changchun Open Data"))
    _zh_en(g, catalog, DCTERMS.description, (
        "长春市政府工作报告与规划中的指标、项目与活动，每项事实附其原文引文。",
        "Indicators, projects and events stated in Changchun's government work reports and plans, every fact "
        "with the verbatim quote of its source."))
    g.add((catalog, DCTERMS.publisher, publisher))
    g.add((catalog, FOAF.homepage, URIRef(f"{base}/")))
    for page in (f"{base}/", f"{base}/docs/", f"{base}/api/v1/dictionary/"):
        g.add((URIRef(page), RDF.type, FOAF.Document))
    g.add((catalog, DCTERMS.modified, modified))
    for code in ("ZHO", "ENG"):
        g.add((catalog, DCTERMS.language, LANG[code]))
        g.add((LANG[code], RDF.type, DCTERMS.LinguisticSystem))

    start, end = coverage()
    period = None
    if start and end:
        period = BNode("coverage")
        g.add((period, RDF.type, DCTERMS.PeriodOfTime))
        g.add((period, DCAT.startDate, _date(start)))
        g.add((period, DCAT.endDate, _date(end)))

    # Spatial coverage: the top-level regions the data names (Changchun), by name; no geometry.
    places = []
    for region in Region.objects.alive().filter(parent__isnull=True).order_by("code"):
        place = URIRef(f"{base}/api/v1/regions/{region.code}/")
        g.add((place, RDF.type, DCTERMS.Location))
        g.add((place, SKOS.prefLabel, Literal(region.name_zh, lang="zh")))
        g.add((place, SKOS.prefLabel, Literal(region.name_en, lang="en")))
        places.append(place)

    license_uri = URIRef(settings.CATALOG_LICENSE) if settings.CATALOG_LICENSE else None
    rights = None
    if license_uri is not None:
        g.add((license_uri, RDF.type, DCTERMS.LicenseDocument))
    else:
        rights = BNode("rights")
        g.add((rights, RDF.type, DCTERMS.RightsStatement))
        g.add((rights, RDFS.label, Literal(
            "The source documents are public reports of Changchun's government and state no licence; no "
            "licence has been set for this catalogue (CATALOG_LICENSE).", lang="en")))
    provenance = BNode("provenance")
    g.add((provenance, RDF.type, DCTERMS.ProvenanceStatement))
    g.add((provenance, RDFS.label, Literal(
        "Extracted by hand from five source documents and audited by a second reader; every fact carries "
        "a verbatim quote of its source with its character offset (docs/fixtures.md).", lang="en")))

    manifest = downloads.read_manifest()
    files = {f["name"]: f for f in (manifest or {}).get("files", [])}

    rest = URIRef(f"{base}/api/v1/")
    graphql = URIRef(f"{base}/graphql/")
    datasets = []
    for spec in DATASETS:
        ds = URIRef(f"{base}/catalog#{spec['id']}")
        datasets.append(ds)
        g.add((catalog, DCAT.dataset, ds))
        g.add((ds, RDF.type, DCAT.Dataset))
        g.add((ds, DCTERMS.identifier, Literal(spec["id"])))
        _zh_en(g, ds, DCTERMS.title, spec["title"])
        _zh_en(g, ds, DCTERMS.description, spec["description"])
        for lang, words in zip(("zh", "en"), spec["keywords"], strict=True):
            for word in words:
                g.add((ds, DCAT.keyword, Literal(word, lang=lang)))
        g.add((ds, DCTERMS.publisher, publisher))
        g.add((ds, DCTERMS.modified, modified))
        g.add((ds, DCTERMS.provenance, provenance))
        g.add((ds, DCAT.landingPage, URIRef(f"{base}/docs/")))
        g.add((ds, FOAF.page, URIRef(f"{base}/api/v1/dictionary/")))
        for code in ("ZHO", "ENG"):
            g.add((ds, DCTERMS.language, LANG[code]))
        if period is not None:
            g.add((ds, DCTERMS.temporal, period))
        for place in places:
            g.add((ds, DCTERMS.spatial, place))
        for name in spec["collections"]:
            path = by_name[name].path
            for fmt, query in API_FORMATS:
                url = URIRef(f"{base}{path}" + (f"?{query}" if query else ""))
                dist = URIRef(f"{base}/catalog#{name}-api-{fmt}")
                _distribution(g, ds, dist, f"{name} ({fmt.upper()}, API)", fmt, access=url, license_uri=license_uri,
                              rights=rights, modified=modified)
                g.add((dist, DCAT.accessService, rest))
            for fmt in ("csv", "ndjson", "parquet"):
                f = files.get(f"{name}.{fmt}")
                if f:
                    _download(g, ds, base, f, license_uri, rights)
        for whole in (downloads.WORKBOOK, downloads.DATABASE):
            if whole in files:
                _download(g, ds, base, files[whole], license_uri, rights)

    for node, title, endpoint, description in (
            (rest, ("长春开放数据 REST API v1", "Changchun Open Data REST API v1"), rest, f"{base}/api/v1/schema/"),
            (graphql, ("长春开放数据 GraphQL API", "Changchun Open Data GraphQL API"), graphql, f"{base}/docs/graphql/")):
        g.add((catalog, DCAT.service, node))
        g.add((node, RDF.type, DCAT.DataService))
        _zh_en(g, node, DCTERMS.title, title)
        g.add((node, DCAT.endpointURL, endpoint))
        g.add((node, DCAT.endpointDescription, URIRef(description)))
        g.add((node, DCTERMS.publisher, publisher))
        for ds in datasets:
            g.add((node, DCAT.servesDataset, ds))
        if license_uri is not None:
            g.add((node, DCTERMS.license, license_uri))
    return g


def _distribution(g, ds, dist, title, fmt, *, access, license_uri, rights, modified=None):
    g.add((ds, DCAT.distribution, dist))
    g.add((dist, RDF.type, DCAT.Distribution))
    g.add((dist, DCTERMS.title, Literal(title, lang="en")))
    g.add((dist, DCAT.accessURL, access))
    if fmt in FILE_TYPES:
        g.add((dist, DCTERMS.format, FILE_TYPE[FILE_TYPES[fmt]]))
        g.add((FILE_TYPE[FILE_TYPES[fmt]], RDF.type, DCTERMS.MediaTypeOrExtent))
    if fmt in MEDIA_TYPES:
        media = URIRef(IANA + MEDIA_TYPES[fmt])
        g.add((dist, DCAT.mediaType, media))
        g.add((media, RDF.type, DCTERMS.MediaType))
    if license_uri is not None:
        g.add((dist, DCTERMS.license, license_uri))
    else:
        g.add((dist, DCTERMS.rights, rights))
    if modified is not None:
        g.add((dist, DCTERMS.modified, modified))


def _download(g, ds, base, f, license_uri, rights):
    url = URIRef(f"{base}/downloads/{f['name']}")
    dist = URIRef(f"{base}/catalog#download-{f['name']}")
    _distribution(g, ds, dist, f"{f['name']} (download)", f["format"], access=URIRef(f"{base}/downloads/"),
                  license_uri=license_uri, rights=rights)
    g.add((dist, DCAT.downloadURL, url))
    g.add((dist, DCAT.byteSize, Literal(f["bytes"], datatype=XSD.nonNegativeInteger)))
    checksum = URIRef(f"{base}/catalog#sha256-{f['name']}")
    g.add((dist, SPDX.checksum, checksum))
    g.add((checksum, RDF.type, SPDX.Checksum))
    g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
    g.add((checksum, SPDX.checksumValue, Literal(f["sha256"], datatype=XSD.hexBinary)))


JSONLD_CONTEXT = {"dcat": str(DCAT), "dct": str(DCTERMS), "foaf": str(FOAF), "skos": str(SKOS), "spdx": str(SPDX),
                  "xsd": str(XSD), "rdfs": str(RDFS)}


def serialize(g: Graph, fmt: str) -> bytes:
    if fmt == "jsonld":
        return g.serialize(format="json-ld", context=JSONLD_CONTEXT, auto_compact=True, indent=2).encode()
    return g.serialize(format="turtle").encode()
