"""GraphQL: what a credential allows (app/services/grants.py), checked once the document is
valid and the caller known, before anything runs.

- Read-only credentials (an API key made `--read-only`, a `read` access token): a mutation is
  refused with 20403.
- An access token restricted to one port order or Port Request: the root fields that name a
  resource by SID (`portOrder`, `loa`, `portRequest`, `node`, the mutations on one order, LOA or
  request, the subscriptions to one of them; `addComment` and `commentAdded` by their
  `subjectSid`, as REST's `.../{sid}/Comments`) must name it or what belongs to it (else
  20404, as for another account's SID); `portOrders` only with `filter: {portRequestSid}` of
  the restricted request; every other root field is 20403 (`commentAdded` without a
  `subjectSid` too), and so are the nested fields that lead to other orders
  (`Loa.portOrders`; `PortOrder.portRequest` for a token of one order).
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    visit,
)
from graphql.utilities import value_from_ast_untyped

from app.porting import sids
from app.porting.errors import CATALOG, FORBIDDEN, NOT_FOUND, PortingError
from app.services import grants
from app.services.context import Caller, Services

ROOT_SID_ARGUMENTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("Query", "portOrder"): ("sid",),
    ("Query", "loa"): ("sid",),
    ("Query", "portRequest"): ("sid",),
    ("Query", "node"): ("id",),
    ("Mutation", "updatePortOrder"): ("sid",),
    ("Mutation", "cancelPortOrder"): ("sid",),
    ("Mutation", "signLoa"): ("sid",),
    ("Mutation", "cancelPortRequest"): ("sid",),
    ("Mutation", "addComment"): ("subjectSid",),
    ("Subscription", "portOrderStatusChanged"): ("sid", "portRequestSid"),
    ("Subscription", "loaStatusChanged"): ("sid",),
    ("Subscription", "commentAdded"): ("subjectSid",),
}
NESTED_FORBIDDEN = {("Loa", "portOrders")}
NESTED_FORBIDDEN_FOR_ORDER = {("PortOrder", "portRequest")}
ROOTS = ("Query", "Mutation", "Subscription")


def error(code: int, message: str | None = None) -> GraphQLError:
    return GraphQLError(message or CATALOG[code][0], extensions={"code": code})


class _Collect(Visitor):
    def __init__(self, info: TypeInfo, caller: Caller, variables: dict[str, Any]) -> None:
        super().__init__()
        self.info = info
        self.caller = caller
        self.variables = variables
        self.sids: set[str] = set()
        self.forbidden = False

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        parent = self.info.get_parent_type()
        name = node.name.value
        if parent is None or name.startswith("__"):
            return
        key = (parent.name, name)
        if parent.name in ROOTS:
            self._root(key, node)
        elif key in NESTED_FORBIDDEN or (
            key in NESTED_FORBIDDEN_FOR_ORDER
            and sids.is_sid(self.caller.restriction, sids.PORT_ORDER)
        ):
            self.forbidden = True

    def _arguments(self, node: FieldNode) -> dict[str, Any]:
        return {
            a.name.value: value_from_ast_untyped(a.value, self.variables)
            for a in node.arguments or ()
        }

    def _root(self, key: tuple[str, str], node: FieldNode) -> None:
        args = self._arguments(node)
        if key == ("Query", "portOrders"):
            f = args.get("filter")
            r = self.caller.restriction
            if not (isinstance(f, dict) and f.get("portRequestSid") == r and r is not None):
                self.forbidden = True
            return
        names = ROOT_SID_ARGUMENTS.get(key)
        if names is None:
            self.forbidden = True
            return
        given = [args[n] for n in names if isinstance(args.get(n), str)]
        if not given:
            self.forbidden = True  # every resource of the account: not for a restricted token
        self.sids.update(given)


async def refusal(
    svc: Services,
    caller: Caller,
    schema: GraphQLSchema,
    document: DocumentNode,
    is_mutation: bool,
    variables: dict[str, Any] | None,
) -> GraphQLError | None:
    if is_mutation and caller.read_only:
        return error(FORBIDDEN, "This credential is read-only")
    if caller.restriction is None:
        return None
    info = TypeInfo(schema)
    collect = _Collect(info, caller, variables or {})
    visit(document, TypeInfoVisitor(info, collect))
    if collect.forbidden:
        return error(FORBIDDEN, "This access token is restricted to one resource")
    for sid in sorted(collect.sids):
        try:
            await grants.check_sid(svc, caller, sid)
        except PortingError:
            return error(NOT_FOUND)
    return None
