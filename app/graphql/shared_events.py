"""One execution per subscription event for all the sockets that would compute the same result,
while they replay their backlog (`after`) on their own: once caught up, a subscription is
served by the live fan-out (app/graphql/fanout.py), which shares execution and encoding.

Every subscriber an event reaches used to execute its selection for that event on its own: a
thousand sockets of one caller with the same document meant a thousand identical executions.
`SharedEventExecution` executes an event once per (event, document text, operation,
variables, caller) and hands the same result to each of those subscribers (through
`hub.reads`, app/services/hub.SharedReads, which already shares the event's row read). The
result is the same as each would have computed: same caller (so the same visibility and
permissions), same selection and arguments, same event, and the rows it reads are read once
after the event for all of them anyway (app/graphql/subscriptions.event_row). Anything else
(queries, mutations, a root value that is not an event) executes as before.
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from typing import Any

from graphql import ExecutionResult, OperationType

from app.graphql.context import Context
from app.graphql.execution import CompiledPlans


def _variables_key(values: dict[str, Any]) -> str | None:
    try:
        return json.dumps(values, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return None


class SharedEventExecution(CompiledPlans):
    def _share_key(self) -> Hashable | None:
        if self.operation.operation is not OperationType.SUBSCRIPTION:
            return None
        event = getattr(self.root_value, "row", None)
        ctx = self.context_value
        loc = self.operation.loc
        if event is None or getattr(event, "id", None) is None or loc is None:
            return None
        if not isinstance(ctx, Context) or ctx.caller is None:
            return None
        variables = _variables_key(self.variable_values.coerced)
        if variables is None:
            return None
        caller = ctx.caller
        visible = None if caller.visible is None else tuple(sorted(caller.visible))
        return (
            "execution",
            event.resource_type,
            event.id,
            type(self.root_value).__name__,
            loc.source.body,
            loc.start,
            variables,
            caller.sid,
            caller.kind,
            visible,
        )

    def execute_operation(self, serially: bool | None = None) -> Any:
        key = self._share_key()
        if key is None:
            return super().execute_operation(serially)
        ctx = self.context_value
        assert isinstance(ctx, Context)
        run = super().execute_operation

        async def execute() -> ExecutionResult:
            result = run(serially)
            if self.is_awaitable(result):
                result = await result
            return result  # type: ignore[no-any-return]

        return ctx.services.hub.reads.get(key, execute)
