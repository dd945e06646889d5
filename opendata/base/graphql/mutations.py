"""GraphQL writes: each resource's mutations, made by one factory from the resource's `Writes`
bundle (opendata.base.services) and its `Writer` (opendata.base.writers), so that GraphQL writes
what REST and the admin write, through the same services, with the same rules and change entries.

`write_mutations(writes=TOPIC_WRITES, writer=TOPIC, type=TopicType, collection="topics")` makes

    createTopic(input: TopicInput!): TopicPayload
    updateTopic(code: String!, input: TopicPatch!, expectedVersion: String): TopicPayload
    upsertTopic(input: TopicInput!): TopicPayload
    deleteTopic(code: String!, expectedVersion: String): TopicPayload
    restoreTopic(code: String!, expectedVersion: String): TopicPayload

with `TopicPayload { topic version operation }`; `.bulk_upsert(service, name=...)` adds a bulk
upsert (`bulkUpsertObservations(rows: [ObservationInput!]!)`). Each app lists its resources in its
`graphql/mutations.py`; opendata/config/schema.py composes them into the `Mutation` type.

- **Inputs** are generated from the Writer, the fields its service reads (`data`), written as REST's
  write body writes them: a reference as the related record's public key, a list of references as a
  list of keys, numbers, dates and uids as text, a record's parts (a source's periods) as a list of
  input objects. `<Type>Input` is the whole record (create, upsert): a field the service requires is
  non-null. `<Type>Patch` is any subset of it (update); the record's public key is the mutation's
  argument. A reference the service may also create inline (a fact's citations) takes an input of
  the related record's fields (`CitationRef`): its key alone (`{uid: ...}`) or the fields it derives from.
- **Who may write**: the request's API key (`Authorization: Bearer <key>`), judged by REST's own
  rule (`opendata.base.api.auth.ReadAnonymousWriteWithKey`, for the resource's collection as a
  key's `resources` name it): no key is `UNAUTHENTICATED`, a read key or a key scoped to other
  collections `FORBIDDEN`. A mutation is a write whatever the HTTP method (the view refuses GET
  anyway). The change entries name the key as REST's do (`actor_of`: `key <prefix> (<name>)`).
- **A refused write** (a `WriteError`) is a GraphQL error on the mutation's field:
  `extensions.code` says why (`CODES`) and `extensions.errors` lists each problem as
  `{index, field, message}` (`index`: a bulk row; `field` in the schema's camelCase: `nameZh`,
  `periods[0].end`). The service's transaction rolled back: nothing was written.
- **One mutation field, one service call, one transaction.** The fields of one request run in
  order, each committed on its own: a later one failing does not undo an earlier one (send a bulk
  upsert for all or nothing). graphene-django's `ATOMIC_MUTATIONS` setting plays no part:
  PublicGraphQLView executes documents itself.
- **The payload** holds the record as written, re-read with the plan of what its selection asks for
  (opendata.base.graphql.fields: joins and nested lists in a fixed number of queries, as for a
  look-up; a deleted record too), its `version` (`record_version`, what `expectedVersion` compares;
  REST's ETag without its quotes) and `operation`: the change entry written (`create`, `update`,
  `delete`, `restore`), or null when the write changed nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace

import graphene
from django.db import models
from graphene.utils.str_converters import to_camel_case, to_snake_case
from graphql import GraphQLError, GraphQLResolveInfo, get_named_type
from rest_framework import exceptions

from opendata.base.api.auth import ReadAnonymousWriteWithKey, actor_of
from opendata.base.graphql.fields import plan_rows, sub_fields
from opendata.base.models import PublicModel
from opendata.base.services import Write, WriteError, Writes, record_version
from opendata.base.writers import Writer

#: `extensions.code` of a refused write, by `WriteError.code`. A conflict also says which (`reason`).
CODES = {
    "invalid": "INVALID",  # the data breaks a rule (REST 400/422)
    "not_found": "NOT_FOUND",  # no record with that key (404)
    "gone": "GONE",  # the record is soft-deleted: restore it first (410)
    "exists": "CONFLICT",  # create: the record exists (409)
    "in_use": "CONFLICT",  # delete: live records refer to it (409)
    "stale_version": "STALE_VERSION",  # expectedVersion is not the record's version (412)
}
MAX_BULK_ROWS = 1000  # rows of one bulk upsert

VERSION_HELP = ("The record's version after the write: send it as `expectedVersion` to change the record only "
                "if nobody changed it since (REST's ETag, without its quotes).")
EXPECTED_VERSION_HELP = ("The `version` you last read (REST's ETag without its quotes): the write is refused with "
                         "STALE_VERSION, and changes nothing, if the record changed since. Leave it out to write "
                         "whatever the record's version.")
OPERATION_HELP = ("The change written: `create`, `update`, `delete` or `restore`; null when the write changed nothing "
                  "(no change entry).")


# -- errors and permissions ---------------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def schema_path(field_path: str) -> str:
    """A service's field path in the schema's names: `periods[0].end_date` -> `periods[0].endDate`."""
    return _NAME.sub(lambda m: to_camel_case(m.group()), field_path)


def write_error(exc: WriteError) -> GraphQLError:
    """A refused write as a GraphQL error: `extensions.code` and `extensions.errors`."""
    errors = [{"index": e["index"], "field": schema_path(e["field"]), "message": e["message"]} for e in exc.errors]
    code = CODES.get(exc.code, "INVALID")
    extensions = {"code": code, "errors": errors}
    if code == "CONFLICT":
        extensions["reason"] = exc.code
    message = "; ".join(("" if e["index"] is None else f"row {e['index']}: ") + f"{e['field']}: {e['message']}"
                        for e in errors)
    return GraphQLError(message or "The write was refused.", extensions=extensions)


class _Collection:
    """What REST's write permission reads of a view: the collection it changes."""

    def __init__(self, name: str):
        self.resource_name = name


def authorize(info: GraphQLResolveInfo, collection: str) -> str:
    """The actor a mutation writes as (its key, as change entries name it), or a GraphQL error:
    UNAUTHENTICATED without a good key, FORBIDDEN for a key that may not change `collection`."""
    # REST's rule, asked as for a POST: a mutation writes whatever method carried it.
    request = SimpleNamespace(method="POST", _request=info.context)
    try:
        ReadAnonymousWriteWithKey().has_permission(request, _Collection(collection))
    except (exceptions.NotAuthenticated, exceptions.AuthenticationFailed) as exc:
        raise GraphQLError(_refusal(exc), extensions={"code": "UNAUTHENTICATED"}) from None
    except exceptions.PermissionDenied as exc:
        raise GraphQLError(_refusal(exc), extensions={"code": "FORBIDDEN"}) from None
    return str(actor_of(info.context))


def _refusal(exc: exceptions.APIException) -> str:
    """REST's problem detail and how to fix it, as one message."""
    how_to_fix = getattr(exc, "how_to_fix", "")
    return f"{exc.detail} {how_to_fix}".strip()


def run(write: Callable[[], Write | list[Write]]):
    try:
        return write()
    except WriteError as exc:
        raise write_error(exc) from None


# -- inputs, generated from the Writer --------------------------------------------------------------

def _scalar(model_field: models.Field):
    if model_field.is_relation:
        return graphene.String
    if isinstance(model_field, models.BooleanField):
        return graphene.Boolean
    if isinstance(model_field, models.IntegerField):  # PositiveIntegerField too
        return graphene.Int
    return graphene.String  # text, numbers (exact, as text), dates (ISO), uids


def _describe(model_field: models.Field, writer: Writer | None = None) -> str | None:
    said = []
    if model_field.is_relation:
        related = model_field.related_model
        said.append(f"The {related.resource.replace('_', ' ')}'s {related.public_key}.")
    elif model_field.choices:
        said.append("One of: " + ", ".join(f"`{value}`" for value, _ in model_field.flatchoices) + ".")
    elif isinstance(model_field, models.DecimalField):
        said.append('A number, as text (`"259.9"`).')
    elif isinstance(model_field, models.DateField):
        said.append("A date, ISO 8601 (`2025-01-08`).")
    if writer is not None and model_field is writer.key_field:
        if not model_field.editable:
            identity = ", ".join(f"`{to_camel_case(name)}`" for name in writer.identity)
            said.append(f"Derived from the {writer.resource.replace('_', ' ')}'s {identity}: leave it out, or send "
                        "the one you read.")
        elif isinstance(model_field, models.SlugField):
            said.append("Lower-case kebab-case ASCII (`grain-output`).")
        said.append("A record's key never changes.")
    if model_field.help_text:
        said.append(str(model_field.help_text).rstrip(".") + ".")
    return " ".join(said) or None


def _required(writer: Writer, model_field: models.Field) -> bool:
    """Whether a whole-record write (create, upsert) needs the field: as the Writer decides."""
    if model_field is writer.key_field and not model_field.editable:
        return False  # a uid: derived from the record's natural key
    return not (model_field.has_default() or model_field.blank or model_field.null
                or model_field.name in writer.optional)


def _input_class(name: str, fields: dict, description: str, **attrs) -> type[graphene.InputObjectType]:
    meta = type("Meta", (), {"name": name, "description": description})
    return type(name, (graphene.InputObjectType,), {"Meta": meta, **fields, **attrs})


def part_input(rel: models.ManyToOneRel) -> type[graphene.InputObjectType]:
    """The input of a record's part (a source's period): the part model's fields."""
    model = rel.related_model
    fields = {}
    for f in model._meta.concrete_fields:
        if f.primary_key or f is rel.field:
            continue
        type_ = _scalar(f)
        required = not (f.has_default() or f.blank or f.null)
        fields[f.name] = graphene.InputField(graphene.NonNull(type_) if required else type_, description=_describe(f))
    return _input_class(f"{model.__name__}Input", fields, f"A {model._meta.verbose_name}, as written with its record.")


def input_type(writer: Writer, name: str, *, partial: bool, key: bool = True, exclude: Iterable[str] = (),
               references: dict[str, type] | None = None, nested: dict[str, graphene.InputField] | None = None,
               description: str = "", reference_key: str | None = None) -> type[graphene.InputObjectType]:
    """The input of a resource's `data`, from its Writer: its fields, many-to-many lists, parts and
    nested data. `partial`: every field optional (an update); else those the service requires are
    non-null. `key`: with the record's public key. `references`: the input of the items of a
    many-to-many list whose service also takes them as mappings (else a list of keys).
    `reference_key`: this input names a record by that key alone when only it is given."""
    references, nested, exclude = references or {}, nested or {}, set(exclude)
    fields: dict[str, graphene.InputField] = {}
    for f in writer.fields:
        if f.name in exclude or (f is writer.key_field and not key):
            continue
        type_ = _scalar(f)
        if not partial and _required(writer, f):
            type_ = graphene.NonNull(type_)
        fields[f.name] = graphene.InputField(type_, description=_describe(f, writer))
    for f in writer.m2m:
        if f.name in exclude:
            continue
        related = f.related_model
        item = references.get(f.name, graphene.String)
        type_ = graphene.List(graphene.NonNull(item))
        if not partial and not f.blank:
            type_ = graphene.NonNull(type_)
        how = ("each its key, or its fields to write it with this record" if f.name in references
               else f"each its {related.public_key}")
        fields[f.name] = graphene.InputField(type_, description=f"The {related._meta.verbose_name_plural}: {how}.")
    for part, rel in writer.parts.items():
        if part not in exclude:
            fields[part] = graphene.InputField(graphene.List(graphene.NonNull(part_input_of(rel))), description=(
                f"The {rel.related_model._meta.verbose_name_plural}, all of them (they replace those there were)."))
    for nested_name, nested_field in nested.items():
        if nested_name not in exclude:  # a copy, mounted after the fields above (graphene orders by creation)
            fields[nested_name] = graphene.InputField(nested_field.type, description=nested_field.description)
    return _input_class(name, fields, description, reference_key=reference_key)


_PART_INPUTS: dict[models.ManyToOneRel, type] = {}


def part_input_of(rel: models.ManyToOneRel) -> type[graphene.InputObjectType]:
    """One input type per part relation, however many inputs embed it."""
    if rel not in _PART_INPUTS:
        _PART_INPUTS[rel] = part_input(rel)
    return _PART_INPUTS[rel]


def data_of(value):
    """An input value as the services' `data`: input objects as dicts of the fields given (a field
    left out stays out; an explicit null is None), lists as lists; a reference input holding only
    its key as the key."""
    if isinstance(value, dict):
        key = getattr(type(value), "reference_key", None)
        if key and set(value) == {key}:
            return value[key]
        return {name: data_of(item) for name, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [data_of(item) for item in value]
    return value


# -- the mutations of one resource ------------------------------------------------------------------

@dataclass
class WriteMutations:
    """A resource's mutations, their inputs and their payload (see the module docstring)."""

    writes: Writes
    writer: Writer
    type: type  # the resource's PublicObjectType
    collection: str  # the collection an API key's `resources` names (`observations`)
    references: dict[str, type] = field(default_factory=dict)
    nested: dict[str, graphene.InputField] = field(default_factory=dict)
    extra: dict[str, graphene.Field] = field(default_factory=dict)

    def __post_init__(self):
        name = self.type._meta.name
        self.name = name
        self.record_field = to_snake_case(name)  # `topic`, `project_status`
        resource = self.writer.resource.replace("_", " ")
        self.input = input_type(
            self.writer, f"{name}Input", partial=False, references=self.references, nested=self.nested,
            description=(f"A whole {resource}, as REST's write body writes it (create, upsert): references by their "
                         "public keys, numbers, dates and uids as text. A field left out takes its default."))
        self.patch = input_type(
            self.writer, f"{name}Patch", partial=True, key=False, references=self.references, nested=self.nested,
            description=(f"The fields of a {resource} to change (update): a field left out keeps its value; null "
                         "empties one that may be empty."))
        self.payload = type(f"{name}Payload", (graphene.ObjectType,), {
            "Meta": type("Meta", (), {"name": f"{name}Payload",
                                      "description": f"A {resource} as written, and its version."}),
            self.record_field: graphene.Field(self.type, required=True,
                                              description=f"The {resource} as written (a deleted one too)."),
            "version": graphene.String(required=True, description=VERSION_HELP),
            "operation": graphene.String(description=OPERATION_HELP),
        })

    @property
    def model(self) -> type[PublicModel]:
        return self.writes.model

    @property
    def key_argument(self) -> dict[str, graphene.Argument]:
        key = self.model.public_key
        return {key: graphene.Argument(graphene.NonNull(graphene.String), description=f"The record's {key}.")}

    # -- the fields ----------------------------------------------------------------------------------
    def fields(self) -> dict[str, graphene.Field]:
        """`create<Type>`, `update<Type>`, `upsert<Type>`, `delete<Type>`, `restore<Type>` (and any extra)."""
        resource, key, writes = self.writer.resource.replace("_", " "), self.model.public_key, self.writes
        version = {"expected_version": graphene.Argument(graphene.String, description=EXPECTED_VERSION_HELP)}
        whole = {"input": graphene.Argument(graphene.NonNull(self.input))}

        def create(root, info, input):
            actor = authorize(info, self.collection)
            return self.respond(info, run(lambda: writes.create(data=data_of(input), actor=actor)))

        def update(root, info, input, expected_version=None, **args):
            actor = authorize(info, self.collection)
            return self.respond(info, run(lambda: writes.update(key=args[key], data=data_of(input), actor=actor,
                                                                 partial=True, expected_version=expected_version)))

        def upsert(root, info, input):
            actor = authorize(info, self.collection)
            return self.respond(info, run(lambda: writes.upsert(data=data_of(input), actor=actor)))

        def delete(root, info, expected_version=None, **args):
            actor = authorize(info, self.collection)
            return self.respond(info, run(lambda: writes.delete(key=args[key], actor=actor,
                                                                 expected_version=expected_version)))

        def restore(root, info, expected_version=None, **args):
            actor = authorize(info, self.collection)
            return self.respond(info, run(lambda: writes.restore(key=args[key], actor=actor,
                                                                  expected_version=expected_version)))

        return {
            f"create_{self.record_field}": graphene.Field(self.payload, resolver=create, args=whole, description=(
                f"Create a {resource}. CONFLICT (reason `exists`) if one has its {key}, deleted or not.")),
            f"update_{self.record_field}": graphene.Field(self.payload, resolver=update, args={
                **self.key_argument, "input": graphene.Argument(graphene.NonNull(self.patch)), **version,
            }, description=f"Change some fields of a live {resource} (GONE if deleted: restore it first)."),
            f"upsert_{self.record_field}": graphene.Field(self.payload, resolver=upsert, args=whole, description=(
                f"Make the {resource} with this {key} equal to the input and live: create it, update it (the whole "
                f"record: a field left out takes its default), or restore and update it.")),
            f"delete_{self.record_field}": graphene.Field(self.payload, resolver=delete, args={
                **self.key_argument, **version,
            }, description=(f"Soft-delete a {resource}: it leaves the collections and the change feed says so. "
                            "CONFLICT (reason `in_use`) while live records refer to it.")),
            f"restore_{self.record_field}": graphene.Field(self.payload, resolver=restore, args={
                **self.key_argument, **version,
            }, description=f"Bring a deleted {resource} back, checked against the rules again."),
            **self.extra,
        }

    def bulk_upsert(self, service: Callable[..., list[Write]], *, name: str) -> WriteMutations:
        """Add `name` (`bulk_upsert_observations`): `service(rows=..., actor=...)` in one transaction,
        all rows or none, with `results` in the rows' order."""
        plural = self.model._meta.verbose_name_plural
        title = to_camel_case(name)
        title = f"{title[0].upper()}{title[1:]}Payload"  # BulkUpsertObservationsPayload
        payload = type(title, (graphene.ObjectType,), {
            "Meta": type("Meta", (), {"name": title,
                                      "description": f"The {plural} as written, in the order of the rows."}),
            "results": graphene.List(graphene.NonNull(self.payload), required=True,
                                     description="One result per row, in the rows' order."),
        })

        def resolve(root, info, rows):
            actor = authorize(info, self.collection)
            if len(rows) > MAX_BULK_ROWS:
                raise GraphQLError(f"{len(rows)} rows; a bulk upsert takes at most {MAX_BULK_ROWS}: split them.",
                                   extensions={"code": "TOO_MANY_ROWS", "limit": MAX_BULK_ROWS})
            writes = run(lambda: service(rows=[data_of(row) for row in rows], actor=actor))
            return {"results": self.results(info, writes, path=("results", self.record_field))}

        self.extra[name] = graphene.Field(payload, resolver=resolve, args={
            "rows": graphene.Argument(graphene.NonNull(graphene.List(graphene.NonNull(self.input))), description=(
                f"The {plural}, each a whole record as `upsert` takes it (at most {MAX_BULK_ROWS})."))},
            description=(f"Upsert many {plural} in one transaction: all of them, or, when any row is refused, none "
                         "(INVALID, each problem with its row's `index`)."))
        return self

    # -- the payload ---------------------------------------------------------------------------------
    def respond(self, info: GraphQLResolveInfo, write: Write) -> dict:
        return self.results(info, [write], path=(self.record_field,))[0]

    def results(self, info: GraphQLResolveInfo, writes: Sequence[Write], *, path: tuple[str, ...]) -> list[dict]:
        rows = self.reread(info, [w.record.pk for w in writes], path)
        return [{self.record_field: rows[w.record.pk], "version": record_version(w.record), "operation": w.operation}
                for w in writes]

    def reread(self, info: GraphQLResolveInfo, pks: list, path: tuple[str, ...]) -> dict:
        """The records written, by pk, loaded for what the selection at `path` (below the mutation's
        field) asks, as a look-up loads a record: one query, plus one per nested list."""
        gql_type, nodes = get_named_type(info.return_type), list(info.field_nodes)
        for name in path:
            graphql_name = to_camel_case(name)
            nodes = [node for found in sub_fields(info, gql_type, nodes).values()
                     if found[0].name.value == graphql_name for node in found]
            gql_type = get_named_type(gql_type.fields[graphql_name].type)
        plan = plan_rows(info, gql_type, nodes)
        rows = {row.pk: row for row in plan.fetch(plan.shape(self.type.rows().filter(pk__in=pks)))}
        missing = [pk for pk in pks if pk not in rows]
        if missing:  # outside the type's selector (a deleted citation): read from the table itself
            table = self.model._base_manager.filter(pk__in=missing)
            rows.update((row.pk, row) for row in plan.fetch(plan.shape(table)))
        return rows


def write_mutations(*, writes: Writes, writer: Writer, type, collection: str,
                    references: dict[str, type] | None = None,
                    nested: dict[str, graphene.InputField] | None = None) -> WriteMutations:
    """A resource's mutations (see the module docstring)."""
    return WriteMutations(writes=writes, writer=writer, type=type, collection=collection,
                          references=references or {}, nested=nested or {})


_REFERENCE_INPUTS: dict[type, type] = {}


def reference_input(writer: Writer) -> type[graphene.InputObjectType]:
    """`<Model>Ref`: a reference the service also takes as the related record's fields (a citation
    in a fact): every field of the record, optional; its key alone names an existing record. One
    per resource, whichever apps embed it."""
    model = writer.model
    if model not in _REFERENCE_INPUTS:
        key, resource = model.public_key, model.resource.replace("_", " ")
        names = ", ".join(f"`{to_camel_case(f.name)}`" for f in writer.fields if f is not writer.key_field)
        _REFERENCE_INPUTS[model] = input_type(writer, f"{model.__name__}Ref", partial=True, reference_key=key,
                                              description=(
            f"A {resource}: its `{key}` alone, or its fields ({names}): the {resource} they make is used, restored "
            "if deleted, or written with the record that refers to it when it does not exist yet."))
    return _REFERENCE_INPUTS[model]


def mutation_type(name: str, *resources: WriteMutations) -> type[graphene.ObjectType]:
    """The root mutation fields of an app's resources, as a base of the schema's `Mutation`."""
    fields = {}
    for resource in resources:
        fields.update(resource.fields())
    return type(name, (graphene.ObjectType,), fields)
