"""Keys are issued and revoked in the admin: the key is shown once, the database keeps its hash."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.contrib import admin
from rest_framework_api_key.models import APIKey

from opendata.keys.models import ApiKey

ADD = "/admin/keys/apikey/add/"
LIST = "/admin/keys/apikey/"


def add(admin_client, **fields):
    data = {"name": "ingest", "scope": "write", "resources": "", "tier": "standard", "expiry_date_0": "",
            "expiry_date_1": "", **fields}
    return admin_client.post(ADD, data, follow=True)


def test_the_admin_issues_a_key_shown_once_and_stores_only_its_hash(admin_client, client):
    page = admin_client.get(ADD)
    assert page.status_code == 200 and "bulk (1000000/hour)" in page.content.decode()
    response = add(admin_client, name="ingest", resources="observations, Projects observations")
    text = response.content.decode()
    secret = re.search(r"The API key for ingest is: ([A-Za-z0-9]{8}\.[A-Za-z0-9]{32})\.", text).group(1)
    row = ApiKey.objects.get()
    assert (row.name, row.scope, row.tier, row.resources) == ("ingest", "write", "standard", "observations, projects")
    assert row.prefix == secret.partition(".")[0]
    assert row.hashed_key == "sha512$$" + hashlib.sha512(secret.encode()).hexdigest()
    stored = " ".join(str(v) for v in ApiKey.objects.values_list().get())
    assert secret.partition(".")[2] not in stored  # the secret part is nowhere in the row
    assert secret not in admin_client.get(LIST).content.decode()  # shown once
    assert secret not in admin_client.get(f"{LIST}{row.pk}/change/").content.decode()
    ok = client.get("/api/v1/topics/", headers={"Authorization": f"Bearer {secret}"})
    assert ok.status_code == 200 and ok["RateLimit-Policy"].startswith('"standard";')


def test_revoking_in_the_admin_refuses_the_key_for_good(admin_client, client):
    row, secret = ApiKey.objects.create_key(name="old", scope="read")
    change = f"{LIST}{row.pk}/change/"
    response = admin_client.post(change, {"name": "old", "scope": "read", "resources": "", "tier": "standard",
                                          "expiry_date_0": "", "expiry_date_1": "", "revoked": "on"}, follow=True)
    assert response.status_code == 200 and ApiKey.objects.get().revoked
    refused = client.get("/api/v1/topics/", headers={"Authorization": f"Bearer {secret}"})
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    page = admin_client.get(change).content.decode()
    assert 'name="revoked"' not in page and 'name="tier"' not in page  # read-only once revoked


@pytest.mark.parametrize("fields, field, message", [
    ({"tier": "anonymous"}, "tier", "Select a valid choice"),
    ({"scope": "read", "resources": "observations"}, "resources", "Only a write key"),
    ({"resources": "observations; DROP"}, "resources", "Not a collection name"),
])
def test_the_admin_refuses_a_key_it_could_not_use(admin_client, fields, field, message):
    response = add(admin_client, **fields)
    assert message in str(response.context["adminform"].form.errors[field])
    assert not ApiKey.objects.exists()


def test_only_this_projects_key_model_is_in_the_admin():
    assert admin.site.is_registered(ApiKey) and not admin.site.is_registered(APIKey)
