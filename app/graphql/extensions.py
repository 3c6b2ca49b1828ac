"""Schema extensions: metrics and log context, protection limits, authentication after
validation, error masking.

Order of work for one request: parse (token limit, bounded parser cache) -> validate (depth
and alias limits, introspection rule, bounded validation cache) -> authenticate -> execute.
A request refused by the limits therefore never touches the database.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator

from graphql import ExecutionResult, GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule, ValidationContext, ValidationRule
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.types.graphql import OperationType

from app.config import Settings
from app.graphql import grants
from app.graphql.context import AUTH_FAILED, Context, auth_error
from app.graphql.cost import estimate
from app.observability import logs
from app.observability.metrics import (
    GRAPHQL_COST,
    GRAPHQL_OPERATIONS,
    operation_label,
    safe_operation_name,
)
from app.porting.errors import CATALOG
from app.store.conflicts import RETRY_AFTER_SECONDS, unavailable

CACHE_SIZE = 256
INVALID_PARAMETER = 20001
SUBSCRIPTION_OVER_HTTP = (
    "Subscriptions need a websocket on /graphql (graphql-transport-ws or graphql-ws)"
)
MASKED_MESSAGE = "Unexpected error."


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
    return "error" if executed and INVALID_PARAMETER not in codes else "invalid"


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
        outcome = _outcome(errors, self._executed)
        name = operation_label(ec.operation_name)
        GRAPHQL_OPERATIONS.labels(name, kind, outcome).observe(seconds)
        if outcome in ("ok", "error") and ec.graphql_document is not None:  # it ran
            cost = estimate(ec.graphql_document, ec.operation_name, ec.variables)
            GRAPHQL_COST.labels(name, kind).observe(cost)


UNAVAILABLE = 20503


def unavailable_error() -> GraphQLError:
    return GraphQLError(CATALOG[UNAVAILABLE][0], extensions={"code": UNAVAILABLE})


def answer_unavailable(ctx: object) -> None:
    """Over HTTP the response becomes a 503 with Retry-After, as for REST."""
    if isinstance(ctx, Context) and isinstance(ctx.response, Response):
        ctx.response.status_code = 503
        ctx.response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)


class DatabaseUnavailable(SchemaExtension):
    """An operation that failed because the database cannot be reached answers the catalog's
    20503 (HTTP 503 with Retry-After) instead of a masked unexpected error."""

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        result = self.execution_context.result
        errors = result.errors if result is not None else None
        if not errors:
            return
        if any(e.original_error is not None and unavailable(e.original_error) for e in errors):
            assert result is not None
            result.errors = [unavailable_error()]
            result.data = None
            answer_unavailable(self.execution_context.context)


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
        elif isinstance(ctx, Context) and (refused := await refusal_of(ctx, self)) is not None:
            if self.execution_context.operation_type is OperationType.SUBSCRIPTION:
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


def depth_limit(max_depth: int) -> type[ValidationRule]:
    """Strawberry's depth rule, minus its crash on a spread of an unknown fragment (graphql-core's
    KnownFragmentNamesRule reports that one properly)."""
    rule = depth_rule(max_depth, None, None)

    class DepthLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            with contextlib.suppress(KeyError):
                rule(context)
            super().__init__(context)

    return DepthLimit


def extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    # Validation rule classes are built once: the validation cache keys on them.
    rules: list[type[ValidationRule]] = [
        depth_limit(settings.graphql_max_depth),
        alias_rule(settings.graphql_max_aliases),
    ]
    if not settings.graphql_introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    max_tokens = settings.graphql_max_tokens
    return [
        Observe,
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: ParserCache(maxsize=CACHE_SIZE),
        lambda: AddValidationRules(list(rules)),
        lambda: ValidationCache(maxsize=CACHE_SIZE),
        Authenticate,
        lambda: MaskErrors(should_mask_error=is_unexpected, error_message=MASKED_MESSAGE),
        DatabaseUnavailable,  # (listed after MaskErrors: it sees the errors first)
    ]
