"""What a GraphQL document asks for, in one pass: depth, aliases, and the node estimate.

The node estimate is GitHub's: the objects a document can return from lists. A connection (a
field with `first`/`last`) returns its page size of objects (`first`/`last`, or the default
page when neither is given, capped at MAX_PAGE) for every object it is selected on, and
multiplies what is selected beneath it by that size; any other list of objects returns its
bound (LIST_BOUNDS, else DEFAULT_LIST_BOUND) and multiplies likewise, while the `edges` of a
connection are the connection's page, counted once. Scalars and single objects return no
nodes of their own. So `portOrders(first: 60) { ... loa { portOrders(first: 60) { ... loa {
portOrders(first: 60) ... } } } }` is 60 + 3,600 + 216,000 nodes. It reads the document and
the schema only: no database, no resolver.

Linear in the document: a fragment spread several times at one level counts once there (as
graphql-core's field collection merges it), and a field's totals are computed once however
many paths reach it (memoised per field node, so per fragment). The fan-out attack
(`fragment F0 { ...F1 ...F1 } fragment F1 { ...F2 ...F2 } ...`) costs a few steps per
fragment instead of 2^levels. A fragment cycle (refused by graphql-core's own rule) counts
nothing past the cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
)

from app.graphql.pagination import DEFAULT_PAGE, MAX_PAGE

PAGE_ARGUMENTS = ("first", "last")
DEFAULT_LIST_BOUND = 5
# Lists whose length has a known bound (the numbers of one port request, its LOAs).
LIST_BOUNDS = {"numbers": 1000, "loas": 1000, "portability": 1000}


@dataclass(frozen=True)
class Totals:
    depth: int = 0  # fields with a selection, nested (introspection fields not counted)
    aliases: int = 0
    nodes: int = 0


ZERO = Totals()


def _unwrap(type_: Any) -> tuple[Any, bool]:
    """The named type and whether it is a list."""
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        if isinstance(type_, GraphQLList):
            is_list = True
        type_ = type_.of_type
    return type_, is_list


class Shape:
    """The totals of a document's selections, each field node and fragment computed once."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any] | None = None,
    ) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.variables = variables or {}
        self._fields: dict[int, Totals] = {}

    def operation(self, op: OperationDefinitionNode) -> Totals:
        root = {
            OperationType.QUERY: self.schema.query_type,
            OperationType.MUTATION: self.schema.mutation_type,
            OperationType.SUBSCRIPTION: self.schema.subscription_type,
        }.get(op.operation)
        return self.level(op.selection_set, root)

    def level(self, selections: SelectionSetNode, parent: GraphQLNamedType | None) -> Totals:
        depth = aliases = nodes = 0
        seen: set[str] = set()
        stack: list[tuple[SelectionSetNode, GraphQLNamedType | None]] = [(selections, parent)]
        while stack:
            current, type_ = stack.pop()
            for node in current.selections:
                if isinstance(node, FieldNode):
                    t = self.field(node, type_)
                    depth = max(depth, t.depth)
                    aliases += t.aliases
                    nodes += t.nodes
                elif isinstance(node, InlineFragmentNode):
                    stack.append((node.selection_set, self._condition(node, type_)))
                elif isinstance(node, FragmentSpreadNode):
                    name = node.name.value
                    fragment = self.fragments.get(name)
                    if fragment is None or name in seen:
                        continue
                    seen.add(name)
                    stack.append((fragment.selection_set, self._condition(fragment, type_)))
        return Totals(depth, aliases, nodes)

    def _condition(
        self, node: InlineFragmentNode | FragmentDefinitionNode, type_: GraphQLNamedType | None
    ) -> GraphQLNamedType | None:
        if node.type_condition is None:
            return type_
        return self.schema.get_type(node.type_condition.name.value) or type_

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Totals:
        key = id(node)
        found = self._fields.get(key)
        if found is not None:
            return found
        self._fields[key] = ZERO  # (re-entered through a fragment cycle: nothing more)
        alias = 1 if node.alias else 0
        if node.selection_set is None:
            result = Totals(0, alias, 0)
        else:
            name = node.name.value
            child_type, times = self._child(node, parent)
            child = self.level(node.selection_set, child_type)
            depth = 0 if name.startswith("__") else 1 + child.depth
            # times > 1 only for a list of objects (a connection's page included): its nodes
            own = times if times > 1 or self._is_list(node, parent) else 0
            result = Totals(depth, alias + child.aliases, own + times * child.nodes)
        self._fields[key] = result
        return result

    def _is_list(self, node: FieldNode, parent: GraphQLNamedType | None) -> bool:
        """A list of objects (or a connection) of one object each: it counts one node."""
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return False
        definition = parent.fields.get(node.name.value)
        if definition is None or getattr(parent, "name", "").endswith("Connection"):
            return False
        return _unwrap(definition.type)[1] or any(a in definition.args for a in PAGE_ARGUMENTS)

    def _child(self, node: FieldNode, parent: GraphQLNamedType | None) -> tuple[Any, int]:
        """The field's type, and how many objects of it one parent may give."""
        name = node.name.value
        definition = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            definition = parent.fields.get(name)
        if definition is None:
            return None, 1
        child, is_list = _unwrap(definition.type)
        page = self._page(node) if any(a in definition.args for a in PAGE_ARGUMENTS) else None
        if page is not None:
            return child, page
        if is_list:
            parent_name = getattr(parent, "name", "")
            if parent_name.endswith("Connection"):  # edges: counted by the connection's page
                return child, 1
            return child, self._bound(node)
        return child, 1

    def _value(self, value: Any) -> Any:
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode):
            return self.variables.get(value.name.value)
        if isinstance(value, ListValueNode):
            return value.values
        return None

    def _page(self, node: FieldNode) -> int:
        size = 0
        for arg in node.arguments or ():
            if arg.name.value in PAGE_ARGUMENTS:
                value = self._value(arg.value)
                if isinstance(value, int) and not isinstance(value, bool):
                    size = max(size, min(value, MAX_PAGE))
        return size if size > 0 else DEFAULT_PAGE

    def _bound(self, node: FieldNode) -> int:
        bound = LIST_BOUNDS.get(node.name.value, DEFAULT_LIST_BOUND)
        for arg in node.arguments or ():  # a list given as an argument bounds the answer
            value = self._value(arg.value)
            if isinstance(value, list | tuple) and not isinstance(value, str):
                bound = min(bound, max(1, len(value)))
        return bound


def chosen_operation(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == operation_name), None)


def estimate(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    """The estimated node count of the operation that would run (0 if none would). Without
    variables it depends on the document alone: remembered per parsed document (the document
    cache, app/graphql/documents.py, hands the same one back for the same text)."""
    key = (id(document), operation_name)
    if not variables:
        found = _ESTIMATES.get(key)
        if found is not None and found[0] is document and found[1] is schema:
            return found[2]
    op = chosen_operation(document, operation_name)
    nodes = 0 if op is None else Shape(schema, document, variables).operation(op).nodes
    if not variables:
        if len(_ESTIMATES) >= ESTIMATES_KEPT:
            _ESTIMATES.clear()
        _ESTIMATES[key] = (document, schema, nodes)
    return nodes


ESTIMATES_KEPT = 512
# (id of the document, operation name) -> (the document, its schema, nodes); the document is
# kept, so its id is not reused while the entry lives
_ESTIMATES: dict[tuple[int, str | None], tuple[DocumentNode, GraphQLSchema, int]] = {}
