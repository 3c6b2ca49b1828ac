"""The direct lane: the common query or mutation over HTTP runs straight from the view.

Most requests a frontend or an integration sends are the same few documents again: one the
cache already holds, valid, a query or a mutation, its variables coercing. For those,
Strawberry's per-request machinery (its request adapter and body parsing, the execution
context, six extensions entered and left as context managers, the middleware manager,
graphql-core's `execute`) is the larger part of what a small page costs. `DirectLane.answer`
runs such a request through the same steps with the same functions, called directly:

  the caller (already known: app/graphql/app.py) -> the cached document (documents.py) ->
  the executor (graphql-core's `Executor.build`, the schema's own executor class: variable
  coercion) -> a query's compiled plan (compiled.py; a mutation runs on graphql-core's
  executor, serially, as Strawberry runs it) -> what the caller's credential allows
  (grants.py) -> cost and budget (extensions.price) -> execute -> errors logged
  (Schema.process_errors), an unreachable database answered as 20503 (503 with Retry-After),
  unexpected errors masked -> the operation's metrics -> the response, in the media type asked
  for.

Anything else goes to Strawberry's view unchanged (`answer` returns None before any effect):
a document seen for the first time (the view prepares and caches it), another content type, a
body that is not one JSON object with only `query`, `variables` and `operationName`,
persisted-document `extensions`, a document that does not parse or validate, a
subscription, variables that do not coerce, a query the plan does not compile, a
credential that refuses the operation, a refused cost. So every error answer is Strawberry's
own; the lane only answers what ran (with field errors in it) and an exhausted budget, exactly
as the extensions would (tests/graphql/test_direct.py compares both on every kind of
request).
"""

from __future__ import annotations

import time
from typing import Any, cast

from graphql import ExecutionResult, GraphQLError, OperationType, get_operation_ast
from starlette.requests import Request
from starlette.responses import Response
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import MaskErrors

from app.config import Settings
from app.graphql import compiled, grants
from app.graphql.context import Context
from app.graphql.extensions import (
    MASKED_MESSAGE,
    answered_unavailable,
    failure,
    is_unexpected,
    observe_operation,
    price,
)
from app.graphql.schema import Schema
from app.http_body import MalformedJson, decode_json
from app.observability import logs
from app.observability.metrics import safe_operation_name
from app.store.conflicts import unavailable

KEYS = frozenset({"query", "variables", "operationName"})
LANE_OPERATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})
JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def _json_body(content_type: str | None) -> bool:
    return content_type is not None and content_type.split(";", 1)[0].strip().lower() == JSON


class DirectLane:
    def __init__(self, view: Any, schema: Schema, settings: Settings) -> None:
        self.view = view  # app.graphql.app.GraphQLView: its context and its JSON encoding
        self.schema = schema
        self.core = schema._schema
        self.executor_class = schema.execution_context_class
        self.max_nodes = settings.graphql_max_nodes
        self.mask = MaskErrors(should_mask_error=is_unexpected, error_message=MASKED_MESSAGE)

    async def answer(self, request: Request, body: bytes) -> Response | None:
        """The response to an authenticated POST whose body is `body`, or None: Strawberry's
        view answers it instead (nothing has happened yet)."""
        if not _json_body(request.headers.get("content-type")):
            return None
        try:
            data = decode_json(body)
        except MalformedJson:
            return None
        if type(data) is not dict or not data.keys() <= KEYS:
            return None
        query, variables, name = data.get("query"), data.get("variables"), data.get("operationName")
        if (
            type(query) is not str
            or (variables is not None and type(variables) is not dict)
            or (name is not None and type(name) is not str)
        ):
            return None
        started = time.perf_counter()
        documents = self.schema.documents.of(self.core)
        key, prepared = documents.cached(query)
        if prepared is None or prepared.document is None or prepared.errors:
            return None  # (Strawberry's view prepares it, and caches it for the next time)
        document = prepared.document
        operation = get_operation_ast(document, name)
        if operation is None or operation.operation not in LANE_OPERATIONS:
            return None
        mutation = operation.operation is OperationType.MUTATION
        sub_response = await self.view.get_sub_response(request)
        ctx: Context = await self.view.get_context(request, sub_response)
        ex = self.executor_class.build(
            self.core,
            document,
            None,
            ctx,
            variables,
            name,
            is_awaitable=cast(Any, optimized_is_awaitable),
            operation_extensions=None,
        )
        if isinstance(ex, list):  # variables that do not coerce
            return None
        # a query on its compiled plan; a mutation on graphql-core's executor (serially)
        plan = None if mutation else compiled.plan_for(ex)
        caller = ctx.caller
        if (plan is None and not mutation) or caller is None:
            return None
        svc = ctx.services
        try:
            if await grants.refusal(svc, caller, self.core, document, mutation, variables):
                return None
        except Exception as exc:  # (the database: Strawberry's view answers it)
            if not unavailable(exc):
                raise
            return None
        operation_name = (
            name if name is not None else operation.name.value if operation.name else None
        )
        logs.operation.set(safe_operation_name(operation_name))
        refused: GraphQLError | None = None
        try:
            refused = await price(
                ctx, self.core, document, operation_name, variables, self.max_nodes
            )
            if refused is not None and ctx.rate is None:  # over the node limit: the view's
                return None
            documents.hit(key)
            result = self._refused(refused) if refused is not None else await self._run(plan, ex)
        except Exception as exc:  # the budget's read or write, as the Cost extension's
            result = failure(exc, ctx)
        errors = list(result.errors or ())
        observe_operation(
            operation_name,
            operation.operation.value,
            errors,
            refused is None,
            time.perf_counter() - started,
            ctx.cost_nodes,
        )
        return self._response(result, sub_response, refused is not None)

    async def _run(self, plan: compiled.Plan | None, ex: Any) -> ExecutionResult:
        result = plan.execute(ex) if plan is not None else ex.execute_operation()
        if ex.is_awaitable(result):
            result = await result
        return self._finished(result, ex.context_value)

    def _finished(self, result: ExecutionResult, ctx: Context) -> ExecutionResult:
        """Errors logged (before they are masked), the database's absence answered as 20503,
        unexpected errors masked: Schema.process_errors, DatabaseUnavailable, MaskErrors."""
        if result.errors:
            self.schema.process_errors(result.errors)
            if answered_unavailable(result, ctx):
                result.data = None
            else:
                result.errors = self.mask._process_errors(result.errors)
        return result

    @staticmethod
    def _refused(error: GraphQLError) -> ExecutionResult:
        return ExecutionResult(data=None, errors=[error])

    def _response(self, result: ExecutionResult, sub: Response, refused: bool) -> Response:
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [e.formatted for e in result.errors]
        if refused and sub.media_type == GRAPHQL_RESPONSE:
            del body["data"]  # a request error: nothing ran (the status is set already)
        response = Response(
            self.view.encode_body(body),
            status_code=sub.status_code or 200,
            media_type=sub.media_type or JSON,
        )
        response.headers.raw.extend(sub.headers.raw)
        return response
