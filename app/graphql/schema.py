"""The schema: Query, Mutation and Subscription over the services, with the protection of
extensions.py.

`build_schema(settings)` is called once per app. The SDL does not depend on the settings;
`portico export-schema` prints it and schema.graphql at the repo root holds it.

Subscriptions (app/graphql/subscriptions.py) run over websockets only (app/graphql/websockets.py).
"""

from __future__ import annotations

import logging
import re

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from app.config import Settings
from app.graphql.extensions import extensions, is_unexpected
from app.graphql.flow import FlowSubscription
from app.graphql.mutations import Mutation
from app.graphql.nodes import LoaType, PortOrderType
from app.graphql.query import Query
from app.graphql.scalars import SCALARS
from app.graphql.shared_events import SharedEventExecution
from app.graphql.subscriptions import Subscription as StatusSubscription

log = logging.getLogger("app.graphql")

_SUGGESTION = re.compile(r"\s*Did you mean .*$", re.S)
_ECHOED_VALUE = re.compile(r"(cannot represent[^:]*? value): .*$", re.S)


def tidy_client_error(error: GraphQLError) -> None:
    """No suggestions (of fields, arguments, enum values or types), and no echo of the value a
    client sent: a write-only field given the wrong type must not come back in the response."""
    if is_unexpected(error):
        return
    message = _SUGGESTION.sub("", error.message)
    error.message = _ECHOED_VALUE.sub(r"\1.", message)


class Schema(strawberry.Schema):
    # Strawberry calls this for every error when `disable_field_suggestions` is on.
    remove_field_suggestion = staticmethod(tidy_client_error)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log unexpected errors only, by path and type: client errors (validation, expected
        failures) are the client's business, and their text may echo its input."""
        for error in errors:
            if is_unexpected(error):
                path = ".".join(str(p) for p in error.path or ()) or "-"
                original = error.original_error
                log.error(
                    "unexpected error in GraphQL field %s: %s",
                    path,
                    type(original).__name__,
                    exc_info=original,
                )


@strawberry.type(name="Subscription")
class Subscription(StatusSubscription, FlowSubscription):
    """Status changes (app/graphql/subscriptions.py), then comments (app/graphql/flow.py)."""


def build_schema(settings: Settings, *, fast_path: bool = True) -> Schema:
    """`fast_path=False`: graphql-core's executor unchanged (the differential tests).
    Otherwise leaf fields take the fast path and a subscription event executes once for all
    the sockets of one caller with the same document (app/graphql/shared_events.py)."""
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[PortOrderType, LoaType],
        extensions=extensions(settings),
        config=StrawberryConfig(disable_field_suggestions=True, scalar_map=SCALARS),
        execution_context_class=SharedEventExecution if fast_path else None,
    )


def sdl() -> str:
    return build_schema(Settings()).as_str() + "\n"
