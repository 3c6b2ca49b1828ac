"""What an attempt's outcome means for its delivery: done, try again later, or give up.

Only 2xx succeeds. 410 Gone stops at once, as does a target the SSRF guard refuses or a
mail server's permanent refusal. Anything else (another status, a timeout, a refused
connection) is retried after the next delay of PORTICO_CALLBACK_RETRY_SCHEDULE, jittered by
+-20% so retries of many deliveries spread out; after the last delay the delivery is given up.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.delivery.http_client import HttpResult
from app.delivery.plan import DELIVERED, FAILED, PENDING

JITTER = 0.2
# A generator of our own: jitter never touches (or depends on) the global `random` state.
_random = random.SystemRandom()


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str | None = None
    latency_ms: float | None = None
    final: bool = False  # no retry, whatever the schedule says


@dataclass(frozen=True)
class Step:
    state: str  # pending | delivered | failed
    next_attempt_at: datetime | None = None
    note: str | None = None  # added to the attempt's error when the delivery is given up


def from_http(result: HttpResult) -> Outcome:
    code = result.status_code
    if result.error is None and code is not None and 200 <= code < 300:
        return Outcome(True, code, None, result.latency_ms)
    if code == 410:
        return Outcome(
            False, code, "410 Gone: the receiver asked us to stop", result.latency_ms, True
        )
    error = result.error or f"HTTP {code}: only 2xx counts as delivered"
    return Outcome(False, code, error, result.latency_ms, result.permanent)


def next_step(
    outcome: Outcome,
    attempts_done: int,
    schedule: Sequence[float],
    now: datetime,
    rand: Callable[[], float] = _random.random,
) -> Step:
    """`attempts_done` counts the attempt that just ended."""
    if outcome.ok:
        return Step(DELIVERED)
    if outcome.final:
        return Step(FAILED, note="given up")
    if attempts_done > len(schedule):
        return Step(FAILED, note=f"given up after {attempts_done} attempts")
    delay = schedule[attempts_done - 1] * (1 - JITTER + 2 * JITTER * rand())
    return Step(PENDING, now + timedelta(seconds=delay))
