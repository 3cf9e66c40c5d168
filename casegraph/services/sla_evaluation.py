"""Firing what is due: SLA warnings and breaches, stage-dwell and unanswered-comment alerts,
auto-close reminders and auto-closes. ``evaluate_due`` is called by the background scheduler
(``casegraph/sla_scheduler.py``) and by tests, each with the time to evaluate at.

What fires, and what it records:

- a timer reaching 50 % / 75 % of its target: an ``SLA_WARNING`` event, 100 %: ``SLA_BREACHED``
  (actor none, action ``SLA_TIMER``, state unchanged, version + 1; a breach also flags the case
  escalated), with notifications (``domain.sla.recipients_for``) in the same transaction;
- an auto-close: a ``CASE_TRANSITIONED`` event (action ``AUTO_CLOSE``, RESOLVED → CLOSED, as if
  the requester accepted but without opening the survey);
- stage dwell, unanswered comment and the auto-close reminder: notifications only, no event —
  they tell one person something, they change nothing about the case, and an event would bump
  the version under an agent working on it.

At most once, by the database: each threshold and alert is marked fired with a conditional
UPDATE in the transaction that records it, and the event itself needs the case still at the
version it was judged at (``commit_change``). Each case is evaluated in one transaction holding
its row lock (``FOR NO KEY UPDATE SKIP LOCKED`` on PostgreSQL: a case another server process is
evaluating, or an agent is changing, is simply left for the next pass). Missed deadlines (a
server that was down) are caught up in order, each once; events carry ``dueAt``, when the
threshold was actually reached. Events are published only after their transaction committed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Final

from tortoise.exceptions import IntegrityError, OperationalError, TransactionManagementError
from tortoise.transactions import in_transaction

from casegraph.domain.enums import CaseAction, CaseEventType, CaseStatus
from casegraph.domain.errors import DomainError
from casegraph.domain.lifecycle import CLOSED
from casegraph.domain.sla import (
    BREACH_PERCENT,
    AlertKind,
    Due,
    Timer,
    event_type_for,
    recipients_for,
)
from casegraph.services.case_changes import StaleCase, commit_change
from casegraph.services.extensions import Transition, check_transition
from casegraph.services.notifications import NotificationKind, notify
from casegraph.services.publisher import Publisher
from casegraph.services.records import CASE_COLUMNS, CaseRecord, EventRecord
from casegraph.services.sla_config import CaseTypeSla, case_type_sla
from casegraph.services.timer_rows import FIRED_COLUMNS, timer_of
from models import Case, CaseAlert, CaseTimer, GroupMembership

log = logging.getLogger("casegraph.sla")

BATCH: Final = 200
MAX_ATTEMPTS: Final = 3
FIRED, SKIPPED = "FIRED", "SKIPPED"
ALERT_NOTIFICATIONS: Final = {
    AlertKind.STAGE_DWELL: NotificationKind.STAGE_DWELL,
    AlertKind.UNANSWERED_COMMENT: NotificationKind.UNANSWERED_COMMENT,
    AlertKind.AUTO_CLOSE_REMINDER: NotificationKind.AUTO_CLOSE_REMINDER,
}


@dataclass
class Evaluation:
    """What one pass fired: the events it recorded and how many notification-only alerts."""

    events: list[EventRecord] = field(default_factory=list)
    alerts: int = 0
    skipped: int = 0


class _Busy(Exception):
    """Another writer holds or changed the case; evaluate it again."""


async def evaluate_due(*, now: datetime, publisher: Publisher, batch: int = BATCH) -> Evaluation:
    """Fire everything due by ``now``; safe to run repeatedly and from several processes at once."""
    total = Evaluation()
    seen: set[str] = set()
    while True:
        # A case is tried once per pass: one that stays due (locked elsewhere) waits for the next.
        case_ids = await _due_case_ids(now, batch, exclude=seen)
        if not case_ids:
            return total
        for case_id in case_ids:
            seen.add(case_id)
            try:
                outcome = await _evaluate_case(case_id, now)
            except Exception:  # one case's failure must not hold up the others
                log.exception("SLA evaluation of case %s failed", case_id)
                continue
            total.alerts += outcome.alerts
            total.skipped += outcome.skipped
            if outcome.events:
                total.events.extend(outcome.events)
                await publisher.published(outcome.events)


async def _due_case_ids(now: datetime, limit: int, *, exclude: set[str]) -> list[str]:
    """Up to ``limit`` cases with something due, most overdue first (timers, then alerts)."""
    timers = CaseTimer.filter(next_due_at__lte=now)
    alerts = CaseAlert.filter(fired_at__isnull=True, due_at__lte=now)
    if exclude:
        timers = timers.exclude(case_id__in=sorted(exclude))
        alerts = alerts.exclude(case_id__in=sorted(exclude))
    found = [
        *await timers.order_by("next_due_at").limit(limit).values_list("case_id", flat=True),
        *await alerts.order_by("due_at").limit(limit).values_list("case_id", flat=True),
    ]
    return list(dict.fromkeys(str(case_id) for case_id in found))[:limit]


async def _evaluate_case(case_id: str, now: datetime) -> Evaluation:
    for _ in range(MAX_ATTEMPTS):
        try:
            return await _fire_due_for_case(case_id, now)
        except (_Busy, StaleCase):
            continue
        except (IntegrityError, OperationalError, TransactionManagementError) as error:
            # Another process won a race the lock did not cover (SQLite has no row locks).
            log.info("SLA evaluation of case %s deferred: %s", case_id, error)
            continue
    return Evaluation()


async def _fire_due_for_case(case_id: str, now: datetime) -> Evaluation:
    outcome = Evaluation()
    async with in_transaction():
        locked = await Case.filter(id=case_id).select_for_update(skip_locked=True, no_key=True).first()
        if locked is None:
            return outcome  # being changed (or evaluated) right now; the next pass will see it
        case = CaseRecord.from_row({name: getattr(locked, name) for name in CASE_COLUMNS})
        config = await case_type_sla(case.case_type_id, case.workflow)
        work: list[tuple[datetime, int, CaseTimer | CaseAlert, Due | None]] = []
        for timer_row in await CaseTimer.filter(case_id=case_id):
            timer = timer_of(timer_row)
            dues = timer.due(now, config.calendar)
            if not dues and timer_row.next_due_at is not None and timer_row.next_due_at <= now:
                # A stale deadline (a changed calendar or target): re-plan it, fire nothing.
                await CaseTimer.filter(id=timer_row.id).update(next_due_at=timer.next_due_at(config.calendar))
            work.extend((due.due_at, 0, timer_row, due) for due in dues)
        for alert in await CaseAlert.filter(case_id=case_id, fired_at__isnull=True, due_at__lte=now):
            work.append((alert.due_at, 1, alert, None))
        work.sort(key=lambda item: (item[0], item[1], item[2].id, item[3].percent if item[3] else 0))
        fired_timers: dict[int, Timer] = {}
        for _, _, row, due in work:
            if isinstance(row, CaseTimer) and due is not None:
                timer = fired_timers.get(row.id) or timer_of(row)
                case, event = await _fire_threshold(case, row.id, timer, due, config, now)
                fired_timers[row.id] = replace(timer, fired=timer.fired | {due.percent})
                outcome.events.append(event)
            elif isinstance(row, CaseAlert):
                case, closing, fired = await _fire_alert(case, row, config, now)
                if closing is not None:
                    outcome.events.append(closing)
                elif fired:
                    outcome.alerts += 1
                else:
                    outcome.skipped += 1
    return outcome


async def _managers(case: CaseRecord) -> frozenset[str]:
    if case.assignment_group_id is None:
        return frozenset()
    ids = await GroupMembership.filter(group_id=case.assignment_group_id, is_manager=True).values_list(
        "user_id", flat=True
    )
    return frozenset(str(i) for i in ids)


async def _fire_threshold(
    case: CaseRecord, timer_id: int, timer: Timer, due: Due, config: CaseTypeSla, now: datetime
) -> tuple[CaseRecord, EventRecord]:
    column = FIRED_COLUMNS[due.percent]
    after = replace(timer, fired=timer.fired | {due.percent})
    marked = await CaseTimer.filter(id=timer_id, **{f"{column}__isnull": True}).update(
        **{column: now, "next_due_at": after.next_due_at(config.calendar)}
    )
    if marked != 1:
        raise _Busy(case.id)  # fired by someone else since we read it: start over from the database
    breach = due.percent >= BREACH_PERCENT
    event_type = event_type_for(due.percent)
    recipients = recipients_for(due.percent, assignee_id=case.assigned_to_id, manager_ids=await _managers(case))
    kind = NotificationKind.SLA_BREACHED if breach else NotificationKind.SLA_WARNING
    what = "breached" if breach else f"at {due.percent} %"
    text = f"{case.number}: the {due.kind.value.lower()} SLA is {what}."

    async def tell(new_case: CaseRecord, event: EventRecord) -> None:
        await notify(user_ids=recipients, case_id=case.id, kind=kind, text=text, now=now, event_sequence=event.sequence)

    result = await commit_change(
        case=case,
        actor_id=None,
        action=CaseAction.SLA_TIMER,
        event_type=event_type,
        target=case.state,
        changes={"escalated": True} if breach else {},
        summary={
            "timer": due.kind.value,
            "threshold": due.percent,
            "targetMinutes": int(timer.target.total_seconds()) // 60,
            "dueAt": due.due_at.isoformat(),
            "escalated": breach,
            "notified": sorted(recipients),
        },
        now=now,
        side_effects=[tell],
    )
    return result.case, result.event


def _moot(kind: AlertKind, alert: CaseAlert, case: CaseRecord, config: CaseTypeSla) -> bool:
    """Whether a due alert no longer applies (the hook drops most such alerts as they arise;
    this also covers settings changed since it was planned)."""
    if case.deleted or case.status in (CaseStatus.CLOSED, CaseStatus.CANCELLED):
        return True
    if kind is AlertKind.STAGE_DWELL:
        return not alert.key.startswith(f"{case.stage.value}:") or config.rules.dwell.get(case.stage) is None
    if kind is AlertKind.UNANSWERED_COMMENT:
        return config.rules.unanswered_comment is None
    return case.status is not CaseStatus.RESOLVED or case.auto_close_excluded or not config.rules.auto_close


async def _fire_alert(
    case: CaseRecord, alert: CaseAlert, config: CaseTypeSla, now: datetime
) -> tuple[CaseRecord, EventRecord | None, bool]:
    """Returns the case as it now stands, the event recorded (auto-close only) and whether it fired."""
    kind = AlertKind(alert.kind)
    moot = _moot(kind, alert, case, config)
    if not moot and kind is AlertKind.AUTO_CLOSE:
        try:
            await check_transition(
                Transition(case=case, action=CaseAction.AUTO_CLOSE, target=CLOSED, actor=None, now=now)
            )
        except DomainError as refusal:
            # The case moved on since the alert was planned: the alert is moot, not a failure.
            log.info("auto-close of %s skipped: %s", case.number, refusal.message)
            moot = True
    marked = await CaseAlert.filter(id=alert.id, fired_at__isnull=True).update(
        fired_at=now, outcome=SKIPPED if moot else FIRED
    )
    if marked != 1:
        # Dropped by this very pass (an auto-close ends every other alert of the case) or fired
        # by another process: either way not ours to fire.
        return case, None, False
    if moot:
        return case, None, False
    if kind is AlertKind.AUTO_CLOSE:
        try:
            result = await commit_change(
                case=case,
                actor_id=None,
                action=CaseAction.AUTO_CLOSE,
                event_type=CaseEventType.CASE_TRANSITIONED,
                target=CLOSED,
                changes={"closed_at": now},
                summary={
                    "dueAt": alert.due_at.isoformat(),
                    "resolvedAt": case.resolved_at.isoformat() if case.resolved_at else None,
                },
                now=now,
            )
        except DomainError as refusal:
            # A change hook refused it inside the transaction (its savepoint is rolled back):
            # record the alert as skipped rather than retrying it on every pass.
            log.info("auto-close of %s refused: %s", case.number, refusal.message)
            await CaseAlert.filter(id=alert.id).update(outcome=SKIPPED)
            return case, None, False
        return result.case, result.event, True
    if kind is AlertKind.AUTO_CLOSE_REMINDER:
        recipients: frozenset[str] = frozenset({case.requester_id})
        text = f"{case.number} was resolved; it will be closed automatically unless you reject the solution."
    else:
        assignee = frozenset({case.assigned_to_id}) if case.assigned_to_id else frozenset()
        # Nobody assigned (a case left in NEW): the group's managers are the ones to act.
        recipients = assignee or await _managers(case)
        text = (
            f"{case.number} has been in {case.stage.value} since {alert.created_at.isoformat()}."
            if kind is AlertKind.STAGE_DWELL
            else f"{case.number}: the requester's comment has not been answered."
        )
    await notify(user_ids=recipients, case_id=case.id, kind=ALERT_NOTIFICATIONS[kind], text=text, now=now)
    return case, None, True
