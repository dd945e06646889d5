"""The public GraphQL endpoint: GraphiQL for browsers, POST for clients, GET for cacheable queries,
the limits of limits.py enforced before anything runs, and the query's cost in `extensions`.

What a client sees of a failure is what it can act on: its own mistakes (syntax, validation, limits,
arguments; each with an `extensions.code`) are told as they are. An exception nobody meant for it
(a bug, a driver's message) is logged with its traceback and masked as `Internal error` with the
request's id; a database that cannot be reached makes the whole answer a 503 with Retry-After.
"""

from __future__ import annotations

import functools

import json
import logging
from collections.abc import Mapping

import orjson
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed
from graphene_django.settings import graphene_settings
from graphene_django.views import GraphQLView, HttpError
from graphql import ExecutionResult, GraphQLError, OperationType, execute, get_operation_ast, parse, validate
from graphql.execution.values import get_variable_values
from graphql.validation import specified_rules

from opendata.base.graphql.arguments import argument_errors, argument_fields
from opendata.base.graphql.fastpath import FastExecutionContext
from opendata.base.graphql.limits import MAX_DOCUMENT_BYTES, MAX_TOKENS, QueryCost, check_limits
from opendata.base.ratelimit import charge_query

logger = logging.getLogger(__name__)

DATABASE_RETRY_AFTER = 5  # seconds: the Retry-After of a 503 when the database cannot be reached

GRAPHIQL_ASSETS = (
    "whatwg_fetch_version", "whatwg_fetch_sri", "react_version", "react_sri", "react_dom_sri", "graphiql_version",
    "graphiql_sri", "graphiql_css_sri", "subscriptions_transport_ws_version", "subscriptions_transport_ws_sri",
    "graphiql_plugin_explorer_version", "graphiql_plugin_explorer_sri", "graphiql_plugin_explorer_css_sri",
)


def original_error(error: Exception) -> Exception:
    """The exception behind a GraphQL error (graphql-core wraps what a resolver raises)."""
    while isinstance(error, GraphQLError) and error.original_error is not None:
        error = error.original_error
    return error


def is_told(error: Exception) -> bool:
    """An error the client may read as it is: one of the request itself (syntax, validation, limits,
    variables: no `path`), or one a resolver raised on purpose, as a GraphQLError with a `code`."""
    if not isinstance(error, GraphQLError):
        return False
    if error.path is None:  # refused before any field ran (a scalar's own parsing error included)
        return True
    return bool((getattr(original_error(error), "extensions", None) or {}).get("code"))


def database_unavailable(error: Exception) -> bool:
    return isinstance(original_error(error), (OperationalError, InterfaceError))


@functools.lru_cache(maxsize=256)
def parsed_and_validated(schema, query: str):
    """The document of `query` and the errors of the specification's rules (which depend on the text and
    the schema only), kept for the 256 most recent texts: a client sends the same few queries with other
    variables, and parsing and validating were ~10 % of a query of 100 observations (issue 13). With them,
    the fields that take arguments (arguments.argument_fields: graphql-core's TypeInfo walk, done once).
    A syntax error raises (and is not kept). The limits and the arguments, which depend on the variables,
    are checked on every request."""
    document = parse(query, max_tokens=MAX_TOKENS)
    errors = tuple(validate(schema, document, specified_rules))
    return document, errors, () if errors else argument_fields(schema, document)


def compact_json(data) -> bytes | str:
    """`json.dumps(data, separators=(",", ":"), ensure_ascii=False)` in UTF-8, written by orjson (~1 ms less for
    R4's 30 kB). The same bytes for what a response holds (no schema field is a Float, whose exponent orjson
    writes as `1e16`, not `1e+16`); what orjson refuses (an integer beyond 64 bits, a lone surrogate, a key that
    is no string) goes to the json module as before."""
    try:
        return orjson.dumps(data)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


class PublicGraphQLView(GraphQLView):
    graphiql = True
    response_headers: Mapping[str, str] = {}  # set per request by get_response (Retry-After of a 503)

    def dispatch(self, request, *args, **kwargs):
        """GraphQLView.dispatch's work, without its ensure_csrf_cookie decorator: a public, read-only
        API sets no cookie (a Set-Cookie would also keep shared caches from storing GET responses).
        POST needs no CSRF token: the URL is csrf_exempt. No batch requests (`batch` stays off)."""
        self.cost: QueryCost | None = None
        try:
            if request.method.lower() not in ("get", "post"):
                raise HttpError(HttpResponseNotAllowed(["GET", "POST"], "GraphQL only supports GET and POST requests."))
            data = self.parse_body(request)
            if self.graphiql and self.can_display_graphiql(request, data):
                return self.render_graphiql(request, **self.graphiql_context())
            content, status = self.get_response(request, data)
            response = HttpResponse(status=status, content=content, content_type="application/json")
            for name, value in self.response_headers.items():
                response[name] = value
            return response
        except HttpError as error:
            response = error.response
            response["Content-Type"] = "application/json"
            response.content = self.json_encode(request, {"errors": [self.format_error(error)]})
            return response

    def graphiql_context(self) -> dict:
        """What the GraphiQL template (opendata/base/templates/graphene/graphiql.html) reads: the
        vendored files' versions and integrity hashes, as GraphQLView declares them, and its settings."""
        return {
            **{name: getattr(self, name) for name in GRAPHIQL_ASSETS},
            "subscription_path": self.subscription_path,
            "graphiql_header_editor_enabled": graphene_settings.GRAPHIQL_HEADER_EDITOR_ENABLED,
            "graphiql_should_persist_headers": graphene_settings.GRAPHIQL_SHOULD_PERSIST_HEADERS,
            "graphiql_input_value_deprecation": graphene_settings.GRAPHIQL_INPUT_VALUE_DEPRECATION,
        }

    def get_context(self, request):
        """The request quota is shared with REST (opendata/base/ratelimit.py): RateLimitMiddleware charged
        this request 1 unit on arrival; a query costing more is charged the rest here, once validated and
        just before it runs (execute_graphql_request asks for the context then). Over the quota it raises
        RATE_LIMITED and does not run; the middleware answers 429 with Retry-After."""
        charge_query(request, self.cost)
        return super().get_context(request)

    def execute_graphql_request(self, request, data, query, variables, operation_name, show_graphiql=False):
        if not query:
            return super().execute_graphql_request(request, data, query, variables, operation_name, show_graphiql)
        size = len(query.encode())
        if size > MAX_DOCUMENT_BYTES:
            return ExecutionResult(errors=[GraphQLError(
                f"The query is {size} bytes; the limit is {MAX_DOCUMENT_BYTES}. Use fragments and variables, "
                "or split it.", extensions={"code": "QUERY_TOO_LARGE"})])
        schema = self.schema.graphql_schema
        try:
            document, validation_errors, fields_with_arguments = parsed_and_validated(schema, query)
        except GraphQLError as error:
            return ExecutionResult(errors=[error])

        operation = get_operation_ast(document, operation_name)
        if request.method.lower() == "get" and operation is not None and operation.operation != OperationType.QUERY:
            if show_graphiql:
                return None
            raise HttpError(HttpResponseNotAllowed(["POST"], f"Can only perform a {operation.operation.value} "
                                                             "operation from a POST request."))

        if validation_errors:
            return ExecutionResult(errors=list(validation_errors))
        if operation is None:  # none, or several without an operationName: execute says which
            coerced = {}
        else:  # the variables as the operation declares them (a bad value is a 400, as in execute)
            coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
            if isinstance(coerced, list):
                return ExecutionResult(errors=coerced)
        cost = QueryCost()
        errors = check_limits(schema, document, coerced, operation_name, cost)
        self.cost = cost
        if errors:
            return ExecutionResult(errors=errors)
        errors = argument_errors(schema, fields_with_arguments, coerced, operation_name)
        if errors:
            return ExecutionResult(errors=errors)
        try:
            return execute(schema, document, root_value=self.get_root_value(request),
                           context_value=self.get_context(request), variable_values=variables,
                           operation_name=operation_name, middleware=self.get_middleware(request),
                           execution_context_class=FastExecutionContext)
        except Exception as error:  # noqa: BLE001 - graphql reports it as an error of the response
            return ExecutionResult(errors=[error])

    def get_response(self, request, data, show_graphiql=False):
        query, variables, operation_name, _id = self.get_graphql_params(request, data)
        for name, value, kind in (("query", query, str), ("operationName", operation_name, str),
                                  ("variables", variables, dict)):
            if value is not None and not isinstance(value, kind):
                raise HttpError(HttpResponseBadRequest(
                    f"`{name}` must be {'an object' if kind is dict else 'a string'}, got {type(value).__name__}."))
        result = self.execute_graphql_request(request, data, query, variables, operation_name, show_graphiql)
        if result is None:
            return None, 200
        errors = result.errors or []
        if any(database_unavailable(e) for e in errors):
            return self.unavailable(request, errors), 503
        response, status = {}, 200
        if errors:
            response["errors"] = [self.public_error(request, e) for e in errors]
            if any(not isinstance(e, GraphQLError) for e in errors):
                status = 500  # the execution itself failed: no data
            elif any(not e.path for e in errors):
                status = 400  # the request was refused as a whole (syntax, validation, limits): no data
        if status == 200:
            response["data"] = result.data
        if self.cost is not None:
            response["extensions"] = {"cost": self.cost.as_extension()}
        return self.json_encode(request, response, pretty=show_graphiql), status

    def public_error(self, request, error: Exception) -> dict:
        """The error as the client sees it: as it is when `is_told`, else logged and masked."""
        if is_told(error):
            return self.format_error(error)
        request_id = getattr(request, "request_id", None)
        path = getattr(error, "path", None)
        cause = original_error(error)
        logger.error("GraphQL error at %s (request %s): %r", ".".join(map(str, path or ())) or "(operation)",
                     request_id, cause, exc_info=(type(cause), cause, cause.__traceback__))
        masked = {"message": "Internal error"}
        if isinstance(error, GraphQLError):
            masked.update({k: v for k, v in error.formatted.items() if k in ("locations", "path")})
        masked["extensions"] = {"code": "INTERNAL_ERROR", "requestId": request_id}
        return masked

    def unavailable(self, request, errors) -> str:
        """The body of a 503: the database cannot be reached (the cause is logged, not told)."""
        request_id = getattr(request, "request_id", None)
        cause = original_error(next(e for e in errors if database_unavailable(e)))
        logger.error("GraphQL request %s: database unavailable: %r", request_id, cause,
                     exc_info=(type(cause), cause, cause.__traceback__))
        self.response_headers = {"Retry-After": str(DATABASE_RETRY_AFTER)}
        return self.json_encode(request, {"errors": [{
            "message": f"The database is unavailable; retry in {DATABASE_RETRY_AFTER} seconds.",
            "extensions": {"code": "SERVICE_UNAVAILABLE", "retryAfter": DATABASE_RETRY_AFTER,
                           "requestId": request_id}}]})

    def json_encode(self, request, d, pretty=False):
        if not (self.pretty or pretty) and not request.GET.get("pretty"):
            return compact_json(d)
        return json.dumps(d, sort_keys=True, indent=2, separators=(",", ": "), ensure_ascii=False)
