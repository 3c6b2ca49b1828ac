"""GraphQL enums over the porting rules' own enums (their member names are the GraphQL values)."""

from __future__ import annotations

import strawberry

from app.porting.statuses import Action, LoaStatus, PortOrderStatus, PortRequestStatus, PortType

strawberry.enum(PortOrderStatus, description="Where a port order stands.")
strawberry.enum(
    PortRequestStatus, description="Where a Port Request stands: derived from its orders."
)
strawberry.enum(LoaStatus, description="Where a Letter of Authorization stands.")
strawberry.enum(PortType, description="The kind of number being ported.")
strawberry.enum(
    Action,
    name="PortOrderAction",
    description="What the caller may do with a port order right now.",
)

__all__ = ["Action", "LoaStatus", "PortOrderStatus", "PortRequestStatus", "PortType"]
