"""Input types: list filters (CONTRACT.md §8) and the create/update parameters (CONTRACT.md §2).

Mutation inputs are all optional at the GraphQL level on purpose: the services validate every
field and report all failures at once as `userErrors` with the contract's codes (21801
number missing, ...). An omitted field is left as it is; on update, an explicit null clears it.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

import strawberry

from app.graphql.enums import LoaStatus, PortOrderStatus, PortType
from app.store.queries import LoaFilter, PortOrderFilter


def _raw(obj: object) -> dict[str, Any]:
    """Given fields as the services' raw snake_case mapping (UNSET ones left out)."""
    raw: dict[str, Any] = {}
    for f in fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        if value is strawberry.UNSET:
            continue
        raw[f.name] = value.value if isinstance(value, PortType) else value
    return raw


def _given(value: Any) -> Any:
    return None if value is strawberry.UNSET else value


@strawberry.input(name="PortOrderFilter", description="Every field given must match.")
class PortOrderFilterInput:
    sid: strawberry.ID | None = strawberry.UNSET
    account_sid: strawberry.ID | None = strawberry.UNSET
    company_name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    loa_sid: strawberry.ID | None = strawberry.UNSET
    provider_sid: str | None = strawberry.UNSET
    zendesk_id: str | None = strawberry.UNSET
    activation_date_min: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="Activation date on or after."
    )
    activation_date_max: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="Activation date on or before."
    )
    incoming_phone_number_sid: strawberry.ID | None = strawberry.UNSET
    number: str | None = strawberry.UNSET
    status: PortOrderStatus | None = strawberry.UNSET
    friendly_name: str | None = strawberry.UNSET

    def to_filter(self) -> PortOrderFilter:
        status = _given(self.status)
        return PortOrderFilter(
            sid=_given(self.sid),
            account_sid=_given(self.account_sid),
            company_name=_given(self.company_name),
            email=_given(self.email),
            loa_sid=_given(self.loa_sid),
            provider_sid=_given(self.provider_sid),
            zendesk_id=_given(self.zendesk_id),
            activation_date_min=_given(self.activation_date_min),
            activation_date_max=_given(self.activation_date_max),
            incoming_phone_number_sid=_given(self.incoming_phone_number_sid),
            number=_given(self.number),
            status=None if status is None else status.value,
            friendly_name=_given(self.friendly_name),
        )


@strawberry.input(name="LoaFilter", description="Every field given must match.")
class LoaFilterInput:
    sid: strawberry.ID | None = strawberry.UNSET
    status: LoaStatus | None = strawberry.UNSET
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET

    def to_filter(self) -> LoaFilter:
        status = _given(self.status)
        return LoaFilter(
            sid=_given(self.sid),
            status=None if status is None else status.value,
            first_name=_given(self.first_name),
            last_name=_given(self.last_name),
            email=_given(self.email),
        )


REQUIRED = "Required."
WRITE_ONLY = "Write-only: stored encrypted, never returned."
MOBILE = "Required for MOBILE orders. " + WRITE_ONLY


def _f(description: str) -> Any:
    return strawberry.field(default=strawberry.UNSET, description=description)


@strawberry.input(description="The parameters of a port order; update changes the given ones.")
class UpdatePortOrderInput:
    number: str | None = _f("Required. The number to port, E.164 (e.g. +14155550123).")
    friendly_name: str | None = _f("At most 64 characters; default: the number, formatted.")
    port_type: PortType | None = _f("Default: detected from the number where the plan tells.")
    iso_country: str | None = _f("Required. Service address country, ISO 3166-1 alpha-2.")
    region: str | None = _f("Required. Service address region (US: the state code).")
    city: str | None = _f(REQUIRED)
    postal_code: str | None = _f(REQUIRED)
    street: str | None = _f(REQUIRED)
    company_name: str | None = _f("Shown as Business Name on the LOA.")
    first_name: str | None = _f("Required. The authorised signer.")
    last_name: str | None = _f(REQUIRED)
    email: str | None = _f("Required. The signer's address.")
    status_updates_email: str | None = _f("Status mail goes here instead of email.")
    ssn_last_four: str | None = _f(MOBILE)
    account_number: str | None = _f("Losing-carrier account number. " + MOBILE)
    pin_number: str | None = _f("Losing-carrier PIN. " + MOBILE)
    billing_phone_number: str | None = _f("E.164.")
    activation_date: str | None = _f(
        "Requested FOC: an ISO 8601 date-time with a zone, e.g. 2026-12-01T15:00:00Z."
    )
    status_callback: str | None = _f("An http(s) URL; status changes are POSTed to it.")
    cc_emails: list[str] | None = _f("Copied on SUBMITTED, FAILED and COMPLETED.")

    def to_raw(self) -> dict[str, Any]:
        return _raw(self)


@strawberry.input(description="The parameters of a new port order.")
class CreatePortOrderInput(UpdatePortOrderInput):
    account_sid: strawberry.ID | None = _f(
        "The owning account: default the caller; a subaccount of it; required for operators."
    )


CREATE_FIELDS = frozenset(f.name for f in fields(CreatePortOrderInput))
UPDATE_FIELDS = frozenset(f.name for f in fields(UpdatePortOrderInput))
