"""Keeping SLA timers and alerts in step with each case: a change hook on every recorded event.

``track_sla`` runs inside the transaction of every recorded event (``services/extensions.py``),
so timer state commits or rolls back with the change that caused it and always matches the case
version it was computed from. It

- starts the case's timers when the case is submitted (targets from the case type's policy for
  the case's priority; no policy, no timers), re-targets them when the priority changes, and
  moves each to running, paused or stopped as the case's status says (``domain.sla.phase_of``);
- plans stage-dwell, unanswered-comment and auto-close alerts (``domain.sla.plan_alerts``).

Nothing fires here: the evaluator (``services/sla_evaluation.py``) does, when things are due.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any, Final

from casegraph.database import statements
from casegraph.domain.business_hours import Calendar
from casegraph.domain.enums import CaseAction, CaseStatus
from casegraph.domain.sla import (
    AlertKind,
    AlertPlan,
    Change,
    Phase,
    Timer,
    TimerKind,
    phase_of,
    plan_alerts,
)
from casegraph.services.extensions import AfterSequence
from casegraph.services.records import CaseRecord, EventDraft, EventRecord
from casegraph.services.sla_config import case_type_sla, policy_targets
from casegraph.services.timer_rows import timer_of
from models import CaseAlert, CaseTimer

# Actions whose event carries a public comment of the actor (action_inputs.py writes them).
COMMENTING_ACTIONS: Final = frozenset({CaseAction.REQUEST_INFO, CaseAction.REJECT_SOLUTION})


def timer_columns(timer: Timer, calendar: Calendar) -> dict[str, Any]:
    """The columns a change hook owns; fired markers belong to the evaluator alone."""
    return {
        "target_minutes": int(timer.target.total_seconds()) // 60,
        "elapsed_us": timer.elapsed // timedelta(microseconds=1),
        "running_since": timer.running_since,
        "phase": timer.phase,
        "next_due_at": timer.next_due_at(calendar),
    }


def phase_for(kind: TimerKind, case: CaseRecord) -> Phase:
    return phase_of(kind, status=case.status, first_opened=case.first_opened_at is not None, deleted=case.deleted)


async def track_sla(before: CaseRecord, after: CaseRecord, event: EventDraft) -> AfterSequence | None:
    """CHANGE_HOOK: cheap for events that change nothing SLAs depend on (no query at all).

    Timers move in the first phase; alerts, whose keys name the event's sequence, are planned in
    the second (services/extensions.py).
    """
    if after.status is CaseStatus.DRAFT or after.submitted_at is None:
        return None
    submitted = event.action in (CaseAction.CREATE, CaseAction.SUBMIT) or before.status is CaseStatus.DRAFT
    state_moved = before.state != after.state or before.deleted != after.deleted
    timers_touched = (
        submitted or state_moved or before.priority != after.priority or before.first_opened_at != after.first_opened_at
    )
    change = _alert_change(before, after, event, submitted)
    if not timers_touched and change is None:
        return None
    config = await case_type_sla(after.case_type_id, after.workflow)
    if timers_touched:
        await _update_timers(before, after, event.occurred_at, config.calendar, submitted=submitted)
    if change is None:
        return None
    planned = change

    async def plan(recorded: EventRecord) -> None:
        await apply_alert_plan(
            after.id, plan_alerts(planned(sequence=recorded.sequence), config.rules), recorded.occurred_at
        )

    return plan


async def _update_timers(
    before: CaseRecord, after: CaseRecord, now: datetime, calendar: Calendar, *, submitted: bool
) -> None:
    rows = await statements.fetch(CaseTimer, {"case_id": after.id})
    if not rows:
        if submitted:
            await _start_timers(after, now, calendar)
        return
    targets = await policy_targets(after.case_type_id, after.priority) if before.priority != after.priority else None
    for row in rows:
        timer = timer_of(row)
        moved = timer.moved_to(phase_for(row.kind, after), now, calendar)
        if targets and row.kind in targets:
            # A new priority brings its own target; what was counted so far still counts.
            moved = moved.retargeted(targets[row.kind])
        if moved == timer:
            continue
        columns = timer_columns(moved, calendar)
        if moved.phase is not timer.phase:
            columns["stopped_at"] = now if moved.phase is Phase.STOPPED else None
        await statements.update(CaseTimer, {"id": row.id}, columns)


async def _start_timers(case: CaseRecord, now: datetime, calendar: Calendar) -> None:
    targets = await policy_targets(case.case_type_id, case.priority)
    for kind, target in (targets or {}).items():
        phase = phase_for(kind, case)
        timer = Timer.start(kind, target, phase=phase, now=now)
        await CaseTimer.create(
            case_id=case.id,
            kind=kind,
            started_at=case.submitted_at or now,
            stopped_at=now if phase is Phase.STOPPED else None,
            **timer_columns(timer, calendar),
        )


def _alert_change(before: CaseRecord, after: CaseRecord, event: EventDraft, submitted: bool) -> partial[Change] | None:
    """The facts alerts are planned from, all but the event's sequence (``sequence=``); None
    when this event cannot affect any alert."""
    summary = event.summary or {}
    commented = bool(summary.get("comment")) or event.action in COMMENTING_ACTIONS
    by_requester = event.actor_id is not None and event.actor_id == after.requester_id
    requester_commented = commented and by_requester
    # A public reply by anyone else answers the requester; so does a proposed solution.
    answered = (commented and event.actor_id is not None and not by_requester) or (
        event.action is CaseAction.PROPOSE_SOLUTION
    )
    relevant = (
        submitted
        or before.state != after.state
        or before.deleted != after.deleted
        or before.auto_close_excluded != after.auto_close_excluded
        or requester_commented
        or answered
    )
    if not relevant:
        return None
    return partial(
        Change,
        before=before.state,
        after=after.state,
        at=event.occurred_at,
        submitted=submitted,
        requester_commented=requester_commented,
        answered=answered,
        deleted=after.deleted,
        auto_close_excluded_before=before.auto_close_excluded,
        auto_close_excluded_after=after.auto_close_excluded,
        resolved_at=after.resolved_at,
    )


async def apply_alert_plan(case_id: str, plan: AlertPlan, now: datetime) -> None:
    if plan.empty:
        return
    if plan.cancel:
        await statements.delete(CaseAlert, {"case_id": case_id}, any_of=("kind", sorted(k.value for k in plan.cancel)))
    for alert in plan.schedule:
        if alert.kind is AlertKind.UNANSWERED_COMMENT and await CaseAlert.exists(
            case_id=case_id, kind=AlertKind.UNANSWERED_COMMENT.value
        ):
            continue  # the oldest unanswered comment keeps the clock
        # Keys carry the sequence of the event that planned them, so they are new by construction.
        await statements.insert_generated(
            CaseAlert,
            {
                "case_id": case_id,
                "kind": alert.kind.value,
                "key": alert.key,
                "due_at": alert.due_at,
                "fired_at": None,
                "outcome": None,
                "created_at": now,
            },
        )
