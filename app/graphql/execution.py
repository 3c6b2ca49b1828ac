"""A faster path through graphql-core for the fields most of a response is made of.

Most fields of a page of orders are plain attributes (app/graphql/nodes.py: `wrap_order`) of
leaf types (String, ID, Int, DateTime, enums) without arguments. For those, graphql-core
still builds a resolve-info object, looks up middleware, and goes through the generic value
completion, per field and per row. `LeafFastPath.execute_field` reads such a field with
Strawberry's own basic resolver (which ignores the info) and coerces the value with the leaf
type, and leaves anything else — objects, lists, arguments, directives, resolvers, nulls in
non-null fields, values the type refuses — to graphql-core unchanged (`super()`), which then
produces the exact same result or error it always did. tests/graphql/test_fast_path.py
compares both executors on generated queries.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLNonNull, GraphQLObjectType, is_leaf_type
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from app.graphql import compiled

_NO_FAST_PATH = object()


def _has_middleware(manager: Any) -> bool:
    """Strawberry always passes a manager; it only matters when an extension resolves."""
    return manager is not None and bool(getattr(manager, "middlewares", True))


class LeafFastPath(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # (parent type name, field name) -> (resolver, leaf type, non-null) or _NO_FAST_PATH
        self._plans: dict[tuple[str, str], Any] = {}

    def _plan(self, parent_type: GraphQLObjectType, field_name: str) -> Any:
        key = (parent_type.name, field_name)
        plan = self._plans.get(key)
        if plan is None:
            plan = _NO_FAST_PATH
            field_def = self.schema.get_field(parent_type, field_name)
            resolve = field_def.resolve if field_def is not None else None
            if (
                field_def is not None
                and not field_def.args
                and not _has_middleware(self.middleware_manager)
                and getattr(resolve, "_is_default", False)  # Strawberry's basic-field resolver
            ):
                t = field_def.type
                non_null = isinstance(t, GraphQLNonNull)
                leaf = t.of_type if isinstance(t, GraphQLNonNull) else t
                if is_leaf_type(leaf):
                    plan = (resolve, leaf, non_null)
            self._plans[key] = plan
        return plan

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        if len(field_details_list) == 1:
            node = field_details_list[0].node
            if not node.arguments and not node.directives:
                plan = self._plan(parent_type, node.name.value)
                if plan is not _NO_FAST_PATH:
                    resolve, leaf, non_null = plan
                    try:
                        value = resolve(source, None)
                        if value is None:
                            if not non_null:
                                return None
                        else:
                            coerced = leaf.coerce_output_value(value)
                            if coerced is not Undefined and coerced is not None:
                                return coerced
                    except Exception:  # noqa: S110 (graphql-core reports it, below)
                        pass
        # Anything else, and every failure: graphql-core's own way, with its errors.
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )


class CompiledPlans(LeafFastPath):
    """Queries run on their compiled plan (app/graphql/compiled.py) when the document has one;
    everything else on graphql-core (with the leaf fast path above)."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        plan = compiled.plan_for(self) if serially is None else None
        if plan is not None:
            return plan.execute(self)
        return super().execute_operation(serially)
