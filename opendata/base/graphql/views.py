"""The public GraphQL endpoint: GraphiQL for browsers, POST for clients, GET for cacheable queries,
the limits of limits.py enforced before anything runs, and the query's cost in `extensions`."""

from __future__ import annotations

import json

from django.http import HttpResponseBadRequest, HttpResponseNotAllowed
from graphene_django.views import GraphQLView, HttpError
from graphql import ExecutionResult, GraphQLError, OperationType, execute, get_operation_ast, parse, validate
from graphql.validation import specified_rules

from opendata.base.graphql.limits import MAX_DOCUMENT_BYTES, MAX_TOKENS, QueryCost, limits_rule
from opendata.base.ratelimit import charge_query


class PublicGraphQLView(GraphQLView):
    graphiql = True

    def dispatch(self, request, *args, **kwargs):
        # GraphQLView.dispatch is wrapped in ensure_csrf_cookie; a public, read-only API sets no cookie
        # (a Set-Cookie would also keep shared caches from storing GET responses).
        self.cost: QueryCost | None = None
        # The request quota, shared with REST (opendata/base/ratelimit.py): RateLimitMiddleware charged this
        # request 1 unit on arrival; a query costing more is charged the rest once validated, just before it
        # runs (execute_graphql_request asks for the context then). Over the quota it raises RATE_LIMITED and
        # does not run; the middleware answers 429 with Retry-After.
        def get_context_once_charged(request):
            charge_query(request, self.cost)
            return GraphQLView.get_context(self, request)

        self.get_context = get_context_once_charged
        return GraphQLView.dispatch.__wrapped__(self, request, *args, **kwargs)

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
