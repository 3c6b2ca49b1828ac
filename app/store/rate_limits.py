"""The shared rate-limit row of one account and clock hour (table rate_limit_windows).

`settle` writes points a replica spent (and, if they fit, the points of the request at hand)
in one statement, an upsert that checks the limit against the row as it is in the database,
so two replicas never both spend the last points. It answers what the row holds afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from app.store.engine import Database

_SETTLE = text(
    """
    INSERT INTO rate_limit_windows (account_sid, window_start, points_limit, used, last_ok)
    VALUES (:account, :window, :limit, :used0, :ok0)
    ON CONFLICT (account_sid, window_start) DO UPDATE SET
      last_ok = CASE WHEN rate_limit_windows.used + :total <= rate_limit_windows.points_limit
                THEN 1 ELSE 0 END,
      used = rate_limit_windows.used + :spent
             + CASE WHEN rate_limit_windows.used + :total <= rate_limit_windows.points_limit
               THEN :cost ELSE 0 END
    RETURNING used, last_ok, points_limit
    """
)
_FORGET = text("DELETE FROM rate_limit_windows WHERE window_start < :before")


@dataclass(frozen=True)
class Settled:
    used: int  # points the window holds as used, every replica's
    ok: bool  # whether `cost` fitted (and was counted)
    limit: int


async def settle(
    db: Database, account: str, window: int, limit: int, spent: int, cost: int
) -> Settled:
    """Add `spent` points (already spent by this replica) and, when they fit under the limit,
    `cost` more, to the account's row for `window`."""
    total = spent + cost
    fits = total <= limit
    params = {
        "account": account,
        "window": window,
        "limit": limit,
        "used0": total if fits else spent,
        "ok0": 1 if fits else 0,
        "total": total,
        "spent": spent,
        "cost": cost,
    }
    async with db.write() as tx:
        row = (await tx.execute(_SETTLE, params)).one()
    return Settled(used=int(row[0]), ok=bool(row[1]), limit=int(row[2]))


async def forget_before(db: Database, window: int) -> None:
    """Drop the rows of windows that started before `window` (they can count for nothing)."""
    async with db.write() as tx:
        await tx.execute(_FORGET, {"before": window})
