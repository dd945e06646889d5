"""`GET /api/v1/changes/`: the change feed over REST, read with opendata.base.selectors.change_list.

Each entry is one change of one record: `resource`, `key` (its public identifier), `operation`
(create, update, delete, restore), `at`, and the record's public snapshot `before` (null for a
create) and `after` (for a delete: its last state with `deleted_at`). Replaying `after` of every
entry in order, from the start, gives every record as it is (deleted ones with `deleted_at`).

A page holds the entries after `after` (a cursor from an earlier page; from the start without it;
`after=now` starts at the present), of the resources listed in `resource`, and says where to read
on: `next` (a URL) and `next_cursor` (the cursor in it), in every page, an empty one included, so a
client polls from it; `more` is true when more entries are already waiting. Cursors never expire.

Who wrote a change (`actor`: admin usernames, API key names) is left out while the feed is public;
the admin shows it.
"""

from __future__ import annotations

import hashlib

from django.utils.cache import patch_vary_headers
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from opendata.base.api.caching import EPOCH, canonical_url, conditional_response, contract_salt, set_validators
from opendata.base.api.errors import InvalidParameters, NotModified
from opendata.base.api.auth import authenticate_key
from opendata.base.api.pagination import parse_page_size
from opendata.base.api.renderers import StrictContentNegotiation, UTF8JSONRenderer
from opendata.base.api.versioning import add_deprecation_headers
from opendata.base.api.views import check_edge
from opendata.base.models import ChangeOperation, isoformat_utc
from opendata.base.selectors import Cursor, InvalidCursor, change_horizon, change_list, change_resources

PARAMS = {"after", "resource", "page_size", "format"}

EXAMPLE = {
    "cursor": "MTAyNC40Mg", "at": "2025-03-01T02:00:00.123456Z", "resource": "observation",
    "key": "769d8dfb-72d6-54a6-bb22-2ce0e7cbdd4a", "operation": "update",
    "before": {"uid": "769d8dfb-72d6-54a6-bb22-2ce0e7cbdd4a", "indicator": "grain-output", "value": "250",
               "citations": ["0a6b3c1e-2f4d-5e6f-8a9b-0c1d2e3f4a5b"], "deleted_at": None},
    "after": {"uid": "769d8dfb-72d6-54a6-bb22-2ce0e7cbdd4a", "indicator": "grain-output", "value": "260",
              "citations": ["0a6b3c1e-2f4d-5e6f-8a9b-0c1d2e3f4a5b"], "deleted_at": None},
}


@extend_schema_field({"type": "string", "enum": change_resources()})
class ResourceField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "enum": ChangeOperation.values})
class OperationField(serializers.CharField):
    pass


class ChangeSerializer(serializers.Serializer):
    """One change of one record, with the record's public snapshot before and after it."""

    cursor = serializers.CharField(help_text="This entry's position: `after=<cursor>` reads on after it.")
    at = serializers.DateTimeField(help_text="When the change was written (UTC).")
    resource = ResourceField(help_text="The changed record's resource (`observation`...).")
    key = serializers.CharField(help_text="The changed record's public identifier (code, slug, symbol or uid).")
    operation = OperationField(help_text=(
        "`create`, `update`, `delete` (soft deletion: `after.deleted_at` is set) or `restore`."))
    before = serializers.DictField(allow_null=True, help_text=(
        "The record before the change (null for a create): its fields as the API writes them, references "
        "as public identifiers, lists of references sorted."))
    after = serializers.DictField(help_text="The record after the change (for a delete: its last state, with "
                                            "`deleted_at`).")
    actor = serializers.CharField(required=False, help_text=(
        "Who made the change (an API key's name and prefix, an admin user, `loader`): only for requests that "
        "send an API key, as in GraphQL's `changes`; anonymous readers get the entry without it."))

    def to_representation(self, change):
        entry = {"cursor": Cursor.of(change).encode(), "at": isoformat_utc(change.at), "resource": change.resource,
                 "key": change.key, "operation": change.operation, "before": change.before, "after": change.after}
        if self.context.get("with_actor"):
            entry["actor"] = change.actor
        return entry


class ChangePageSerializer(serializers.Serializer):
    next = serializers.URLField(help_text=(
        "Where to read on: this request from `next_cursor`. Present on every page, an empty one included: "
        "poll it for what changes next."))
    next_cursor = serializers.CharField(help_text="The cursor in `next`, to store. Cursors never expire.")
    more = serializers.BooleanField(help_text="More entries are waiting after `next`: read on at once.")
    results = ChangeSerializer(many=True)


class ChangeListView(APIView):
    """The change feed (opendata.base.selectors.change_list)."""

    entity, schema_tag = "change", "change"
    renderer_classes = [UTF8JSONRenderer]
    content_negotiation_class = StrictContentNegotiation

    @extend_schema(
        operation_id="change_list", summary="List changes",
        description=(
            "The change feed: every create, update, soft deletion and restore of every record, in an order in which "
            "no entry ever appears before a cursor already handed out (see docs/rest.md, Change feed). Start "
            "without `after` (from the first change) or with `after=now`; store `next_cursor`; read `next` "
            "until `more` is false, then poll it. Replaying `after` of each entry gives every record as it is."),
        parameters=[
            OpenApiParameter("after", {"type": "string", "pattern": "^(now|[A-Za-z0-9_-]{1,100})$"}, description=(
                "Read the entries after this cursor (`next_cursor` or an entry's `cursor`); `now`: from the present "
                "on. Without it: from the first change. Example: `now`.")),
            OpenApiParameter("resource", {"type": "string", "pattern": (
                "^(" + "|".join(change_resources()) + ")(,(" + "|".join(change_resources()) + ")){0,20}$")}, description=(
                "Comma-separated resources to list: " + ", ".join(f"`{r}`" for r in change_resources())
                + ". Default: all. Example: `observation,project_status,event`.")),
            OpenApiParameter("page_size", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50},
                             description="Entries per page, 1 to 1000 (default 50)."),
        ],
        responses=OpenApiResponse(ChangePageSerializer, description=(
            "One page of the feed, oldest change first, with where to read on (also in the `Link` header, "
            "rel=\"next\").")),
        examples=[OpenApiExample("An update", response_only=True, value={
            "next": "http://127.0.0.1:8000/api/v1/changes/?after=MTAyNy4w", "next_cursor": "MTAyNy4w", "more": False,
            "results": [EXAMPLE]})],
    )
    def get(self, request, *args, **kwargs):
        check_edge(request)  # as every endpoint: no empty, repeated or control-character parameter
        params = request.query_params
        invalid = {}
        unknown = [p for p in params if p not in PARAMS]
        if unknown:
            listing = ", ".join(sorted(PARAMS))
            raise InvalidParameters({p: f"Unknown parameter. Parameters: {listing}." for p in unknown},
                                    kind="unknown-parameters")
        resources = [r.strip() for r in params.get("resource", "").split(",") if r.strip()] or None
        if resources and (bad := [r for r in resources if r not in change_resources()]):
            invalid["resource"] = (f"Unknown resource(s) {', '.join(bad)}; resources: "
                                   f"{', '.join(change_resources())}.")
        after = params.get("after") or None
        try:
            after = change_horizon() if after == "now" else Cursor.decode(after) if after else None
        except InvalidCursor:
            invalid["after"] = "Not a cursor of this feed: use `next_cursor` or an entry's `cursor` as given."
        try:
            size = parse_page_size(params.get("page_size"))
        except InvalidParameters as exc:
            invalid.update({k: v[0] for k, v in exc.invalid.items()})
        if invalid:
            raise InvalidParameters(invalid)

        page = change_list(after=after, resource=resources, limit=size)
        token = page.next.encode()
        with_actor = authenticate_key(request) is not None
        body = {
            "next": replace_query_param(request.build_absolute_uri(), "after", token),
            "next_cursor": token,
            "more": page.more,
            "results": ChangeSerializer(page.changes, many=True, context={"with_actor": with_actor}).data,
        }
        etag = '"' + hashlib.sha256("\n".join([
            canonical_url(request._request), token, str(page.more), ",".join(str(c.id) for c in page.changes),
            contract_salt(), f"actor={with_actor}"]).encode()).hexdigest()[:32] + '"'
        last_modified = page.changes[-1].at if page.changes else EPOCH
        not_modified = conditional_response(request._request, etag=etag, last_modified=last_modified)
        if not_modified is not None:
            raise NotModified(not_modified)
        response = Response(body, headers={"Link": f'<{body["next"]}>; rel="next"'})
        return set_validators(response, etag=etag, last_modified=last_modified)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_vary_headers(response, ["Accept", "Authorization"])  # a key's holder also sees `actor`
        return add_deprecation_headers(response, getattr(request, "version", None))
