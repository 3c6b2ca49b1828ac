"""Schema extensions: metrics and log context, preparation (parse + validate, cached),
cost and budget, error masking.

Order of work for one request: the transport has read the body under its cap and
authenticated the caller (app/graphql/app.py; websockets at connection_init) -> parse and
validate (app/graphql/documents.py: token, depth and alias limits, introspection rule, one
bounded cache for both) -> cost (the node estimate against PORTICO_GRAPHQL_MAX_NODES, then
the caller's budget of points) -> execute. A document refused by the limits or by its cost
never reaches a resolver, so it runs no SQL of its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from graphql import DocumentNode, ExecutionResult, GraphQLError, GraphQLSchema
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.types.graphql import OperationType

from app.config import Settings
from app.graphql import grants
from app.graphql.context import AUTH_FAILED, Context, auth_error
from app.graphql.cost import estimate
from app.graphql.documents import CACHE_SIZE, Documents, Prepared
from app.graphql.rules import rules as validation_rules
from app.observability import logs
from app.observability.metrics import (
    GRAPHQL_COST,
    GRAPHQL_OPERATIONS,
    operation_label,
    safe_operation_name,
)
from app.porting.errors import CATALOG
from app.services.budgets import budget_of, points_for
from app.store.conflicts import RETRY_AFTER_SECONDS, unavailable

INVALID_PARAMETER = 20001
TOO_COSTLY = 20420
RATE_LIMITED = 20429
REFUSED = frozenset({INVALID_PARAMETER, TOO_COSTLY, RATE_LIMITED})
SUBSCRIPTION_OVER_HTTP = (
    "Subscriptions need a websocket on /graphql (graphql-transport-ws or graphql-ws)"
)
MASKED_MESSAGE = "Unexpected error."
log = logging.getLogger("app.graphql")


def is_unexpected(error: GraphQLError) -> bool:
    """Errors we raised on purpose are GraphQLErrors (with a code); anything else is a bug
    or an outage, and its text must not reach the client."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


def _outcome(errors: list[GraphQLError], executed: bool) -> str:
    if not errors:
        return "ok"
    codes = {(e.extensions or {}).get("code") for e in errors}
    if AUTH_FAILED in codes:
        return "unauthorized"
    if RATE_LIMITED in codes:
        return "rate_limited"
    return "error" if executed and not codes & REFUSED else "invalid"


class Observe(SchemaExtension):
    """`portico_graphql_operation_duration_seconds` for every query and mutation,
    `portico_graphql_operation_cost` for those that ran, and the operation name in the context
    of the log lines written while one runs. A subscription lives as long as its socket wants:
    it is counted in the websocket and subscription gauges instead. Outcome: ok (userErrors
    included), invalid (refused by parsing or validation, or a bad argument), unauthorized,
    error (an error during execution)."""

    def on_operation(self) -> Iterator[None]:
        start = time.perf_counter()
        self._executed = False
        try:
            yield
        finally:
            self._observe(time.perf_counter() - start)

    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        self._executed = True
        logs.operation.set(safe_operation_name(ec.operation_name))
        yield

    def _is_subscription(self) -> bool:
        try:
            return self.execution_context.operation_type is OperationType.SUBSCRIPTION
        except RuntimeError:  # no document: it did not parse
            return False

    def _observe(self, seconds: float) -> None:
        ec = self.execution_context
        if self._is_subscription():
            return
        try:
            kind = ec.operation_type.value
        except RuntimeError:
            kind = "unknown"
        errors = list(ec.pre_execution_errors or [])
        if not errors and ec.result is not None:
            errors = list(ec.result.errors or [])
        ctx = ec.context
        cost = ctx.cost_nodes if isinstance(ctx, Context) else None
        observe_operation(ec.operation_name, kind, errors, self._executed, seconds, cost)


def observe_operation(
    name: str | None,
    kind: str,
    errors: list[GraphQLError],
    executed: bool,
    seconds: float,
    cost: int | None,
) -> None:
    """The operation's duration by name, type and outcome, and its cost when it ran."""
    outcome = _outcome(errors, executed)
    label = operation_label(name)
    GRAPHQL_OPERATIONS.labels(label, kind, outcome).observe(seconds)
    if outcome in ("ok", "error") and cost is not None:  # it ran
        GRAPHQL_COST.labels(label, kind).observe(cost)


UNAVAILABLE = 20503


def unavailable_error() -> GraphQLError:
    return GraphQLError(CATALOG[UNAVAILABLE][0], extensions={"code": UNAVAILABLE})


def answer_unavailable(ctx: object) -> None:
    """Over HTTP the response becomes a 503 with Retry-After, as for REST."""
    if isinstance(ctx, Context) and isinstance(ctx.response, Response):
        ctx.response.status_code = 503
        ctx.response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)


def failure(exc: Exception, ctx: object) -> ExecutionResult:
    """The result of an operation that failed before execution (an extension's own read):
    20503 (HTTP 503 with Retry-After) when the database cannot be reached, else the masked
    unexpected error, logged by type only. Strawberry would answer the exception's own text."""
    if unavailable(exc):
        answer_unavailable(ctx)
        return ExecutionResult(data=None, errors=[unavailable_error()])
    log.error("unexpected error before GraphQL execution: %s", type(exc).__name__, exc_info=exc)
    return ExecutionResult(data=None, errors=[GraphQLError(MASKED_MESSAGE)])


class DatabaseUnavailable(SchemaExtension):
    """An operation that failed because the database cannot be reached answers the catalog's
    20503 (HTTP 503 with Retry-After) instead of a masked unexpected error."""

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and answered_unavailable(result, self.execution_context.context):
            result.data = None


def answered_unavailable(result: Any, ctx: object) -> bool:
    """When an error of `result` is the database being unreachable: its errors become the one
    20503 and, over HTTP, the response a 503 with Retry-After (the caller drops the data)."""
    errors = result.errors
    if not errors or not any(
        e.original_error is not None and unavailable(e.original_error) for e in errors
    ):
        return False
    result.errors = [unavailable_error()]
    answer_unavailable(ctx)
    return True


class Authenticate(SchemaExtension):
    """Resolve the caller once the document is known to be valid; refuse with 401 if none."""

    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context.context
        if isinstance(ctx, Context) and isinstance(ctx.request, WebSocket):
            # A socket's context outlives its operations: no loader cache from an earlier one.
            ctx.reset_loaders()
        try:
            caller = await ctx.authenticate() if isinstance(ctx, Context) else None
        except Exception as exc:
            if not unavailable(exc):
                raise
            answer_unavailable(ctx)
            self.execution_context.result = ExecutionResult(data=None, errors=[unavailable_error()])
            yield
            return
        if isinstance(ctx, Context) and caller is None:
            ctx.refuse()
            self.execution_context.result = ExecutionResult(data=None, errors=[auth_error()])
        elif (
            isinstance(ctx, Context)
            and not isinstance(ctx.request, WebSocket)
            and self.execution_context.operation_type is OperationType.SUBSCRIPTION
        ):
            error = GraphQLError(SUBSCRIPTION_OVER_HTTP, extensions={"code": INVALID_PARAMETER})
            self.execution_context.result = ExecutionResult(data=None, errors=[error])
        elif isinstance(ctx, Context):
            subscription = self.execution_context.operation_type is OperationType.SUBSCRIPTION
            try:
                refused = await refusal_of(ctx, self)
            except Exception as exc:
                if subscription:
                    raise
                self.execution_context.result = failure(exc, ctx)
                refused = None
            if refused is not None:
                if subscription:
                    raise refused  # (a subscription's stream does not look at `result`)
                self.execution_context.result = ExecutionResult(data=None, errors=[refused])
        yield


async def refusal_of(ctx: Context, ext: SchemaExtension) -> GraphQLError | None:
    """What the caller's credential does not allow in this operation (app/graphql/grants.py)."""
    ec = ext.execution_context
    if ctx.caller is None or ec.graphql_document is None:
        return None
    return await grants.refusal(
        ctx.services,
        ctx.caller,
        ec.schema._schema,
        ec.graphql_document,
        ec.operation_type is OperationType.MUTATION,
        ec.variables,
    )


class Prepare(SchemaExtension):
    """Parse and validate through the document cache (app/graphql/documents.py): Strawberry's
    own parse and validation are skipped for a document the cache answered. A document that
    does not parse is left to Strawberry's parser (same limit, same error)."""

    def __init__(self, *, documents: DocumentsOf) -> None:
        self.documents = documents
        self.prepared: Prepared | None = None

    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = self.documents.max_tokens
        yield

    def on_parse(self) -> Iterator[None]:
        ec = self.execution_context
        if ec.graphql_document is None and ec.query:
            prepared = self.documents.of(ec.schema._schema).prepare(ec.query)
            if prepared.document is not None:
                self.prepared = prepared
                ec.graphql_document = prepared.document
        yield

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        prepared = self.prepared
        if prepared is not None and prepared.document is ec.graphql_document:
            ec.pre_execution_errors = prepared.fresh_errors()  # []: valid, nothing to run
        yield


class DocumentsOf:
    """The schema's document cache, built on first use (the extensions exist before it)."""

    def __init__(self, settings: Settings) -> None:
        self.rules = validation_rules(settings)
        self.max_tokens = settings.graphql_max_tokens
        self._documents: Documents | None = None

    def of(self, schema: GraphQLSchema) -> Documents:
        if self._documents is None or self._documents.schema is not schema:
            self._documents = Documents(schema, self.rules, self.max_tokens, CACHE_SIZE)
        return self._documents


def too_costly(nodes: int, limit: int) -> GraphQLError:
    return GraphQLError(
        f"Query too costly: an estimated {nodes} nodes, over the limit of {limit}",
        extensions={"code": TOO_COSTLY, "cost": nodes, "limit": limit},
    )


def rate_limited(retry_after: int) -> GraphQLError:
    return GraphQLError(
        f"{CATALOG[RATE_LIMITED][0]}: the hourly budget of points is spent; "
        f"retry in {retry_after} seconds",
        extensions={"code": RATE_LIMITED, "retryAfter": retry_after},
    )


class Cost(SchemaExtension):
    """Before execution: the node estimate (app/graphql/cost.py) against the limit, then the
    caller's budget (queries and mutations; a subscription is priced by the limit alone).
    Over HTTP an exhausted budget answers 429 with Retry-After."""

    def __init__(self, *, max_nodes: int) -> None:
        self.max_nodes = max_nodes

    async def on_execute(self) -> AsyncIterator[None]:
        ec = self.execution_context
        ctx = ec.context
        if ec.result is not None or not isinstance(ctx, Context) or ec.graphql_document is None:
            yield
            return
        subscription = ec.operation_type is OperationType.SUBSCRIPTION
        try:
            refused = await price(
                ctx,
                ec.schema._schema,
                ec.graphql_document,
                ec.operation_name,
                ec.variables,
                self.max_nodes,
                charge=not subscription,
            )
        except Exception as exc:  # the budget's read or write failed
            ec.result = failure(exc, ctx)
        else:
            if refused is not None:
                ec.result = ExecutionResult(data=None, errors=[refused])
        yield


async def price(
    ctx: Context,
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    max_nodes: int,
    *,
    charge: bool = True,
) -> GraphQLError | None:
    """The node estimate against the limit, then (with `charge`) the points from the caller's
    budget: the error that refuses the operation, or None. Sets `ctx.cost_nodes` and
    `ctx.rate`; an exhausted budget makes an HTTP response a 429 with Retry-After."""
    nodes = estimate(schema, document, operation_name, variables)
    ctx.cost_nodes = nodes
    ctx.rate = None
    if nodes > max_nodes:
        return too_costly(nodes, max_nodes)
    if ctx.caller is None or not charge:
        return None
    budget = budget_of(ctx.services)
    if not budget.enabled:
        return None
    spent = await budget.spend(ctx.caller.sid, points_for(nodes))
    ctx.rate = spent
    if spent.ok:
        return None
    wait = spent.retry_after(ctx.services.clock())
    if isinstance(ctx.response, Response):
        ctx.response.status_code = 429
        ctx.response.headers["Retry-After"] = str(wait)
    return rate_limited(wait)


def extensions(
    settings: Settings, documents: DocumentsOf | None = None
) -> list[Callable[[], SchemaExtension]]:
    documents = documents or DocumentsOf(settings)
    max_nodes = settings.graphql_max_nodes
    return [
        Observe,
        lambda: Prepare(documents=documents),
        Authenticate,
        lambda: Cost(max_nodes=max_nodes),
        lambda: MaskErrors(should_mask_error=is_unexpected, error_message=MASKED_MESSAGE),
        DatabaseUnavailable,  # (listed after MaskErrors: it sees the errors first)
    ]
