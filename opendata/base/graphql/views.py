"""The public GraphQL endpoint: GraphiQL for browsers, POST for clients, GET for cacheable queries,
the limits of limits.py enforced before anything runs, and the query's cost in `extensions`."""

from __future__ import annotations

import json

from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed
from graphene_django.settings import graphene_settings
from graphene_django.views import GraphQLView, HttpError
from graphql import ExecutionResult, GraphQLError, OperationType, execute, get_operation_ast, parse, validate
from graphql.validation import specified_rules

from opendata.base.graphql.limits import MAX_DOCUMENT_BYTES, MAX_TOKENS, QueryCost, limits_rule
from opendata.base.ratelimit import charge_query

GRAPHIQL_ASSETS = (
    "whatwg_fetch_version", "whatwg_fetch_sri", "react_version", "react_sri", "react_dom_sri", "graphiql_version",
    "graphiql_sri", "graphiql_css_sri", "subscriptions_transport_ws_version", "subscriptions_transport_ws_sri",
    "graphiql_plugin_explorer_version", "graphiql_plugin_explorer_sri", "graphiql_plugin_explorer_css_sri",
)


class PublicGraphQLView(GraphQLView):
    graphiql = True

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
            return HttpResponse(status=status, content=content, content_type="application/json")
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
        try:
            document = parse(query, max_tokens=MAX_TOKENS)
        except GraphQLError as error:
            return ExecutionResult(errors=[error])

        operation = get_operation_ast(document, operation_name)
        if request.method.lower() == "get" and operation is not None and operation.operation != OperationType.QUERY:
            if show_graphiql:
                return None
            raise HttpError(HttpResponseNotAllowed(["POST"], f"Can only perform a {operation.operation.value} "
                                                             "operation from a POST request."))

        schema = self.schema.graphql_schema
        errors = validate(schema, document, specified_rules)
        if errors:
            return ExecutionResult(errors=errors)
        cost = QueryCost()
        errors = validate(schema, document, [limits_rule(variables, operation_name, cost)])
        self.cost = cost
        if errors:
            return ExecutionResult(errors=errors)
        try:
            return execute(schema, document, root_value=self.get_root_value(request),
                           context_value=self.get_context(request), variable_values=variables,
                           operation_name=operation_name, middleware=self.get_middleware(request))
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
        response, status = {}, 200
        if result.errors:
            response["errors"] = [self.format_error(e) for e in result.errors]
            if any(not getattr(e, "path", None) for e in result.errors):
                status = 400  # the request was refused as a whole (syntax, validation, limits): no data
        if status == 200:
            response["data"] = result.data
        if self.cost is not None:
            response["extensions"] = {"cost": self.cost.as_extension()}
        return self.json_encode(request, response, pretty=show_graphiql), status

    def json_encode(self, request, d, pretty=False):
        if not (self.pretty or pretty) and not request.GET.get("pretty"):
            return json.dumps(d, separators=(",", ":"), ensure_ascii=False)
        return json.dumps(d, sort_keys=True, indent=2, separators=(",", ": "), ensure_ascii=False)
