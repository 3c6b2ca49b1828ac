"""What a status change of an order implies: decided once, here, for every path.

Creation, the customer's update and cancel, signing, the carrier's answers and the operators'
moves all ask `decide` and carry out the `Change` it returns (app/services/_orders.py
`apply_change`), so no path can forget a consequence:

- the move itself, checked against the transition table (21822 when refused);
- the number released (terminal statuses) or entered into the inventory (COMPLETED);
- the event and its callback types (`status_update`, plus `activation_date_update` when the
  FOC date changed with it): the event decides the deliveries (app/porting/notifications.py);
- the carrier steps: pending submit/answer steps of the old status are retired, and the new
  status writes its own (submit a SUBMITTED order now, ask for the answer of an ACCEPTED one at
  its FOC date, tell the carrier about a cancel of an order it has);
- the LOA: an LOA whose orders are all canceled is canceled with the last one.

Pure: no I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from app.porting.statuses import TERMINAL, Actor, PortOrderStatus, check_move

S = PortOrderStatus

STATUS_UPDATE = "status_update"
ACTIVATION_DATE_UPDATE = "activation_date_update"
STATUS_CHANGED = "port_order.status_changed"

# Statuses in which the carrier has the order, so a cancel must reach it.
WITH_CARRIER = frozenset({S.SUBMITTED, S.ACCEPTED})


class Step(enum.StrEnum):
    """A carrier step (a row of the `jobs` queue)."""

    SUBMIT = "carrier.submit"  # hand a signed order to the carrier
    ANSWER = "carrier.answer"  # ask for the carrier's answer
    CANCEL = "carrier.cancel"  # tell the carrier the customer canceled


class When(enum.Enum):
    NOW = "now"
    FOC = "foc"  # at the order's FOC date (now when it has none)


@dataclass(frozen=True)
class StepPlan:
    step: Step
    when: When
    # The order status the step was written for: a step that finds its order elsewhere is moot.
    for_status: PortOrderStatus | None


@dataclass(frozen=True)
class Change:
    previous: PortOrderStatus
    status: PortOrderStatus
    callback_types: tuple[str, ...]
    release_number: bool  # the order no longer holds its number
    enter_inventory: bool  # the number enters the account's inventory
    retire: tuple[Step, ...]  # pending steps of these kinds are moot now
    steps: tuple[StepPlan, ...]  # steps to write
    close_loa_if_done: bool  # cancel the LOA when every order it covers is canceled
    event_type: str = STATUS_CHANGED


def decide(
    previous: PortOrderStatus,
    status: PortOrderStatus,
    actor: Actor,
    *,
    foc_changed: bool = False,
    was_submitted: bool = False,
) -> Change:
    """The consequences of moving an order from `previous` to `status` for `actor`; 21822
    when the move is not in the table. `was_submitted`: the order went to the carrier once
    (a REVIEW order that was submitted must be canceled at the carrier too)."""
    check_move(previous, status, actor)
    steps: list[StepPlan] = []
    if status is S.SUBMITTED:
        steps.append(StepPlan(Step.SUBMIT, When.NOW, status))
    elif status is S.ACCEPTED:
        steps.append(StepPlan(Step.ANSWER, When.FOC, status))
    elif status is S.CANCELED and (
        previous in WITH_CARRIER or (previous is S.REVIEW and was_submitted)
    ):
        steps.append(StepPlan(Step.CANCEL, When.NOW, None))
    types = (STATUS_UPDATE, ACTIVATION_DATE_UPDATE) if foc_changed else (STATUS_UPDATE,)
    return Change(
        previous=previous,
        status=status,
        callback_types=types,
        release_number=status in TERMINAL,
        enter_inventory=status is S.COMPLETED,
        # Only an order the carrier has can have pending submit/answer steps.
        retire=(Step.SUBMIT, Step.ANSWER) if previous in WITH_CARRIER else (),
        steps=tuple(steps),
        close_loa_if_done=status is S.CANCELED,
    )


def foc_moved(status: PortOrderStatus) -> tuple[tuple[Step, ...], tuple[StepPlan, ...]]:
    """The FOC date of an order in `status` moved: (steps to retire, steps to write). An
    ACCEPTED order's completion moves with its date."""
    if status is S.ACCEPTED:
        return (Step.ANSWER,), (StepPlan(Step.ANSWER, When.FOC, status),)
    return (), ()
