"""A static estimate of what a GraphQL operation can cost: the fields it can resolve.

Each selected field counts once per object it may be resolved on; a field with a page size
(`first` or `last`, capped at the connections' maximum) multiplies the fields beneath it, as
GitHub's node estimate does. Fragments count where they are spread (each at most once per path,
so a cycle cannot loop). It reads the document only: no database, no resolver.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)

from app.graphql.pagination import MAX_PAGE

PAGE_ARGUMENTS = ("first", "last")


def _page_size(node: FieldNode, variables: Mapping[str, Any]) -> int:
    size = 1
    for arg in node.arguments or ():
        if arg.name.value not in PAGE_ARGUMENTS:
            continue
        value: Any = None
        if isinstance(arg.value, IntValueNode):
            value = int(arg.value.value)
        elif isinstance(arg.value, VariableNode):
            value = variables.get(arg.value.name.value)
        if isinstance(value, int) and not isinstance(value, bool):
            size = max(size, min(value, MAX_PAGE))
    return size


def estimate(
    document: DocumentNode, operation_name: str | None, variables: Mapping[str, Any] | None
) -> int:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [
        o
        for o in operations
        if operation_name is None or (o.name and o.name.value == operation_name)
    ]
    if not chosen:
        return 0
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    values = variables or {}

    def walk(selections: SelectionSetNode, times: int, spread: frozenset[str]) -> int:
        total = 0
        for node in selections.selections:
            if isinstance(node, FieldNode):
                total += times
                if node.selection_set is not None:
                    total += walk(node.selection_set, times * _page_size(node, values), spread)
            elif isinstance(node, InlineFragmentNode):
                total += walk(node.selection_set, times, spread)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = fragments.get(name)
                if fragment is not None and name not in spread:
                    total += walk(fragment.selection_set, times, spread | {name})
        return total

    return walk(chosen[0].selection_set, 1, frozenset())
