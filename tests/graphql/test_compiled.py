"""The compiled plans (app/graphql/compiled.py) answer exactly what graphql-core answers: queries
generated over every type of the schema (random fields, aliases, repeated fields, inline and
named fragments, __typename, nested objects, lists and connections, `node` over every kind of
SID, page arguments valid and invalid) run through the schema with plans and through plain
graphql-core, over the same seeded rows (orders, LOAs, a Port Request, the inventory, events,
callback deliveries), data and errors compared as JSON text (field order counts); and every
one of them ran on a plan. On SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import json
import random
from typing import Any

import pytest
import strawberry
from graphql import (
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
)
from starlette.requests import Request
from strawberry.types.nodes import SelectedField

from app.config import Settings
from app.graphql import compiled
from app.graphql.context import Context
from app.graphql.execution import CompiledPlans
from app.graphql.schema import build_schema
from app.services.context import Caller, Services
from tests.builders import Tenant, request_input
from tests.conftest import GraphQL
from tests.operators.support import create_order, ported

pytestmark = pytest.mark.dialects("sqlite", "postgres")

MAX_DEPTH = 4  # (connections count three levels each: edges, node)
MAX_FIELDS = 8
STATEFUL = {("Query", "rateLimit")}  # answers differ between two runs of one document


class Generator:
    """Random valid documents over a schema, arguments drawn from the seeded SIDs."""

    def __init__(self, schema: GraphQLSchema, sids: list[str], rng: random.Random) -> None:
        self.schema = schema
        self.sids = sids
        self.rng = rng
        self.fragments: dict[str, str] = {}
        self.refusals = 1
        self._names = itertools.count()

    def document(self) -> str:
        self.fragments = {}
        self.refusals = 1
        query = self.schema.query_type
        assert query is not None
        body = self.selection(query, 0)
        fragments = "".join(f" fragment {name} on {on}" for name, on in self.fragments.items())
        return "query Q { " + body + " }" + fragments

    def _argument(self, name: str, field: GraphQLField, paging: list[str]) -> str | None:
        arg = field.args[name]
        required = isinstance(arg.type, GraphQLNonNull)
        rng = self.rng
        named = get_named_type(arg.type)
        if not required and rng.random() < 0.6:
            return None
        if name in ("first", "last", "after", "before"):
            # At most one argument a document's resolvers refuse (see below); `first` and
            # `last` together are refused too.
            together = {*paging, name}
            fine = together <= {"first", "after"} or together <= {"last", "before"}
            if not fine and not self._refusal():
                return None
            paging.append(name)
            if name in ("first", "last"):
                return str(rng.choice([1, 2, 3, 50] + ([0, 101, -1] * self._refusal())))
            return '"' + rng.choice([*self.sids, "nope", "12"]) + '"' if self._refusal() else None
        if named.name == "ID":
            return '"' + rng.choice([*self.sids, "PN00000000000000000000000000000000"]) + '"'
        if isinstance(arg.type, GraphQLNonNull) and isinstance(arg.type.of_type, GraphQLList):
            return '["+14155552671", "+1415555", "+14155550199"]'  # portability(numbers:)
        if named.name.endswith("Filter"):
            return "{}"
        return None if not required else "null"

    def _refusal(self) -> bool:
        """Whether this argument may be one the resolver refuses: once per document. Two
        refusals in different branches, each nulling the same parent (data itself, through
        non-null connections), would race: which one is reported depends on which database
        read returns first, in graphql-core as in the plan (the later error is dropped, its
        position being null already). test_errors_and_nulls_answer_the_same has several
        errors at once where their order is fixed (one batch)."""
        if self.refusals and self.rng.random() < 0.3:
            self.refusals -= 1
            return True
        return False

    def _arguments(self, field: GraphQLField) -> str:
        paging: list[str] = []
        given = [(n, self._argument(n, field, paging)) for n in field.args]
        text = ", ".join(f"{n}: {v}" for n, v in given if v is not None)
        return f"({text})" if text else ""

    def _alias(self) -> str:
        return f"a{next(self._names)}: "

    def selection(self, t: GraphQLNamedType, depth: int) -> str:
        rng = self.rng
        if isinstance(t, GraphQLInterfaceType):
            parts = ["__typename"] if rng.random() < 0.5 else []
            parts += [n for n in t.fields if rng.random() < 0.5]  # the interface's own
            for possible in self.schema.get_possible_types(t):
                if rng.random() < 0.7:
                    parts.append(f"... on {possible.name} {{ {self.selection(possible, depth)} }}")
            return " ".join(parts or ["__typename"])
        assert isinstance(t, GraphQLObjectType)
        parts = []
        # rateLimit reads the budget the previous run just spent from: not a pure read
        names = [n for n in t.fields if (t.name, n) not in STATEFUL]
        for name in rng.sample(names, rng.randint(1, min(MAX_FIELDS, len(names)))):
            field = t.fields[name]
            inner = get_named_type(field.type)
            if is_leaf_type(inner):
                roll = rng.random()
                if roll < 0.15:
                    parts.append(self._alias() + name)
                elif roll < 0.25 and not field.args:
                    parts.append(f"{name} {name}")  # the same field twice: one group
                else:
                    parts.append(name)
                continue
            if depth >= MAX_DEPTH:
                continue
            args = self._arguments(field)
            if any(isinstance(a.type, GraphQLNonNull) for a in field.args.values()) and not args:
                continue
            alias = self._alias() if rng.random() < 0.2 else ""
            parts.append(f"{alias}{name}{args} {{ {self.selection(inner, depth + 1)} }}")
        if rng.random() < 0.2:
            parts.append("__typename")
        if rng.random() < 0.15:
            leaves = [n for n in names if is_leaf_type(get_named_type(t.fields[n].type))]
            if leaves:
                picked = " ".join(rng.sample(leaves, min(3, len(leaves))))
                parts.append(f"... on {t.name} {{ {picked} }}")
        if rng.random() < 0.1:
            leaves = [n for n in names if is_leaf_type(get_named_type(t.fields[n].type))]
            if leaves:
                fragment = f"F{next(self._names)}"
                picked = " ".join(rng.sample(leaves, min(4, len(leaves))))
                self.fragments[fragment] = f"{t.name} {{ {picked} }}"
                parts.append(f"...{fragment}")
        return " ".join(parts or ["__typename"])


async def _seed(svc: Services, gql: GraphQL, alice: Tenant, op: Tenant) -> list[str]:
    """Orders (one with a status callback, one completed into the inventory), their LOAs, a
    Port Request: the SIDs of all of them."""
    from app.services import port_requests

    plain = await create_order(gql, alice)
    called = await create_order(
        gql,
        alice,
        statusCallback="https://example.com/cb",
        ccEmails=["a@example.com", "b@example.com"],
        companyName="Acme",
    )
    done = await ported(gql, op, alice, "+14159875001")
    view = await port_requests.create_port_request(svc, alice.caller, request_input())
    return [
        plain["sid"],
        called["sid"],
        done["sid"],
        plain["loaSid"],
        done["incomingPhoneNumberSid"],
        view.row.sid,
    ]


async def _run(schema: Any, svc: Services, caller: Caller, query: str) -> str:
    """The response as JSON text (field order counts), with the errors as graphql-core gave
    them before masking: each one's message, locations, path, and its original exception's
    type and text."""
    request = Request({"type": "http", "method": "POST", "headers": [], "path": "/graphql"})
    ctx = Context(services=svc, request=request, caller=caller)
    raw: list[dict[str, Any]] = []

    def record(errors: list[GraphQLError], execution_context: Any = None) -> None:
        for e in errors:
            original = e.original_error
            cause = None if original is None else [type(original).__name__, str(original)]
            raw.append({**e.formatted, "original": cause})

    schema.process_errors = record
    result = await schema.execute(query, context_value=ctx)
    masked = [e.formatted for e in result.errors or []]
    return json.dumps({"data": result.data, "errors": masked, "raw": raw})


@pytest.fixture
def plans_run(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many operations ran on a compiled plan."""
    ran = [0]
    original = compiled.Plan.execute

    def counted(self: compiled.Plan, ex: Any) -> Any:
        ran[0] += 1
        return original(self, ex)

    monkeypatch.setattr(compiled.Plan, "execute", counted)
    return ran


async def test_generated_queries_over_every_type_answer_the_same(
    svc: Services,
    settings: Settings,
    gql: GraphQL,
    alice: Tenant,
    op: Tenant,
    plans_run: list[int],
) -> None:
    sids = await _seed(svc, gql, alice, op)
    frozen = svc.clock()
    svc.clock = lambda: frozen  # (activation windows count from now: both runs, one instant)
    with_plans, plain = build_schema(settings), build_schema(settings, fast_path=False)
    generator = Generator(with_plans._schema, sids, random.Random(17))
    covered: set[str] = set()
    errors = executed = 0
    for n in range(400):
        query = generator.document()
        caller = op.caller if n % 4 == 0 else alice.caller
        before = plans_run[0]
        got = await _run(with_plans, svc, caller, query)
        want = await _run(plain, svc, caller, query)
        assert got == want, query
        answer = json.loads(got)
        if plans_run[0] == before:
            # Not executed: only a document that failed validation (a generated one may
            # merge fields that conflict, or pass the depth limit) skips execution.
            assert answer["data"] is None, query
            assert all("path" not in e for e in answer["errors"]), query
            continue
        assert plans_run[0] == before + 1
        executed += 1
        errors += bool(answer["errors"])
        covered.update(t for t in with_plans._schema.type_map if f"{t} " in query)
        if executed == 150:
            break
    assert executed == 150
    # Every object type reachable from Query came up, and some queries met field errors.
    reachable = {"PortOrder", "Loa", "PortRequest", "IncomingPhoneNumber", "PortabilityResult"}
    assert reachable <= covered
    assert errors > 5


async def test_a_document_with_directives_or_a_mutation_runs_on_graphql_core(
    svc: Services, settings: Settings, alice: Tenant, plans_run: list[int]
) -> None:
    schema = build_schema(settings)
    for query in (
        "{ portOrders { edges { node { sid @skip(if: true) } } } }",
        'mutation { cancelPortOrder(sid: "KW0") { userErrors { code } } }',
    ):
        result = json.loads(await _run(schema, svc, alice.caller, query))
        assert result["data"] is not None
    assert plans_run[0] == 0
    await _run(schema, svc, alice.caller, "{ portOrders { edges { node { sid } } } }")
    assert plans_run[0] == 1


async def test_errors_and_nulls_answer_the_same(
    svc: Services,
    settings: Settings,
    gql: GraphQL,
    alice: Tenant,
    op: Tenant,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A null in a non-null leaf and object, a value its type refuses, a resolver that raises:
    the same data (nulls propagated to the same place) and the same errors."""
    from app.graphql import nodes

    await _seed(svc, gql, alice, op)
    with_plans, plain = build_schema(settings), build_schema(settings, fast_path=False)
    original = nodes.wrap_order

    def broken(row: Any) -> Any:
        wrapped: Any = original(row)
        if wrapped.company_name is None:
            wrapped.number = None  # String! -> null
        else:
            wrapped.status = "NOT_A_STATUS"  # an enum value it refuses
            wrapped.cc_emails = ["a@example.com", None]  # [String!]! with a null item
        return wrapped

    monkeypatch.setattr("app.graphql.query.wrap_order", broken)
    monkeypatch.setattr("app.graphql.nodes.wrap_order", broken)

    async def no_loas(self: Any, sids: list[str]) -> Any:
        raise RuntimeError("boom")

    for query in (
        "{ portOrders(first: 5) { edges { node { sid number } } } }",
        "{ portOrders(first: 5) { edges { node { sid status companyName } } } }",
        "{ portOrders(first: 5) { edges { node { sid ccEmails } } } }",
        "{ a: portOrders(first: 5) { edges { cursor node { number } } } b: loas { totalCount } }",
        "{ portOrders(first: 500) { edges { node { sid } } } }",
        '{ portOrders(after: "nope") { edges { node { sid } } } loas { edges { node { sid } } } }',
    ):
        got = await _run(with_plans, svc, alice.caller, query)
        assert got == await _run(plain, svc, alice.caller, query), query
        assert json.loads(got)["errors"], query
    # A failing read of LOAs: the loader's batch, and the page's own read of its LOAs.
    monkeypatch.setattr("app.graphql.dataloaders.Loaders._loas", no_loas)
    monkeypatch.setattr("app.store.queries.loas_by_sids", no_loas)
    monkeypatch.setattr("app.store.queries.list_port_orders_with_loas", no_loas)
    for query in (
        "{ loas { edges { node { sid portOrders { edges { node { sid loa { sid } } } } } } } }",
        "{ loas { edges { node { portOrders { edges { node { allowedActions } } } } } } }",
        "{ portOrders(first: 5) { edges { node { sid loa { sid } } } } }",  # the page's read
    ):
        got = await _run(with_plans, svc, alice.caller, query)
        assert got == await _run(plain, svc, alice.caller, query), query
        assert json.loads(got)["errors"], query


@strawberry.type
class _Item:
    name: str

    @strawberry.field
    def context_only(self, info: strawberry.Info) -> str:
        return f"{self.name}:{info.context['k']}"

    @strawberry.field
    def everything(self, info: strawberry.Info) -> str:
        path = "/".join(str(p) for p in info.path.as_list())
        picked = ",".join(s.name for s in info.selected_fields if isinstance(s, SelectedField))
        return f"{info.field_name}|{path}|{picked}|{info.context['k']}|{info.root_value}"


@strawberry.type
class _Query:
    @strawberry.field
    def items(self) -> list[_Item]:
        return [_Item(name="a"), _Item(name="b")]


async def test_a_resolver_reads_its_info_as_graphql_core_gives_it(plans_run: list[int]) -> None:
    """A resolver that takes `info` gets it without the plan building a resolve-info unless
    asked (app/graphql/compiled.py, `_InfoOnce`): its context, and on demand its field name,
    path and selection, are what graphql-core gives."""
    query = "{ items { name contextOnly everything again: everything } }"
    with_plans = strawberry.Schema(_Query, execution_context_class=CompiledPlans)
    plain = strawberry.Schema(_Query)
    answers = []
    for schema in (with_plans, plain):
        result = await schema.execute(query, context_value={"k": "v"}, root_value="root")
        assert result.errors is None
        answers.append(result.data)
    assert plans_run == [1]
    assert answers[0] == answers[1]
    assert answers[0] == {
        "items": [
            {
                "name": n,
                "contextOnly": f"{n}:v",
                "everything": f"everything|items/{i}/everything|everything|v|root",
                "again": f"everything|items/{i}/again|everything|v|root",
            }
            for i, n in enumerate("ab")
        ]
    }
