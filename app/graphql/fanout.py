"""Live fan-out: one execution and one encoded frame per event for every socket that shares them.

A live subscription, once it has caught up with the log (app/services/hub.py, `handover`),
joins a `LiveGroup`: the subscriptions of one filter (resource type, SID, the accounts the
caller may see), one caller, one operation (document text and position) and the same values
for the variables the execution reads. The group listens to the hub; for each event it keeps,
it reads the event's row (shared with every other group, `hub.reads`), executes the operation
once with the event as root value (graphql-core's per-event executor, with the leaf fast path),
masks and formats the result as Strawberry does, encodes the payload once, and writes it to
each member's socket through its `Outbox` (app/graphql/wire.py): the message differs per socket
only by the operation id, so it is spliced together from the encoded payload, and the frame
bytes are shared by every socket with the same id and protocol (most clients use id "1").
Nothing runs per socket but that write: no task wakes, nothing is executed or encoded again.

Why the result is the one each socket's own execution gives: the same caller (visibility and
permissions), the same operation, the same values of every variable the execution reads (the
root field's own arguments are not: its resolver for an event returns the event, whatever
they are), the same event, and the rows read after the event for all of them
(subscriptions.event_row). tests/subscriptions/test_fanout.py compares them.

Each member keeps its own cursor: an event at or below it (already sent from the log during
the catch-up) is skipped for that member, so the seam has no gap and no duplicate.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLSchema,
    OperationDefinitionNode,
    Visitor,
    visit,
)
from graphql.language import FragmentDefinitionNode, VariableNode
from strawberry.extensions import MaskErrors

from app.graphql.context import Context
from app.graphql.execution import LeafFastPath
from app.graphql.extensions import MASKED_MESSAGE, is_unexpected
from app.graphql.wire import Frame, Outbox
from app.services.hub import Hub, Listener
from app.store.events import Position, position
from app.store.tables import Event

log = logging.getLogger(__name__)

INTERNAL_ERROR = 1011
NEXT = "next"  # graphql-transport-ws
DATA = "data"  # graphql-ws (legacy)


def encode(value: object) -> str:
    """As Strawberry encodes a websocket message (its view's `encode_json`)."""
    return json.dumps(value, separators=(",", ":"))


def splice(kind: str, op_id: str, payload: str) -> str:
    """The message text `encode({...})` would give, from an already encoded payload."""
    if kind == NEXT:
        return '{"id":' + json.dumps(op_id) + ',"type":"next","payload":' + payload + "}"
    return '{"type":"data","id":' + json.dumps(op_id) + ',"payload":' + payload + "}"


@dataclass(eq=False, slots=True)
class LiveOperation:
    """One operation on one socket, as its handler started it (set in LIVE for its task)."""

    kind: str  # NEXT or DATA
    op_id: str
    variables: dict[str, Any] | None  # as the client sent them
    outbox: Outbox
    fanout: FanOut
    member: Member | None = None  # once the fan-out serves it

    def end(self) -> None:
        """The operation is over (completed, stopped, or its socket closed)."""
        if self.member is not None:
            self.member.leave()
            self.member = None


LIVE: contextvars.ContextVar[LiveOperation | None] = contextvars.ContextVar(
    "portico_live_operation", default=None
)


@dataclass(eq=False, slots=True)
class Member:
    op: LiveOperation
    cursor: Position
    group: LiveGroup

    def leave(self) -> None:
        self.group.leave(self)


_MASK = MaskErrors(should_mask_error=is_unexpected, error_message=MASKED_MESSAGE)


def result_payload(schema: Any, result: ExecutionResult) -> dict[str, Any]:
    """What Strawberry sends for a subscription result: errors logged (Schema.process_errors)
    and unexpected ones masked (the MaskErrors extension), then `{"data", "errors"}`."""
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        schema.process_errors(result.errors)
        errors = [_MASK.anonymise_error(e) if is_unexpected(e) else e for e in result.errors]
        payload["errors"] = [e.formatted for e in errors]
    return payload


def read_variables(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> frozenset[str]:
    """The variables an event's execution can read: all but those used only as arguments of
    the root field (its resolver returns the event whatever they are)."""
    used: set[str] = set()

    class Collect(Visitor):
        def enter_variable(self, node: VariableNode, *_: Any) -> None:
            used.add(node.name.value)

    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode):
            for directive in selection.directives or ():
                visit(directive, Collect())
            if selection.selection_set is not None:
                visit(selection.selection_set, Collect())
        else:  # a fragment at the root: everything in it counts
            visit(selection, Collect())
    for fragment in fragments.values():
        visit(fragment, Collect())
    return frozenset(used)


class LiveGroup:
    def __init__(
        self,
        fanout: FanOut,
        key: Hashable,
        listener: Listener,
        ctx: Context,
        executor: LeafFastPath,
        keep: Callable[[Event], bool],
        wrap: Callable[[Event], Any],
        prefetch: Callable[[Context, Event], Awaitable[Any]],
        schema: Any,
    ) -> None:
        self.fanout = fanout
        self.key = key
        self.listener = listener
        self.ctx = ctx
        self.executor = executor
        self.keep = keep
        self.wrap = wrap
        self.prefetch = prefetch
        self.schema = schema
        self.members: dict[Member, None] = {}
        self._pending: deque[Event] = deque()
        self._task: asyncio.Task[None] | None = None
        listener.deliver = self.deliver

    def join(self, op: LiveOperation, cursor: Position) -> Member:
        member = Member(op, cursor, self)
        self.members[member] = None
        self.listener.subscribers = len(self.members)
        return member

    def leave(self, member: Member) -> None:
        self.members.pop(member, None)
        self.listener.subscribers = len(self.members)
        if not self.members:
            self.fanout.forget(self)

    def deliver(self, event: Event) -> None:
        if not self.keep(event):
            return
        self._pending.append(event)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="portico-live-group")

    async def _run(self) -> None:
        try:
            while self._pending:
                event = self._pending.popleft()
                try:
                    await self.send(event)
                except Exception:
                    # Never skip an event silently: the sockets still waiting for it are closed
                    # (1011) and their clients resubscribe from their last cursor.
                    log.exception("live fan-out: event %s could not be sent", event.id)
                    for member in tuple(self.members):
                        if member.cursor < position(event):
                            member.op.outbox.close_now(INTERNAL_ERROR, "Internal error")
        finally:
            self._task = None

    async def execute(self, event: Event) -> str:
        """The encoded payload of `event` for this group's members."""
        ctx = self.ctx
        ctx.reset_loaders()  # this event's fields read the rows as they are now
        await self.prefetch(ctx, event)  # the event's row, read once for every group
        result = self.executor.build_per_event_executor(self.wrap(event)).execute_operation(False)
        if self.executor.is_awaitable(result):
            result = await result
        assert isinstance(result, ExecutionResult)
        return encode(result_payload(self.schema, result))

    async def send(self, event: Event) -> None:
        event_position = position(event)
        if not any(m.cursor < event_position for m in self.members):
            return
        payload = await self.execute(event)
        frames: dict[tuple[str, str], Frame] = {}
        for member in tuple(self.members):
            if member.cursor >= event_position:
                continue
            member.cursor = event_position
            op = member.op
            frame = frames.get((op.kind, op.op_id))
            if frame is None:
                frame = frames[(op.kind, op.op_id)] = Frame(splice(op.kind, op.op_id, payload))
            op.outbox.put(frame)


class FanOut:
    """The live groups of one process."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.groups: dict[Hashable, LiveGroup] = {}

    def forget(self, group: LiveGroup) -> None:
        if self.groups.get(group.key) is group:
            del self.groups[group.key]
        self.hub.unlisten(group.listener)

    def join(
        self,
        *,
        op: LiveOperation,
        ctx: Context,
        info: Any,  # graphql-core's GraphQLResolveInfo of the subscription field
        schema: Any,  # the Strawberry schema (errors are processed as it does)
        resource_type: str,
        resource_sid: str | None,
        cursor: Position,
        keep: Callable[[Event], bool],
        wrap: Callable[[Event], Any],
        prefetch: Callable[[Context, Event], Awaitable[Any]],
    ) -> Member | None:
        """Join (or start) the group for this operation from `cursor`; None when it cannot be
        shared (then the caller goes on serving it on its own)."""
        caller = ctx.caller
        operation: OperationDefinitionNode = info.operation
        fragments: dict[str, FragmentDefinitionNode] = info.fragments
        if caller is None or operation.loc is None:
            return None
        variables = op.variables or {}
        read = read_variables(operation, fragments)
        try:
            values = json.dumps({k: v for k, v in variables.items() if k in read}, sort_keys=True)
        except (TypeError, ValueError):
            return None
        key = (
            resource_type,
            resource_sid,
            caller,
            operation.loc.source.body,
            operation.loc.start,
            values,
            keep,
            wrap,
        )
        group = self.groups.get(key)
        if group is None:
            graphql_schema: GraphQLSchema = info.schema
            document = DocumentNode(definitions=(operation, *fragments.values()))
            group_ctx = Context(services=ctx.services, request=ctx.request, caller=caller)
            executor = LeafFastPath.build(
                graphql_schema, document, None, group_ctx, variables, None
            )
            if not isinstance(executor, LeafFastPath):  # variables refused: never shared
                return None
            listener = Listener(caller.visible, resource_type, resource_sid)
            group = LiveGroup(
                self, key, listener, group_ctx, executor, keep, wrap, prefetch, schema
            )
            self.groups[key] = group
            self.hub.listen(listener)
        return group.join(op, cursor)
