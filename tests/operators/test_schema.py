"""The operator and inventory parts of the contract, as the SDL writes them."""

from __future__ import annotations

from app.graphql.schema import sdl


def test_operator_mutations_and_inventory_are_in_the_schema() -> None:
    text = sdl()
    for line in (
        "setPortOrderStatus(sid: ID!, status: PortOrderStatus!, reasonCode: Int, reason: String,"
        " errorCode: Int, exceptionType: PortOrderExceptionType, fieldsToFix: [String!]):"
        " PortOrderPayload!",
        "setActivationDate(sid: ID!, activationDate: DateTime!): PortOrderPayload!",
        "setPortOrderReferences(sid: ID!, providerSid: String, zendeskId: String):"
        " PortOrderPayload!",
        "): IncomingPhoneNumberConnection!",
        "type IncomingPhoneNumber implements Node",
        "incomingPhoneNumber: IncomingPhoneNumber\n",
        "actorSid: ID\n",
    ):
        assert line in text, line
    number = text.split("type IncomingPhoneNumber implements Node {")[1].split("\n}\n")[0] + "\n"
    for field in (
        "sid: ID!",
        "accountSid: ID!",
        "number: String!",
        "friendlyName: String!",
        "portOrderSid: ID",
        "dateCreated: DateTime!",
        "portOrder: PortOrder",
    ):
        assert f"  {field}\n" in number, field
