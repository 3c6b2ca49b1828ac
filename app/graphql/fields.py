"""Strawberry fields from the declaration in app/porting/fields.py.

`add_fields` gives a class fields as annotated attributes before @strawberry.type /
@strawberry.input reads the class; `plain_fields` does so with the plain fields of an object
type, and `PlainValues` reads their values from a row. `graphql_type` is the GraphQL type of a
kind of value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import Any, TypeVar

import strawberry
from sqlalchemy.engine import Row

from app.graphql import enums  # noqa: F401 (registers the porting enums with Strawberry)
from app.porting import fields

T = TypeVar("T")

# (name, type annotation, strawberry.field(...)) of one field
Spec = tuple[str, Any, Any]


def graphql_type(kind: fields.Kind) -> Any:
    """ID for a SID, the porting enum for an enum, else the value's Python type."""
    return strawberry.ID if kind.name == "sid" else fields.value_type(kind)


def add_fields(
    specs: Iterable[Spec], *, after: Mapping[str, str] | None = None
) -> Callable[[type[T]], type[T]]:
    """A class decorator (under @strawberry.type or .input): the fields `specs` as attributes,
    in their order, after the class's own annotated ones. An own attribute named in `after`
    (e.g. a field with a resolver) moves to right after the added field it names."""
    after = after or {}

    def add(cls: type[T]) -> type[T]:
        annotations = dict(cls.__dict__.get("__annotations__", {}))
        moved = {name: annotations.pop(name) for name in after}
        for name, annotation, field in specs:
            annotations[name] = annotation
            setattr(cls, name, field)
            annotations.update((own, moved[own]) for own in after if after[own] == name)
        cls.__annotations__ = annotations
        return cls

    return add


def plain_fields(
    declared: tuple[fields.Field, ...], *, after: Mapping[str, str] | None = None
) -> Callable[[type[T]], type[T]]:
    """Under @strawberry.type: an attribute field for each GraphQL field of the declaration
    (`graphql_fields`: plain values, never a write-only one), with its description."""
    return add_fields(
        (
            (f.name, _object_type(f), strawberry.field(description=f.graphql_doc))
            for f in fields.graphql_fields(declared)
        ),
        after=after,
    )


def _object_type(f: fields.Field) -> Any:
    kind_type = graphql_type(f.kind)
    return kind_type | None if f.nullable else kind_type


class PlainValues:
    """A row's plain GraphQL values, as keyword arguments of its type: graphql-core then reads
    them as attributes with its default resolver, without Strawberry's per-field resolver
    machinery (the read bench; app/graphql/execution.py). Enums become members and lists are
    copied; IDs are plain strings at run time.

    A read-only row (app/store/queries.py) is read by position through a function generated
    once per layout of its columns (three times as fast as by key, for the 30-odd fields of
    an order); any other object by attribute."""

    def __init__(self, declared: tuple[fields.Field, ...]) -> None:
        plain = fields.graphql_fields(declared)
        self.names = tuple(f.name for f in plain)
        self.converts = tuple(
            (f.name, f.kind.enum or list)
            for f in plain
            if f.kind.enum is not None or f.kind == fields.TEXT_LIST
        )
        self._readers: dict[tuple[str, ...], Callable[[Row[Any]], dict[str, Any]]] = {}
        self._last: tuple[object, Callable[[Row[Any]], dict[str, Any]]] | None = None

    def __call__(self, row: object) -> dict[str, Any]:
        if isinstance(row, Row):
            parent = getattr(row, "_parent", None)
            last = self._last
            if last is None or last[0] is not parent:
                last = self._last = (parent, self._reader(row._fields))
            return last[1](row)
        values = {name: getattr(row, name) for name in self.names}
        for name, convert in self.converts:
            value = values[name]
            if value is not None:
                values[name] = convert(value)
        return values

    def _reader(self, keys: tuple[str, ...]) -> Callable[[Row[Any]], dict[str, Any]]:
        found = self._readers.get(keys)
        if found is None:
            found = self._readers[keys] = _generated_reader(self.names, self.converts, keys)
        return found


def _generated_reader(
    names: tuple[str, ...],
    converts: tuple[tuple[str, Callable[[Any], Any]], ...],
    keys: tuple[str, ...],
) -> Callable[[Row[Any]], dict[str, Any]]:
    """`{name: row[position of name]}` for every name, as one generated function; an enum's
    value becomes its member (a dict lookup, the enum itself for anything else: it raises as
    before), a list is copied."""
    position: dict[str, int] = {}
    for i, key in enumerate(keys):
        position.setdefault(key, i)
    env: dict[str, Any] = {}
    items = []
    by_name = dict(converts)
    for j, name in enumerate(names):
        at = f"r[{position[name]}]"
        convert = by_name.get(name)
        if convert is list:
            env[f"L{j}"] = list
            items.append(f"{name!r}: None if (v := {at}) is None else L{j}(v)")
        elif convert is not None:
            assert isinstance(convert, type) and issubclass(convert, Enum)
            env[f"M{j}"] = {m.value: m for m in convert}
            env[f"E{j}"] = convert
            items.append(f"{name!r}: None if (v := {at}) is None else (M{j}.get(v) or E{j}(v))")
        else:
            items.append(f"{name!r}: {at}")
    source = "def read(r):\n    return {" + ", ".join(items) + "}\n"
    exec(compile(source, "<plain values>", "exec"), env)  # noqa: S102
    read: Callable[[Row[Any]], dict[str, Any]] = env["read"]
    return read


C = TypeVar("C")


def built_directly(cls: type[C], attributes: Iterable[str]) -> type[C]:
    """`cls`, checked to be one `instance` may build: a dataclass whose `__init__` only sets
    its init fields (no `__post_init__`), and those are exactly `attributes`."""
    init = {f.name for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    assert not hasattr(cls, "__post_init__") and init == set(attributes), cls
    return cls


def instance(cls: type[C], attributes: dict[str, Any]) -> C:
    """An instance of `cls` (checked by `built_directly`) whose attributes are `attributes`
    (a fresh dict): what its dataclass `__init__` sets, without the per-keyword work of a
    call (a page builds its fifty orders and edges this way)."""
    obj: C = object.__new__(cls)
    obj.__dict__ = attributes
    return obj
