"""What a field's selection asks for below it, read from the document (graphql-core's field
nodes, through inline fragments and named ones): a resolver that knows its children's needs can
read them with its own rows, in the same session, instead of leaving each child to load them.

`selects(info, "edges", "node", "loa")` is true when some selection of the field reaches that
path. A directive on the way counts as selecting (reading a few rows more is harmless; the
answer never depends on it, only the number of reads)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionNode


def selects(info: Any, *path: str) -> bool:
    """`info`: a Strawberry Info (or graphql-core's resolve info)."""
    raw = getattr(info, "_raw_info", info)
    return _reaches(_children(raw.field_nodes), path, raw.fragments)


def _children(nodes: Iterable[FieldNode]) -> list[SelectionNode]:
    out: list[SelectionNode] = []
    for node in nodes:
        if node.selection_set is not None:
            out.extend(node.selection_set.selections)
    return out


def _fields(
    selections: Iterable[SelectionNode], fragments: dict[str, Any], seen: frozenset[str]
) -> Iterable[FieldNode]:
    for selection in selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set.selections, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                yield from _fields(fragment.selection_set.selections, fragments, seen | {name})


def _reaches(
    selections: list[SelectionNode], path: tuple[str, ...], fragments: dict[str, Any]
) -> bool:
    if not path:
        return True
    head, rest = path[0], path[1:]
    for field in _fields(selections, fragments, frozenset()):
        if field.name.value == head and _reaches(_children([field]), rest, fragments):
            return True
    return False
