"""The schema: Query, Mutation and Subscription over the services, with the protection of
extensions.py.

`build_schema(settings)` is called once per app. The SDL does not depend on the settings;
`portico export-schema` prints it and schema.graphql at the repo root holds it.

Subscriptions (app/graphql/subscriptions.py) run over websockets only (app/graphql/websockets.py).
"""

from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from app.config import Settings
from app.graphql.extensions import DocumentsOf, extensions, is_unexpected
from app.graphql.flow import FlowSubscription
from app.graphql.messages import safe
from app.graphql.mutations import Mutation
from app.graphql.nodes import LoaType, PortOrderType
from app.graphql.query import Query
from app.graphql.scalars import SCALARS
from app.graphql.shared_events import SharedEventExecution
from app.graphql.subscriptions import Subscription as StatusSubscription

log = logging.getLogger("app.graphql")


def tidy_client_error(error: GraphQLError) -> None:
    """No suggestions (of fields, arguments, enum values or types), and no echo of the value a
    client sent (app/graphql/messages.py): a write-only value must not come back."""
    if is_unexpected(error):
        return
    safe(error)


class Schema(strawberry.Schema):
    documents: DocumentsOf  # the parse + validation cache (app/graphql/documents.py)

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
    documents = DocumentsOf(settings)
    schema = Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[PortOrderType, LoaType],
        extensions=extensions(settings, documents),
        config=StrawberryConfig(disable_field_suggestions=True, scalar_map=SCALARS),
        execution_context_class=SharedEventExecution if fast_path else None,
    )
    schema.documents = documents
    return schema


def sdl() -> str:
    return build_schema(Settings()).as_str() + "\n"
