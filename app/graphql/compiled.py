"""A compiled execution plan per validated query document (issue 17, point 6).

graphql-core executes a document by walking it again for every object it completes: it
collects the selection, looks each field up, builds a resolve-info object and a path, and goes
through its generic value completion, per field and per row. For the shapes this schema serves
(object types, lists and connections of them, leaves read as attributes, fields with
resolvers), almost all of that is the same from one request to the next. `plan_for(executor)`
compiles the executor's document once into closures per selection set, kept in a bounded LRU
cache keyed by the document's text and its operation, and `plan.execute(executor)` runs it with
that executor's own state (variables, context, collected errors), so the result is the one
graphql-core would have produced:

- the fields of a selection set are the ones graphql-core collects (its own `collect_fields` /
  `collect_subfields`, run once at compile time: a document without directives collects the
  same fields whatever its variables), in the same order, with aliases and `__typename`;
- each selection set runs as one generated function (`_generated_run`); a plain field of a
  leaf type (Strawberry's basic field: `getattr` on the source) whose value has the common
  type of its kind (a str for String and ID, an enum member, a datetime for DateTime, ...) is
  written there inline, and any other value goes to the field's step, which reads and
  coerces it without a resolve-info object or a path unless it fails;
- an object that is an instance of its type's own class (an edge's node, an order's LOA, the
  edges of a page) runs its type's selection at once, where graphql-core's completion would
  only check what that class already says;
- a resolver that takes only its source and `info` gets Strawberry's Info over a resolve-info
  built on first use (`_InfoOnce`): its context needs none;
- any other field is resolved exactly as graphql-core resolves it (its resolve-info, its
  argument coercion, the field's own resolver) and completed by the compiled plan of its type:
  non-null checks, lists, leaves, objects with `is_type_of`, awaitables gathered the way
  graphql-core gathers them (so dataloaders batch the same);
- errors go through the executor's `handle_field_error` with the path graphql-core would give,
  so null propagation, error messages and locations are its own;
- what the plan does not compile runs on graphql-core in place: abstract types (interfaces,
  unions) complete with the executor's `complete_value`, meta fields (`__schema`, `__type`)
  with its `execute_field`.

Documents it does not compile at all (None: graphql-core executes them as before): mutations
and subscriptions, documents with any directive (`@skip`/`@include` make the selection depend
on variables; `@defer`/`@stream` are incremental) or with fragment variables, executors with
field middleware or an abort signal.

tests/graphql/test_compiled.py runs generated queries over every type through the plan and
through graphql-core and compares data and errors.
"""

from __future__ import annotations

import inspect
import keyword
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from graphql import (
    ExecutionResult,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    OperationType,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList, collect_fields
from graphql.execution.executor import Executor, invalid_return_type_error, to_nodes
from graphql.execution.values import get_argument_values
from graphql.language import DirectiveNode, FieldNode, Visitor, visit
from graphql.pyutils import Path, Undefined, is_iterable
from graphql.pyutils.gather_with_cancel import gather_with_cancel
from graphql.type.scalars import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    serialize_boolean,
    serialize_id,
    serialize_int,
    serialize_string,
)
from strawberry.schema.schema_converter import CustomGraphQLEnumType as _StrawberryEnum
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE
from strawberry.types.field import StrawberryField
from strawberry.types.fields.resolver import StrawberryResolver
from strawberry.types.info import Info

CACHE_SIZE = 256
Ex = Executor[Any]

# A completer: (executor, resolved value, path, info or a function giving it) -> the completed
# value, or an awaitable of it; raises like graphql-core's complete_value.
InfoArg = Any  # a GraphQLResolveInfo, a function giving one, or None
Completer = Callable[[Ex, Any, Path, InfoArg], Any]
# A step of a selection set: (executor, source, parent path, results) -> None, or an awaitable
# the caller gathers; it sets results[response name] itself.
Step = Callable[[Ex, Any, Path | None, dict[str, Any]], Any]

_BACKREF = "strawberry-definition"
_CAST = TYPE_CAST_ATTRIBUTE


def _null_message(where: str) -> str:
    return f"Cannot return null for non-nullable field {where}."


def _origin(otype: GraphQLObjectType) -> type | None:
    """The Strawberry class of an object type, when its instances are never cast (a class
    attribute of the cast's name would make every instance look cast); else None."""
    definition = (otype.extensions or {}).get(_BACKREF)
    origin = getattr(definition, "origin", None)
    if not isinstance(origin, type) or hasattr(origin, _CAST):
        return None
    return origin


class Unsupported(Exception):
    """The document has a shape the plan does not compile: graphql-core executes it."""


def _info(arg: InfoArg) -> Any:
    """The resolve-info of a completion (Strawberry's is a subclass of graphql-core's)."""
    if arg is None:  # (never: completions that use it get one)
        raise Unsupported("no resolve info")
    return arg() if callable(arg) else arg


class _HasDirective(Visitor):
    found = False

    def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
        self.found = True


def _strawberry_is_type_of(fn: Any) -> bool:
    """Strawberry's own `is_type_of` (an isinstance check) ignores its info argument."""
    return getattr(fn, "__qualname__", "").endswith("_get_is_type_of.<locals>.is_type_of")


def _basic_attribute(field_def: GraphQLField) -> str | None:
    """The attribute a Strawberry basic field reads (`getattr(source, python_name)`), or None
    when the field has a resolver, extensions, permissions or arguments."""
    resolve = field_def.resolve
    definition = (field_def.extensions or {}).get(_BACKREF)
    if (
        resolve is None
        or not getattr(resolve, "_is_default", False)
        or field_def.args
        or not isinstance(definition, StrawberryField)
        or not definition.is_basic_field
        or definition.extensions
        or type(definition).get_result is not StrawberryField.get_result
        or getattr(definition, "default_resolver", getattr) is not getattr
    ):
        return None
    return definition.python_name


def _direct_resolver(schema: GraphQLSchema, field_def: GraphQLField) -> Any:
    """For a Strawberry field whose resolver takes no GraphQL arguments (only its source as
    `self`/`root`/`parent` and `info`), has no extensions, permissions or exception handlers:
    a function calling the resolver as Strawberry's wrapper would (`source, info`), without
    the wrapper's argument conversion and extension chain (which are empty for it). None
    otherwise: the field's own `resolve` then runs."""
    definition = (field_def.extensions or {}).get(_BACKREF)
    strawberry_schema = getattr(schema, "_strawberry_schema", None)
    converter = getattr(strawberry_schema, "schema_converter", None)
    if (
        not isinstance(definition, StrawberryField)
        or definition.base_resolver is None
        or field_def.args
        or definition.arguments
        or definition.extensions
        or definition.permission_classes
        or definition.is_subscription
        or type(definition).get_result is not StrawberryField.get_result
        or type(definition.base_resolver).__call__ is not StrawberryResolver.__call__
        or converter is None
        or converter._get_field_exception_handlers(definition)
    ):
        return None
    resolver = definition.base_resolver
    call: Any = resolver.wrapped_func
    if not callable(call):
        return None
    info_class = strawberry_schema.config.info_class  # type: ignore[union-attr]
    self_param = resolver.self_parameter is not None
    by_name = [p.name for p in (resolver.root_parameter, resolver.parent_parameter) if p]
    info_param = resolver.info_parameter.name if resolver.info_parameter else None

    own_info = info_class is Info  # (an _InfoOnce is one: the resolver gets it as it is)

    def resolve(source: Any, info: Any) -> Any:
        """`info`: graphql-core's resolve-info, or an `_InfoOnce` (Strawberry's Info over a
        resolve-info built only if asked for more than its context)."""
        kwargs = dict.fromkeys(by_name, source)
        if info_param is not None:
            if isinstance(info, _InfoOnce) and own_info:
                kwargs[info_param] = info
            elif isinstance(info, _InfoOnce):
                kwargs[info_param] = info_class(_raw_info=info(), _field=definition)
            else:
                kwargs[info_param] = info_class(_raw_info=info, _field=definition)
        return call(source, **kwargs) if self_param else call(**kwargs)

    if own_info and _takes_self_and_info(call, self_param, by_name, info_param):

        def resolve_method(source: Any, info: Any) -> Any:
            """`def field(self, info)`, called as Strawberry's wrapper calls it (by keyword)
            but positionally: the same arguments."""
            if info.__class__ is _InfoOnce:
                return call(source, info)
            return resolve(source, info)

        return resolve_method
    return resolve


def _takes_self_and_info(
    call: Any, self_param: bool, by_name: list[str], info_param: str | None
) -> bool:
    """The resolver's parameters are exactly `self` and its info, both positional."""
    if not self_param or by_name or info_param is None:
        return False
    try:
        params = list(inspect.signature(call).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return (
        len(params) == 2
        and all(p.kind in positional for p in params)
        and params[1].name == info_param
    )


class _Compiler:
    def __init__(self, ex: Ex) -> None:
        self.ex = ex
        self.schema: GraphQLSchema = ex.schema

    # --- completers (graphql-core's complete_value, per return type) -------------------------

    def completer(self, rtype: GraphQLOutputType, fdl: FieldDetailsList, where: str) -> Completer:
        if is_non_null_type(rtype):
            assert isinstance(rtype, GraphQLNonNull)
            inner = rtype.of_type
            if is_object_type(inner):  # one completer for both (a level less per object)
                assert isinstance(inner, GraphQLObjectType)
                return self._object(inner, fdl, _null_message(where))
            return self._non_null(self.completer(inner, fdl, where), where)
        if is_list_type(rtype):
            assert isinstance(rtype, GraphQLList)
            return self._list(rtype, fdl, where)
        if is_leaf_type(rtype):
            return _leaf(rtype)
        if is_abstract_type(rtype):
            return _abstract(rtype, fdl)
        if is_object_type(rtype):
            assert isinstance(rtype, GraphQLObjectType)
            return self._object(rtype, fdl)
        raise Unsupported(f"return type {rtype}")  # pragma: no cover

    @staticmethod
    def leaf_completer(rtype: GraphQLOutputType, leaf: GraphQLLeafType, where: str) -> Completer:
        complete = _leaf(leaf)
        return _Compiler._non_null(complete, where) if is_non_null_type(rtype) else complete

    @staticmethod
    def _non_null(inner: Completer, where: str) -> Completer:
        message = _null_message(where)

        def complete(ex: Ex, result: Any, path: Path, info: InfoArg) -> Any:
            if isinstance(result, Exception):
                raise result
            completed = inner(ex, result, path, info)
            if completed is None:
                raise TypeError(message)
            return completed

        return complete

    def _list(self, rtype: GraphQLList[Any], fdl: FieldDetailsList, where: str) -> Completer:
        item = self.completer(rtype.of_type, fdl, where)
        item_type = rtype.of_type
        not_iterable = f"Expected Iterable, but did not find one for field '{where}'."

        def complete(ex: Ex, result: Any, path: Path, info: InfoArg) -> Any:
            if isinstance(result, Exception):
                raise result
            if result is None or result is Undefined:
                return None
            if ex.is_async_iterable(result):
                return ex.complete_list_value(rtype, fdl, _info(info), path, result, None)
            if not is_iterable(result):
                raise GraphQLError(not_iterable)
            return _complete_items(ex, item, item_type, fdl, path, info, result)

        return complete

    def _object(
        self, otype: GraphQLObjectType, fdl: FieldDetailsList, null_message: str | None = None
    ) -> Completer:
        """An object of `otype` (with `null_message`: a non-null one, which raises it for
        null, as graphql-core's non-null completion does)."""
        grouped, _defer, _forbidden = self.ex.collect_subfields(otype, fdl)
        run = self.selection(otype, grouped.items())
        is_type_of = otype.is_type_of
        info_free = is_type_of is None or _strawberry_is_type_of(is_type_of)
        # Strawberry's is_type_of is an isinstance check (or a cast's type): an instance of
        # the type's own class, not cast, always passes it.
        origin = _origin(otype) if is_type_of is not None and info_free else None

        def complete(ex: Ex, result: Any, path: Path, info: InfoArg) -> Any:
            if isinstance(result, Exception):
                raise result
            if result is None or result is Undefined:
                if null_message is not None:
                    raise TypeError(null_message)
                return None
            if is_type_of is not None and not (
                result.__class__ is origin and _CAST not in getattr(result, "__dict__", _CAST)
            ):
                matches = is_type_of(result, None if info_free else _info(info))  # type: ignore[arg-type]
                if ex.is_awaitable(matches):
                    return ex.complete_object_value(otype, fdl, _info(info), path, result, None)
                if not matches:
                    raise invalid_return_type_error(otype, result, fdl)
            return run(ex, result, path)

        # For a selection's generated run: an instance of the type's own class (not cast,
        # where is_type_of looks at casts) completes as `run` of it, nothing else to check.
        own = _origin(otype)
        if own is not None and (is_type_of is None or origin is not None):
            complete.inline = (own, run, is_type_of is not None)  # type: ignore[attr-defined]
        return complete

    # --- selection sets -------------------------------------------------------------------

    def selection(
        self, otype: GraphQLObjectType, grouped: Iterable[tuple[str, FieldDetailsList]]
    ) -> Callable[[Ex, Any, Path | None], Any]:
        entries = [e for e in (self.entry(otype, name, fdl) for name, fdl in grouped) if e]
        return _generated_run(entries)

    def entry(self, otype: GraphQLObjectType, name: str, fdl: FieldDetailsList) -> _Entry | None:
        """The field's step, and for a plain leaf attribute how its common values are written
        inline (the generated run of the selection set; anything else goes to the step)."""
        step = self.step(otype, name, fdl)
        if step is None:
            return None
        field_def = self.schema.get_field(otype, fdl[0].node.name.value)
        attribute = _basic_attribute(field_def) if field_def is not None else None
        if field_def is None or attribute is None or fdl[0].node.arguments:
            return _Entry(name, step)
        rtype = field_def.type
        leaf = rtype.of_type if isinstance(rtype, GraphQLNonNull) else rtype
        nullable = not isinstance(rtype, GraphQLNonNull)
        inline_object = getattr(getattr(step, "complete", None), "inline", None)
        if inline_object is not None:
            own, run, cast = inline_object
            obj = (own, run, cast, rtype, fdl, otype.name)
            return _Entry(name, step, attribute, "object", None, nullable, None, obj)
        if isinstance(leaf, GraphQLList) and _strings(leaf.of_type):
            # a list of String (or ID): a list of str values is written as a copy of it
            strs = "strs" if isinstance(leaf.of_type, GraphQLNonNull) else "strs_or_null"
            return _Entry(name, step, attribute, strs, None, nullable)
        if not is_leaf_type(leaf):
            return _Entry(name, step)
        assert isinstance(leaf, GraphQLLeafType)
        kind, names = _inline_kind(leaf)
        if kind is None:
            return _Entry(name, step)
        return _Entry(name, step, attribute, kind, names, nullable, leaf.coerce_output_value)

    def step(self, otype: GraphQLObjectType, name: str, fdl: FieldDetailsList) -> Step | None:
        node = fdl[0].node
        field_name = node.name.value
        if fdl[0].fragment_variable_values is not None:
            raise Unsupported("fragment variables")
        field_def = self.schema.get_field(otype, field_name)
        if field_def is None:
            return None  # graphql-core leaves it out (Undefined)
        type_name = otype.name
        if field_name == "__typename":
            return _constant(name, type_name)
        if field_name.startswith("__"):
            return _fallback(otype, name, fdl)
        rtype = field_def.type
        where = f"{type_name}.{field_name}"
        attribute = _basic_attribute(field_def)
        leaf = rtype.of_type if isinstance(rtype, GraphQLNonNull) else rtype
        if attribute is not None and is_leaf_type(leaf) and not node.arguments:
            return _leaf_attribute(name, attribute, rtype, leaf, fdl, type_name, where)
        complete = self.completer(rtype, fdl, where)
        if attribute is not None and not node.arguments:
            return _attribute(name, attribute, field_def, otype, complete, fdl)
        direct = _direct_resolver(self.schema, field_def)
        return _resolved(name, field_def, otype, complete, fdl, direct)


# --- the generated run of a selection set --------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    """One field of a selection set: its step, and for a plain leaf attribute the kind of the
    values written inline ("str": String and ID; "bool"; "int"; "enum": members of a
    Strawberry enum, by identity; "exact": a custom scalar whose serializer declares, as its
    `exact_input` attribute, a class whose instances it always turns into a non-null value
    without raising; "strs", "strs_or_null": a list of String or ID, of non-null items or
    not, as a list of str values (and None), copied; "object": an object of its type's own
    class, completed by its selection's run, `obj`), else None."""

    name: str
    step: Step
    attribute: str | None = None
    kind: str | None = None
    names: dict[int, str] | None = None
    nullable: bool = False
    coerce: Any = None
    # "object": (the type's class, its selection's run, whether casts are checked, the
    # field's type, its field details, the parent type's name)
    obj: Any = None


def _strings(item: GraphQLOutputType) -> bool:
    """A String or ID item type (non-null or not), coerced as graphql-core's own."""
    leaf = item.of_type if isinstance(item, GraphQLNonNull) else item
    return isinstance(leaf, GraphQLLeafType) and _inline_kind(leaf)[0] == "str"


def _inline_kind(leaf: GraphQLLeafType) -> tuple[str | None, dict[int, str] | None]:
    coerce = leaf.coerce_output_value
    if coerce is serialize_string or coerce is serialize_id:
        return "str", None
    if coerce is serialize_boolean:
        return "bool", None
    if coerce is serialize_int:
        return "int", None
    exact = getattr(coerce, "exact_input", None)
    if isinstance(exact, type):
        return "exact", None
    wrapped = getattr(leaf, "wrapped_cls", None)
    if (
        isinstance(leaf, GraphQLEnumType)
        and type(leaf).coerce_output_value is _StrawberryEnum.coerce_output_value
        and isinstance(wrapped, type)
        and issubclass(wrapped, Enum)
    ):
        # Strawberry's coercion of a member: the first GraphQL name whose value equals the
        # member's value. Members live as long as their class: their ids are theirs.
        names: dict[int, str] = {}
        for member in wrapped:
            for gql_name, value in leaf.values.items():
                if member.value == value.value:
                    names[id(member)] = gql_name
                    break
        return "enum", names
    return None, None


_INLINE_TEST = {
    "str": "v.__class__ is str",
    "bool": "v.__class__ is bool",
    "int": f"v.__class__ is int and {GRAPHQL_MIN_INT} <= v <= {GRAPHQL_MAX_INT}",
    "enum": "(e := E{i}.get(id(v))) is not None",
    "exact": "v.__class__ is T{i}",
    "strs": "v.__class__ is list and all(x.__class__ is str for x in v)",
    "strs_or_null": "v.__class__ is list and all(x is None or x.__class__ is str for x in v)",
}
_INLINE_VALUE = {
    "str": "v",
    "bool": "v",
    "int": "v",
    "enum": "e",
    "exact": "C{i}(v)",
    "strs": "v[:]",
    "strs_or_null": "v[:]",
}
_MISSING = object()


def _generated_run(entries: list[_Entry]) -> Callable[[Ex, Any, Path | None], Any]:
    """The selection set's run as one generated function: a plain leaf attribute whose value
    has the common type of its kind (a str for String and ID, a member for an enum, null for
    a nullable field) is read and written inline, exactly as its step would write it; any other
    value, and every other field, goes to the field's own step, which then does what it
    always does (coercion, errors and their paths, awaitables). The fields are written in
    the selection's order, so the response keeps graphql-core's key order."""
    env: dict[str, Any] = {"MISSING": _MISSING, "gathered": _gathered_fields}
    lines = [
        "def run(ex, source, path):",
        "    results = {}",
        "    pending = None",
        "    try:",
    ]

    def to_step(i: int) -> list[str]:
        return [
            f"n = S{i}(ex, source, path, results)",
            "if n is not None:",
            "    if pending is None:",
            "        pending = []",
            "    pending.append(n)",
        ]

    for i, entry in enumerate(entries):
        env[f"S{i}"] = entry.step
        pad = " " * 8
        if entry.kind is None or entry.attribute is None:
            lines += [pad + line for line in to_step(i)]
            continue
        if entry.kind == "object":
            lines += _object_lines(env, entry, i, pad, to_step(i))
            continue
        attribute = entry.attribute
        plain = attribute.isidentifier() and not keyword.iskeyword(attribute)
        read = f"source.{attribute}" if plain else f"getattr(source, A{i})"
        env[f"A{i}"] = attribute
        env[f"K{i}"] = entry.name
        if entry.names is not None:
            env[f"E{i}"] = entry.names
        value = _INLINE_VALUE[entry.kind].format(i=i)
        if entry.kind == "exact":
            # (its `exact_function`, when it names the function it calls: one call less; its
            # `exact_text`, an expression over `v` the function gives for the values its
            # guard accepts, written inline: no call)
            env[f"C{i}"] = getattr(entry.coerce, "exact_function", entry.coerce)
            env[f"T{i}"] = entry.coerce.exact_input
            text = getattr(entry.coerce, "exact_text", None)
            if text is not None:
                guard, expression, names = text
                env.update(names)
                value = f"({expression}) if {guard} else {value}"
        lines += [
            pad + "try:",
            pad + f"    v = {read}",
            pad + "except Exception:",
            pad + "    v = MISSING",
            pad + f"if {_INLINE_TEST[entry.kind].format(i=i)}:",
            pad + f"    results[K{i}] = {value}",
        ]
        if entry.nullable:
            lines += [pad + "elif v is None:", pad + f"    results[K{i}] = None"]
        lines += [pad + "else:"] + [pad + "    " + line for line in to_step(i)]
    lines += [
        "    except Exception:",
        "        if pending:",
        "            ex.settle_in_background([results[n] for n in pending])",
        "        raise",
        "    if pending is None:",
        "        return results",
        "    return gathered(results, pending)",
    ]
    exec(compile("\n".join(lines), "<compiled selection>", "exec"), env)  # noqa: S102
    run: Callable[[Ex, Any, Path | None], Any] = env["run"]
    return run


def _object_lines(
    env: dict[str, Any], entry: _Entry, i: int, pad: str, step: list[str]
) -> list[str]:
    """An object attribute inline: an instance of its type's own class completes as its
    selection's run, with the path and error handling its step would give; anything else
    (null in a nullable field aside) goes to the step."""
    own, run, cast, rtype, fdl, type_name = entry.obj
    attribute = entry.attribute
    assert attribute is not None
    plain = attribute.isidentifier() and not keyword.iskeyword(attribute)
    env.update(
        {f"A{i}": attribute, f"K{i}": entry.name, f"O{i}": own, f"R{i}": run}
        | {f"RT{i}": rtype, f"F{i}": fdl, f"TN{i}": type_name, "Path": Path}
        | {"FR": _field_result, "CAST": _CAST}
    )
    test = f"v.__class__ is O{i}" + (" and CAST not in v.__dict__" if cast else "")
    lines = [
        "try:",
        f"    v = {f'source.{attribute}' if plain else f'getattr(source, A{i})'}",
        "except Exception:",
        "    v = MISSING",
        f"if {test}:",
        f"    p = Path(path, K{i}, TN{i})",
        "    try:",
        f"        c = R{i}(ex, v, p)",
        "    except Exception as raw_error:",
        f"        ex.handle_field_error(raw_error, RT{i}, F{i}, p)",
        "        c = None",
        "    if c is None or c.__class__ is dict:",
        f"        results[K{i}] = c",
        "    else:",
        f"        results[K{i}] = FR(ex, c, RT{i}, F{i}, p)",
        "        if pending is None:",
        "            pending = []",
        f"        pending.append(K{i})",
    ]
    if entry.nullable:
        lines += ["elif v is None:", f"    results[K{i}] = None"]
    lines += ["else:"] + ["    " + line for line in step]
    return [pad + line for line in lines]


async def _gathered_fields(results: dict[str, Any], pending: list[str]) -> dict[str, Any]:
    if len(pending) == 1:
        results[pending[0]] = await results[pending[0]]
    else:
        values = await gather_with_cancel(*(results[n] for n in pending))
        results.update(zip(pending, values, strict=True))
    return results


# --- completers without state --------------------------------------------------------------


def _leaf(ltype: GraphQLLeafType) -> Completer:
    coerce = ltype.coerce_output_value

    def complete(ex: Ex, result: Any, path: Path, info: InfoArg) -> Any:
        if isinstance(result, Exception):
            raise result
        if result is None or result is Undefined:
            return None
        coerced = coerce(result)
        if coerced is Undefined or coerced is None:
            return Executor.complete_leaf_value(ltype, result)  # raises its TypeError
        return coerced

    return complete


def _abstract(rtype: Any, fdl: FieldDetailsList) -> Completer:
    def complete(ex: Ex, result: Any, path: Path, info: InfoArg) -> Any:
        return ex.complete_value(rtype, fdl, _info(info), path, result, None)

    return complete


def _complete_items(
    ex: Ex,
    item: Completer,
    item_type: GraphQLOutputType,
    fdl: FieldDetailsList,
    path: Path,
    info: InfoArg,
    items: Iterable[Any],
) -> Any:
    """graphql-core's complete_iterable_value (no @stream: the plan has no directives)."""
    is_awaitable = ex.is_awaitable
    # an object of the item type's own class: its selection's run, as the completer runs it
    inline: tuple[Any, Any, bool] = getattr(item, "inline", (None, None, False))
    own, run, cast = inline
    completed: list[Any] = []
    pending: list[int] = []
    iterator = iter(items)
    index = 0
    try:
        for value in iterator:
            item_path = path.add_key(index, None)
            if value.__class__ is own and not (cast and _CAST in value.__dict__):
                try:
                    done = run(ex, value, item_path)
                    if done.__class__ is dict:
                        completed.append(done)
                    else:
                        completed.append(_field_result(ex, done, item_type, fdl, item_path))
                        pending.append(index)
                except Exception as raw_error:
                    ex.handle_field_error(raw_error, item_type, fdl, item_path)
                    completed.append(None)
            elif is_awaitable(value):
                completed.append(_awaited_item(ex, item, item_type, fdl, item_path, info, value))
                pending.append(index)
            else:
                try:
                    done = item(ex, value, item_path, info)
                    if is_awaitable(done):
                        completed.append(_field_result(ex, done, item_type, fdl, item_path))
                        pending.append(index)
                    else:
                        completed.append(done)
                except Exception as raw_error:
                    ex.handle_field_error(raw_error, item_type, fdl, item_path)
                    completed.append(None)
            index += 1
    except Exception:
        waiting = [completed[i] for i in pending]
        waiting.extend(v for v in iterator if is_awaitable(v))
        if waiting:
            ex.settle_in_background(waiting)
        raise
    if not pending:
        return completed

    async def gathered() -> list[Any]:
        if len(pending) == 1:
            completed[pending[0]] = await completed[pending[0]]
        else:
            values = await gather_with_cancel(*(completed[i] for i in pending))
            for i, value in zip(pending, values, strict=True):
                completed[i] = value
        return completed

    return gathered()


async def _awaited_item(
    ex: Ex,
    item: Completer,
    item_type: GraphQLOutputType,
    fdl: FieldDetailsList,
    path: Path,
    info: InfoArg,
    value: Any,
) -> Any:
    try:
        resolved = await ex.with_abort_signal(value)
        completed = item(ex, resolved, path, info)
        if ex.is_awaitable(completed):
            completed = await completed
    except Exception as raw_error:
        ex.handle_field_error(raw_error, item_type, fdl, path)
        return None
    return completed


# --- steps ----------------------------------------------------------------------------------


def _constant(name: str, value: str) -> Step:
    def step(ex: Ex, source: Any, path: Path | None, results: dict[str, Any]) -> Any:
        results[name] = value

    return step


def _fallback(otype: GraphQLObjectType, name: str, fdl: FieldDetailsList) -> Step:
    """graphql-core's own execute_field (meta fields)."""

    def step(ex: Ex, source: Any, path: Path | None, results: dict[str, Any]) -> Any:
        value = ex.execute_field(otype, source, fdl, Path(path, name, otype.name), None)
        if value is Undefined:
            return None
        results[name] = value
        return name if ex.is_awaitable(value) else None

    return step


def _leaf_attribute(
    name: str,
    attribute: str,
    rtype: GraphQLOutputType,
    leaf: GraphQLLeafType,
    fdl: FieldDetailsList,
    type_name: str,
    where: str,
) -> Step:
    """A basic field of a leaf type: getattr, then the leaf's coercion; failures (and nulls in
    a non-null field) go to handle_field_error with graphql-core's message and path."""
    coerce = leaf.coerce_output_value
    # graphql-core's String and ID coercions answer a str with itself.
    str_as_is = coerce is serialize_string or coerce is serialize_id
    non_null = isinstance(rtype, GraphQLNonNull)
    null_message = f"Cannot return null for non-nullable field {where}."
    complete = _Compiler.leaf_completer(rtype, leaf, where)

    def step(ex: Ex, source: Any, path: Path | None, results: dict[str, Any]) -> Any:
        value = None
        try:
            value = getattr(source, attribute)
            if str_as_is and type(value) is str:
                results[name] = value
                return None
            if value is None or value is Undefined:
                if non_null:
                    raise TypeError(null_message)
                results[name] = None
                return None
            if isinstance(value, Exception):
                raise value
            coerced = coerce(value)
            if coerced is Undefined or coerced is None:
                Executor.complete_leaf_value(leaf, value)  # raises its TypeError
            results[name] = coerced
        except Exception as raw_error:
            field_path = Path(path, name, type_name)
            if ex.is_awaitable(value):  # (an attribute holding an awaitable: rare, awaited)
                results[name] = _awaited_field(ex, value, complete, rtype, fdl, field_path, None)
                return name
            ex.handle_field_error(raw_error, rtype, fdl, field_path)
            results[name] = None
        return None

    return step


def _attribute(
    name: str,
    attribute: str,
    field_def: GraphQLField,
    otype: GraphQLObjectType,
    complete: Completer,
    fdl: FieldDetailsList,
) -> Step:
    """A basic field of an object or list type: getattr, then the compiled completion. Its
    resolve-info is built only if a completion needs one (abstract types)."""
    rtype = field_def.type
    nodes = to_nodes(fdl)
    type_name = otype.name

    def step(ex: Ex, source: Any, path: Path | None, results: dict[str, Any]) -> Any:
        field_path = Path(path, name, type_name)

        def info() -> Any:
            return ex.build_resolve_info(field_def, nodes, otype, field_path)

        try:
            value = getattr(source, attribute)
            if ex.is_awaitable(value):
                results[name] = _awaited_field(ex, value, complete, rtype, fdl, field_path, info())
                return name
            completed = complete(ex, value, field_path, info)
            if ex.is_awaitable(completed):
                results[name] = _field_result(ex, completed, rtype, fdl, field_path)
                return name
        except Exception as raw_error:
            ex.handle_field_error(raw_error, rtype, fdl, field_path)
            completed = None
        results[name] = completed
        return None

    step.complete = complete  # type: ignore[attr-defined]  # (for the generated run: entry)
    return step


def _resolved(
    name: str,
    field_def: GraphQLField,
    otype: GraphQLObjectType,
    complete: Completer,
    fdl: FieldDetailsList,
    direct: Any,
) -> Step:
    """A field with a resolver: graphql-core's execute_field, with the compiled completion."""
    rtype = field_def.type
    nodes = to_nodes(fdl)
    node: FieldNode = fdl[0].node
    type_name = otype.name
    has_args = bool(field_def.args or node.arguments)
    resolve = None if has_args else direct
    resolve = resolve or field_def.resolve

    # A resolver `_direct_resolver` calls gets its resolve-info built only if it (or the
    # completion) asks for one.
    if direct is not None and resolve is direct:
        return _direct(name, field_def, otype, complete, fdl, direct)

    def step(ex: Ex, source: Any, path: Path | None, results: dict[str, Any]) -> Any:
        field_path = Path(path, name, type_name)
        info: Any = ex.build_resolve_info(field_def, nodes, otype, field_path)
        resolve_fn = resolve or ex.field_resolver
        try:
            args = (
                get_argument_values(field_def, node, ex.variable_values, None, ex.hide_suggestions)
                if has_args
                else {}
            )
            result = resolve_fn(source, info, **args)
            return _into(ex, results, name, result, complete, rtype, fdl, field_path, info)
        except Exception as raw_error:
            ex.handle_field_error(raw_error, rtype, fdl, field_path)
        results[name] = None
        return None

    return step


def _direct(
    name: str,
    field_def: GraphQLField,
    otype: GraphQLObjectType,
    complete: Completer,
    fdl: FieldDetailsList,
    resolve: Any,
) -> Step:
    """A field whose resolver `_direct_resolver` calls: its resolve-info (and the field's
    path) built only if the resolver, the completion or an error asks for them; a String or
    ID it answers with a str is written as it is (what the leaf's completion gives)."""
    rtype = field_def.type
    nodes = to_nodes(fdl)
    type_name = otype.name
    leaf = rtype.of_type if isinstance(rtype, GraphQLNonNull) else rtype
    plain_str = isinstance(leaf, GraphQLLeafType) and _inline_kind(leaf)[0] == "str"
    definition: StrawberryField = (field_def.extensions or {})[_BACKREF]  # (direct: it has one)

    # an object of the type's own class: its selection's run, as the completer would run it
    inline: tuple[Any, Any, bool] = getattr(complete, "inline", (None, None, False))
    own, run, cast = inline

    def step(ex: Ex, source: Any, path: Path | None, results: dict[str, Any]) -> Any:
        info = _InfoOnce(ex, field_def, nodes, otype, path, name, type_name, definition)
        try:
            result = resolve(source, info)
            if plain_str and result.__class__ is str:
                results[name] = result
                return None
            if result.__class__ is own and not (cast and _CAST in result.__dict__):
                completed = run(ex, result, info.path)
                if completed.__class__ is dict:
                    results[name] = completed
                    return None
                results[name] = _field_result(ex, completed, rtype, fdl, info.path)
                return name
            return _into(ex, results, name, result, complete, rtype, fdl, info.path, info)
        except Exception as raw_error:
            ex.handle_field_error(raw_error, rtype, fdl, info.path)
        results[name] = None
        return None

    return step


def _into(
    ex: Ex,
    results: dict[str, Any],
    name: str,
    result: Any,
    complete: Completer,
    rtype: GraphQLOutputType,
    fdl: FieldDetailsList,
    path: Path,
    info: InfoArg,
) -> str | None:
    """A resolver's value completed into `results[name]`: None, or the name when what is
    there is an awaitable the selection gathers. A failure raises (the step reports it)."""
    if ex.is_awaitable(result):
        results[name] = _awaited_field(ex, result, complete, rtype, fdl, path, info)
        return name
    completed = complete(ex, result, path, info)
    if ex.is_awaitable(completed):
        results[name] = _field_result(ex, completed, rtype, fdl, path)
        return name
    results[name] = completed
    return None


class _InfoOnce(Info[Any, Any]):
    """Strawberry's Info for a resolver the plan calls directly, over a resolve-info built on
    first use, and the field's path, made on first use: its `context` (which is all most
    resolvers read) comes without either, as a plain attribute (the executor's context, which
    the resolve-info would give too). Called, it gives the resolve-info (the completers')."""

    context = None  # (not Info's property: the instance's own attribute)

    def __init__(
        self,
        ex: Ex,
        field_def: GraphQLField,
        nodes: list[FieldNode],
        otype: GraphQLObjectType,
        parent: Path | None,
        name: str,
        type_name: str,
        field: StrawberryField,
    ) -> None:
        self._ex = ex
        self._args = (field_def, nodes, otype)
        self._parent = parent
        self._name = name
        self._type_name = type_name
        self._field = field
        self.context = ex.context_value
        self._made_path: Path | None = None

    @property
    def path(self) -> Path:
        """The field's path (Info's own reads it from the resolve-info: the same one)."""
        if self._made_path is None:
            self._made_path = Path(self._parent, self._name, self._type_name)
        return self._made_path

    def __call__(self) -> Any:
        raw = self.__dict__.get("_raw_info")
        if raw is None:
            raw = self.__dict__["_raw_info"] = self._ex.build_resolve_info(*self._args, self.path)
        return raw

    def __getattr__(self, name: str) -> Any:
        if name == "_raw_info":
            return self()
        raise AttributeError(name)


async def _field_result(
    ex: Ex, completed: Any, rtype: GraphQLOutputType, fdl: FieldDetailsList, path: Path
) -> Any:
    """A field's or list item's awaited value; an error goes through graphql-core's handling."""
    try:
        return await completed
    except Exception as raw_error:
        ex.handle_field_error(raw_error, rtype, fdl, path)
        return None


async def _awaited_field(
    ex: Ex,
    result: Any,
    complete: Completer,
    rtype: GraphQLOutputType,
    fdl: FieldDetailsList,
    path: Path,
    info: InfoArg,
) -> Any:
    """graphql-core's complete_awaitable_value."""
    try:
        resolved = await ex.with_abort_signal(result)
        completed = complete(ex, resolved, path, info)
        if ex.is_awaitable(completed):
            completed = await completed
    except Exception as raw_error:
        ex.handle_field_error(raw_error, rtype, fdl, path)
        completed = None
    return completed


# --- plans and their cache ------------------------------------------------------------------


class Plan:
    """One operation of one document, compiled."""

    def __init__(self, run: Callable[[Ex, Any, Path | None], Any]) -> None:
        self._run = run

    def execute(self, ex: Ex) -> Any:
        """What `ex.execute_operation()` returns: an ExecutionResult or an awaitable of one."""
        try:
            data = self._run(ex, ex.root_value, None)
            if ex.is_awaitable(data):
                return _finish(ex, data)
        except GraphQLError as error:
            ex.collected_errors.add(error, None)
            return ex.finish(ex.build_response(None))
        return ex.finish(ex.build_response(data))


async def _finish(ex: Ex, data: Any) -> ExecutionResult:
    try:
        completed = await data
    except GraphQLError as error:
        ex.collected_errors.add(error, None)
        return ex.build_response(None)  # type: ignore[return-value]
    except Exception:
        await ex.cancel_incremental_work()
        ex.run_async_work_finished_hook()
        raise
    return ex.build_response(completed)  # type: ignore[return-value]


def _compile(ex: Ex) -> Plan:
    operation = ex.operation
    finder = _HasDirective()
    visit(operation, finder)
    for fragment in ex.fragment_definitions.values():
        if fragment.variable_definitions:
            raise Unsupported("fragment variables")
        visit(fragment, finder)
    if finder.found:
        raise Unsupported("directives")
    root_type = ex.schema.query_type
    if root_type is None:
        raise Unsupported("no query type")
    grouped, _defer, _forbidden = collect_fields(
        ex.schema, ex.fragments, ex.variable_values, root_type, operation, ex.hide_suggestions
    )
    return Plan(_Compiler(ex).selection(root_type, grouped.items()))


class _Cache:
    """Plans (or None: not compilable) by (document text, operation's offset), bounded LRU."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.plans: OrderedDict[tuple[str, int], Plan | None] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[str, int], build: Callable[[], Plan | None]) -> Plan | None:
        with self.lock:
            if key in self.plans:
                self.plans.move_to_end(key)
                return self.plans[key]
        plan = build()
        with self.lock:
            self.plans[key] = plan
            while len(self.plans) > self.size:
                self.plans.popitem(last=False)
        return plan


_caches: weakref.WeakKeyDictionary[GraphQLSchema, _Cache] = weakref.WeakKeyDictionary()


def _has_middleware(ex: Ex) -> bool:
    manager = ex.middleware_manager
    return manager is not None and bool(getattr(manager, "middlewares", True))


def plan_for(ex: Ex, *, cache_size: int = CACHE_SIZE) -> Plan | None:
    """The compiled plan of the executor's operation, or None when graphql-core executes it
    (see the module's docstring)."""
    operation = ex.operation
    if (
        operation.operation is not OperationType.QUERY
        or operation.loc is None
        or ex.abort_signal is not None
        or _has_middleware(ex)
        or not ex.error_propagation
    ):
        return None
    cache = _caches.get(ex.schema)
    if cache is None:
        cache = _caches.setdefault(ex.schema, _Cache(cache_size))
    key = (operation.loc.source.body, operation.loc.start)

    def build() -> Plan | None:
        try:
            return _compile(ex)
        except Unsupported:
            return None

    return cache.get(key, build)
