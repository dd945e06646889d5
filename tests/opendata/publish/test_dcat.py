"""The DCAT-AP 3 catalogue, over HTTP, validated with pyshacl against the DCAT-AP 3.0.1 shapes
(vendored in dcat-ap-3.0.1/), and the properties portals need checked by name."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from pyshacl import validate
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF

DCAT = Namespace("http://www.w3.org/ns/dcat#")   # open namespace: rdflib's closed DCAT warns under pytest

SHAPES = Path(__file__).parent / "dcat-ap-3.0.1"
SPDX = "http://spdx.org/rdf/terms#"


@pytest.fixture(scope="module")
def shapes():
    return Graph().parse(SHAPES / "shapes.ttl").parse(SHAPES / "range.ttl")


@pytest.fixture
def built(loaded_db, tmp_path, settings):
    settings.DOWNLOADS_DIR = tmp_path / "downloads"
    call_command("build_downloads", base_url="http://testserver", stdout=open("/dev/null", "w"))


def fetch(client, path, fmt):
    response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    return response, Graph().parse(data=response.content.decode(), format=fmt)


@pytest.mark.parametrize("path, fmt, media", [("/catalog.ttl", "turtle", "text/turtle"),
                                               ("/catalog.jsonld", "json-ld", "application/ld+json")])
def test_the_catalogue_conforms_to_dcat_ap_3(client, built, shapes, path, fmt, media):
    response, graph = fetch(client, path, fmt)
    assert response["Content-Type"].startswith(media)
    conforms, _, text = validate(graph, shacl_graph=shapes, inference="none")
    assert conforms, text
    assert client.get(path, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_both_serialisations_say_the_same(client, loaded_db):
    _, ttl = fetch(client, "/catalog.ttl", "turtle")
    _, jsonld = fetch(client, "/catalog.jsonld", "json-ld")
    assert ttl.isomorphic(jsonld)


def test_each_dataset_has_what_portals_harvest(client, built):
    _, g = fetch(client, "/catalog.ttl", "turtle")
    datasets = list(g.subjects(RDF.type, DCAT.Dataset))
    assert len(datasets) == 4
    for ds in datasets:
        for lang in ("zh", "en"):
            assert any(t.language == lang for t in g.objects(ds, DCTERMS.title)), ds
            assert any(k.language == lang for k in g.objects(ds, DCAT.keyword)), ds
        assert g.value(ds, DCTERMS.publisher) is not None
        period = g.value(ds, DCTERMS.temporal)
        assert str(g.value(period, DCAT.startDate)) == "2019-01-01"   # the earliest period the data states
        assert g.value(ds, DCTERMS.spatial) == URIRef("http://testserver/api/v1/regions/changchun/")
        dists = list(g.objects(ds, DCAT.distribution))
        api = [d for d in dists if str(g.value(d, DCAT.accessURL)).startswith("http://testserver/api/v1/")]
        files = [d for d in dists if g.value(d, DCAT.downloadURL) is not None]
        assert api and files
        # no licence is invented: without CATALOG_LICENSE each distribution carries a rights statement
        assert all(g.value(d, DCTERMS.license) is None and g.value(d, DCTERMS.rights) is not None for d in dists)
        for d in files:
            checksum = g.value(d, URIRef(SPDX + "checksum"))
            assert len(str(g.value(checksum, URIRef(SPDX + "checksumValue")))) == 64
    services = set(g.subjects(RDF.type, DCAT.DataService))
    assert {str(s) for s in services} == {"http://testserver/api/v1/", "http://testserver/graphql/"}


def test_a_licence_is_stated_when_the_operator_sets_one(client, loaded_db, settings, shapes):
    settings.CATALOG_LICENSE = "https://creativecommons.org/licenses/by/4.0/"
    _, g = fetch(client, "/catalog.ttl", "turtle")
    licence = URIRef(settings.CATALOG_LICENSE)
    assert set(g.objects(None, DCTERMS.license)) == {licence}
    assert (licence, RDF.type, DCTERMS.LicenseDocument) in g
    conforms, _, text = validate(g, shacl_graph=shapes, inference="none")
    assert conforms, text


def test_a_catalogue_missing_a_mandatory_property_fails_the_shapes(client, loaded_db, shapes):
    """The validation can fail: a dataset without its title is a violation."""
    _, g = fetch(client, "/catalog.ttl", "turtle")
    ds = next(g.subjects(RDF.type, DCAT.Dataset))
    g.remove((ds, DCTERMS.title, None))
    g.add((ds, DCAT.distribution, Literal("not a node")))
    conforms, _, _ = validate(g, shacl_graph=shapes, inference="none")
    assert not conforms
