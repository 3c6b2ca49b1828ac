"""Status-callback deliveries in GraphQL: `PortOrder.callbackDeliveries` (through a dataloader).

Each delivery is one callback an event implied, with every attempt made to deliver it (time,
HTTP status or error, latency). Its `sid` is the `webhook-id` / `I-Twilio-Idempotency-Token`
the receiver saw. Lease internals stay out of the schema.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.services.deliveries import DeliveryRecord
from app.store.tables import DeliveryAttempt
from app.store.work import PENDING


@strawberry.type(description="One try at delivering a status callback.")
class CallbackAttempt:
    row: strawberry.Private[DeliveryAttempt]

    @strawberry.field
    def date(self) -> datetime:
        return self.row.date

    @strawberry.field(description="The receiver's HTTP status, when it answered.")
    def status_code(self) -> int | None:
        return self.row.status_code

    @strawberry.field(description="Why the try failed without an HTTP answer (or was refused).")
    def error(self) -> str | None:
        return self.row.error

    @strawberry.field
    def latency_ms(self) -> float | None:
        return self.row.latency_ms


@strawberry.type(description="A status callback and the tries made to deliver it.")
class CallbackDelivery:
    record: strawberry.Private[DeliveryRecord]

    @strawberry.field(description="Stable across retries: the webhook-id header's value.")
    def sid(self) -> strawberry.ID:
        return strawberry.ID(self.record.delivery.sid)

    @strawberry.field(description="The URL the callback goes to.")
    def url(self) -> str:
        return self.record.delivery.target

    @strawberry.field(description="pending, delivered or failed (given up).")
    def state(self) -> str:
        return self.record.delivery.state

    @strawberry.field(description="The cursor of the event that implied this callback.")
    def event_cursor(self) -> str:
        return str(self.record.delivery.event_id)

    @strawberry.field(description="When the next try is due, while pending.")
    def next_attempt_at(self) -> datetime | None:
        d = self.record.delivery
        return d.next_attempt_at if d.state == PENDING else None

    @strawberry.field
    def date_created(self) -> datetime:
        return self.record.delivery.date_created

    @strawberry.field
    def date_updated(self) -> datetime:
        return self.record.delivery.date_updated

    @strawberry.field(description="Every try, oldest first.")
    def attempts(self) -> list[CallbackAttempt]:
        return [CallbackAttempt(row=a) for a in self.record.attempts]
