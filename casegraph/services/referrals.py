"""Referring a case (or one of its tasks) to a partner agency, and what comes back.

The referring side keeps an OUTBOUND ``Referral``. ``refer_case`` records a REFER event and,
in the same transaction, an outbox message of kind ``referral``; the dispatcher delivers it to
the partner's ``receiveReferral`` and reports the answer (``mark_delivered`` / ``mark_failed``).
The partner's later state changes arrive through ``recordReferralUpdate``
(``record_update``): each is applied once (``ReferralUpdate`` is unique per partner event), the
mirror of the partner's case only moves forward, and each becomes a REFERRAL_UPDATE event on the
referring case so its agent sees it live. A task referral's task is completed when the partner
resolves the case. The receiving side is ``services/referrals_inbound.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from tortoise.exceptions import IntegrityError

from casegraph.domain.desk_actions import OPEN_NOT_RESOLVED, REFERRERS
from casegraph.domain.enums import (
    CaseAction,
    CaseEventType,
    CaseStatus,
    ResolutionCode,
    Role,
    TaskState,
)
from casegraph.domain.errors import (
    DomainError,
    not_found,
    permission_denied,
    transition_not_allowed,
    validation_failed,
    version_conflict,
)
from casegraph.domain.lifecycle import State
from casegraph.domain.relations import Actor, relations_of
from casegraph.domain.validation import clean_text, id_number, uuid_key
from casegraph.services.case_changes import ActionResult, SideEffect, StaleCase, commit_change
from casegraph.services.column_limits import max_value
from casegraph.services.partners import partner_by_code
from casegraph.services.publisher import Publisher
from casegraph.services.records import CASE_COLUMNS, CaseRecord, EventRecord
from casegraph.services.referral_outbox import REFERRAL, enqueue_message, enqueue_outcome_on_delivery
from casegraph.services.visibility import load_visible_case
from models import (
    Case,
    CaseTask,
    CaseType,
    DeliveryStatus,
    OutboxDelivery,
    PartnerAgency,
    Referral,
    ReferralDirection,
    ReferralStatus,
    ReferralUpdate,
)

MAX_ATTEMPTS: Final = 1000  # lost races before giving up (see case_actions.MAX_ATTEMPTS)
OPEN_REFERRAL: Final = (ReferralStatus.PENDING, ReferralStatus.DELIVERED, ReferralStatus.ACCEPTED)
# A status a partner's update may set, and what it may replace: decisions are final.
STATUS_RANK: Final = {
    ReferralStatus.PENDING: 0,
    ReferralStatus.FAILED: 0,
    ReferralStatus.DELIVERED: 1,
    ReferralStatus.ACCEPTED: 2,
    ReferralStatus.REJECTED: 3,
}
PARTNER_STATUSES: Final = (ReferralStatus.DELIVERED, ReferralStatus.ACCEPTED, ReferralStatus.REJECTED)
SOLVED_CODES: Final = frozenset(
    {ResolutionCode.SOLVED.value, ResolutionCode.SOLVED_WORKAROUND.value, ResolutionCode.SOLVED_BY_PARTNER.value}
)
ERROR_LIMIT: Final = 500


@dataclass(frozen=True)
class ReferralResult:
    referral: Referral
    case: CaseRecord
    event: EventRecord | None


async def load_case(case_id: str) -> CaseRecord:
    rows = await Case.filter(id=case_id).values(*CASE_COLUMNS)
    if not rows:
        raise not_found()
    return CaseRecord.from_row(rows[0])


async def record_on_case(
    *,
    case_id: str,
    actor_id: str | None,
    action: CaseAction,
    summary: dict[str, Any],
    now: datetime,
    publisher: Publisher,
    side_effects: Sequence[SideEffect] = (),
    target: State | None = None,
    changes: dict[str, Any] | None = None,
    event_type: CaseEventType = CaseEventType.CASE_UPDATED,
) -> ActionResult:
    """One event on a case whatever else is happening to it: retried when an agent's change wins
    the race, published after the commit. For system writes (delivery outcomes, partner updates)."""
    for _ in range(MAX_ATTEMPTS):
        case = await load_case(case_id)
        try:
            result = await commit_change(
                case=case,
                actor_id=actor_id,
                action=action,
                event_type=event_type,
                target=target or case.state,
                changes=changes or {},
                summary=summary,
                now=now,
                side_effects=side_effects,
            )
        except StaleCase:
            continue
        await publisher.published([result.event])
        return result
    raise transition_not_allowed("The case kept changing; try again.")


def case_message(
    referral_id: str,
    case: CaseRecord,
    case_type: CaseType | None,
    task: CaseTask | None,
    note: str | None,
    referred_by: str | None,
) -> dict[str, Any]:
    """What the partner receives: enough to work on, nothing internal (no work notes)."""
    return {
        "referralId": referral_id,
        "caseId": case.id,
        "caseNumber": case.number,
        "title": task.title if task is not None else case.title,
        "description": case.description,
        "caseTypeCode": case_type.code if case_type else None,
        "caseTypeName": case_type.name if case_type else None,
        "impact": case.impact,
        "urgency": case.urgency,
        "taskId": str(task.id) if task is not None else None,
        "taskTitle": task.title if task is not None else None,
        "note": note,
        "referredBy": referred_by,
    }


async def refer_case(
    *,
    actor: Actor,
    case_id: str,
    partner_code: str,
    task_id: str | None,
    note: str | None,
    expected_version: int | None,
    now: datetime,
    publisher: Publisher,
) -> ReferralResult:
    """The case's agent or a manager hands the case, or one open task of it, to a partner."""
    case = await load_visible_case(actor, case_id)
    if not relations_of(actor, case.parties()) & REFERRERS:
        raise permission_denied("Only the case's agent or a manager of its group may refer it.")
    if case.state not in OPEN_NOT_RESOLVED:
        raise transition_not_allowed(f"A case in {case.stage.value}/{case.status.value} cannot be referred.")
    try:
        partner = await partner_by_code(partner_code, active_only=True)
    except DomainError:
        # An unknown partner is bad input of this mutation, not a missing object.
        raise validation_failed("partnerCode", "No active partner agency has this code.") from None
    task = await _open_task(case.id, task_id) if task_id is not None else None
    cleaned_note = clean_text("note", note, required=False)
    if expected_version is not None and expected_version != case.version:
        raise version_conflict(expected_version, case.version)
    duplicate = Referral.filter(
        direction=ReferralDirection.OUTBOUND, case_id=case.id, partner_id=partner.id, status__in=OPEN_REFERRAL
    )
    duplicate = duplicate.filter(task_id=task.id) if task is not None else duplicate.filter(task_id__isnull=True)
    if await duplicate.exists():
        raise validation_failed("partnerCode", "This is already referred to that partner.")
    case_type = await CaseType.get_or_none(id=case.case_type_id) if case.case_type_id else None
    referral_id = uuid.uuid4()
    message = case_message(str(referral_id), case, case_type, task, cleaned_note, actor.name)

    async def write_referral(_: CaseRecord, event: EventRecord) -> None:
        await Referral.create(
            id=referral_id,
            direction=ReferralDirection.OUTBOUND,
            partner_id=partner.id,
            case_id=case.id,
            task_id=task.id if task else None,
            status=ReferralStatus.PENDING,
            note=cleaned_note,
            created_by_id=actor.user_id,
            created_at=now,
            updated_at=now,
        )
        await enqueue_message(kind=REFERRAL, partner=partner, referral_id=referral_id, event=event, payload=message)

    try:
        result = await commit_change(
            case=case,
            actor_id=actor.user_id,
            action=CaseAction.REFER,
            event_type=CaseEventType.CASE_UPDATED,
            target=case.state,
            changes={"referred_agency": partner.code},
            summary={
                "referralId": str(referral_id),
                "partner": partner.code,
                "taskId": str(task.id) if task else None,
                "note": cleaned_note is not None,
            },
            now=now,
            side_effects=[write_referral],
        )
    except StaleCase:
        latest = await load_visible_case(actor, case_id)
        raise version_conflict(expected_version or case.version, latest.version) from None
    await publisher.published([result.event])
    return ReferralResult(await Referral.get(id=referral_id), result.case, result.event)


async def _open_task(case_id: str, task_id: str) -> CaseTask:
    number = id_number(task_id, max_value(CaseTask, "id"))
    task = await CaseTask.get_or_none(id=number, case_id=case_id) if number is not None else None
    if task is None:
        raise validation_failed("taskId", "The case has no such task.")
    if task.state not in (TaskState.OPEN, TaskState.IN_PROGRESS):
        raise validation_failed("taskId", "Only an open task can be referred.")
    return task


def _update_summary(referral: Referral, partner_code: str) -> dict[str, Any]:
    return {
        "referralId": str(referral.id),
        "partner": partner_code,
        "status": referral.status.value,
        "remoteCaseNumber": referral.remote_case_number,
        "remoteStage": referral.remote_stage,
        "remoteStatus": referral.remote_status,
        "resolutionCode": referral.remote_resolution_code,
    }


async def mark_delivered(
    *, referral_id: uuid.UUID, remote_case_id: str, remote_case_number: str, now: datetime, publisher: Publisher
) -> None:
    """The partner has the case: DELIVERED (unless an update already told us more)."""
    referral = await Referral.get_or_none(id=referral_id)
    if referral is None:
        return
    partner = await PartnerAgency.get(id=referral.partner_id)

    async def write(case: CaseRecord, event: EventRecord) -> None:
        await referral.refresh_from_db()  # afresh on every attempt: a lost race rolled back the last
        status = referral.status
        handed_over_now = STATUS_RANK[status] < STATUS_RANK[ReferralStatus.DELIVERED]
        if handed_over_now:
            status = ReferralStatus.DELIVERED
        referral.status = status
        referral.remote_case_id = remote_case_id[:64]
        referral.remote_case_number = remote_case_number[:32]
        referral.delivered_at = referral.delivered_at or now
        referral.last_error = None
        referral.updated_at = now
        await referral.save()
        if handed_over_now:
            # Closed or cancelled while the referral waited: the partner's new case must close too.
            await enqueue_outcome_on_delivery(partner=partner, referral=referral, case=case, event=event)

    await record_on_case(
        case_id=str(referral.case_id),
        actor_id=None,
        action=CaseAction.REFERRAL_UPDATE,
        summary={
            **_update_summary(referral, partner.code),
            "status": ReferralStatus.DELIVERED.value,
            "remoteCaseNumber": remote_case_number[:32],
        },
        now=now,
        publisher=publisher,
        side_effects=[write],
    )


async def mark_failed(*, referral_id: uuid.UUID, error: str, now: datetime, publisher: Publisher) -> None:
    """The outbox gave up (or the partner refused the referral for good): FAILED, with why."""
    referral = await Referral.get_or_none(id=referral_id)
    if referral is None or referral.status is not ReferralStatus.PENDING:
        return
    partner = await PartnerAgency.get(id=referral.partner_id)

    async def write(_: CaseRecord, __: EventRecord) -> None:
        await Referral.filter(id=referral_id, status=ReferralStatus.PENDING).update(
            status=ReferralStatus.FAILED, last_error=error[:ERROR_LIMIT], updated_at=now
        )

    await record_on_case(
        case_id=str(referral.case_id),
        actor_id=None,
        action=CaseAction.REFERRAL_UPDATE,
        summary={**_update_summary(referral, partner.code), "status": ReferralStatus.FAILED.value},
        now=now,
        publisher=publisher,
        side_effects=[write],
    )


async def note_attempt_error(*, referral_id: uuid.UUID, error: str, now: datetime) -> None:
    """A failed attempt that will be retried: shown on the referral, no event."""
    await Referral.filter(id=referral_id, status=ReferralStatus.PENDING).update(
        last_error=error[:ERROR_LIMIT], updated_at=now
    )


@dataclass(frozen=True)
class PartnerUpdate:
    """A state change on the partner's case, as its ``recordReferralUpdate`` call says."""

    referral_id: str
    sequence: int
    status: ReferralStatus | None
    case_id: str
    case_number: str
    stage: str
    case_status: str
    resolution_code: str | None
    resolution_notes: str | None
    reason: str | None
    occurred_at: datetime


async def record_update(
    *, actor: Actor, update: PartnerUpdate, now: datetime, publisher: Publisher
) -> tuple[Referral, bool]:
    """Apply a partner's update once; (referral, applied). A repeat is answered, not applied."""
    if not actor.has(Role.PARTNER) or actor.agency is None:
        raise permission_denied("Only a partner agency's service account may report on a referral.")
    key = uuid_key(update.referral_id)
    referral = (
        await Referral.filter(id=key, direction=ReferralDirection.OUTBOUND, partner__code=actor.agency).first()
        if key
        else None
    )
    if referral is None:
        raise not_found("Referral")
    if update.sequence < 1:
        raise validation_failed("sequence", "sequence must be positive.")
    if update.status is not None and update.status not in PARTNER_STATUSES:
        raise validation_failed("status", "A partner reports DELIVERED, ACCEPTED or REJECTED.")
    if await ReferralUpdate.exists(referral_id=referral.id, sequence=update.sequence):
        return referral, False
    partner_code = actor.agency
    text_fields = {
        "resolution_notes": clean_text("resolutionNotes", update.resolution_notes, required=False),
        "reason": clean_text("reason", update.reason, required=False),
    }

    async def write(_: CaseRecord, __: EventRecord) -> None:
        await referral.refresh_from_db()  # afresh on every attempt: a lost race rolled back the last
        await ReferralUpdate.create(
            referral_id=referral.id,
            sequence=update.sequence,
            received_at=now,
            payload={
                "status": update.status.value if update.status else None,
                "stage": update.stage,
                "caseStatus": update.case_status,
                "resolutionCode": update.resolution_code,
                "occurredAt": update.occurred_at.isoformat(),
            },
        )
        values: dict[str, Any] = {
            "delivered_at": referral.delivered_at or now,
            "last_error": None,
            "updated_at": now,
            "remote_case_id": referral.remote_case_id or update.case_id[:64],
            "remote_case_number": referral.remote_case_number or update.case_number[:32],
        }
        if update.sequence > referral.remote_sequence:
            values.update(
                remote_sequence=update.sequence,
                remote_stage=update.stage[:32],
                remote_status=update.case_status[:32],
                remote_resolution_code=(update.resolution_code or "")[:32] or None,
                remote_resolution_notes=text_fields["resolution_notes"],
            )
        wanted = update.status or ReferralStatus.DELIVERED
        if STATUS_RANK[wanted] > STATUS_RANK[referral.status]:
            values["status"] = wanted
            if wanted is ReferralStatus.REJECTED:
                values["reason"] = text_fields["reason"]
        await Referral.filter(id=referral.id).update(**values)
        await _complete_task_if_solved(referral, update, partner_code, now)

    try:
        await record_on_case(
            case_id=str(referral.case_id),
            actor_id=None,
            action=CaseAction.REFERRAL_UPDATE,
            summary={
                **_update_summary(referral, partner_code),
                "sequence": update.sequence,
                "status": (update.status or referral.status).value,
                "remoteStage": update.stage,
                "remoteStatus": update.case_status,
                "resolutionCode": update.resolution_code,
                "remoteCaseNumber": update.case_number,
            },
            now=now,
            publisher=publisher,
            side_effects=[write],
        )
    except IntegrityError:
        # The same update arrived twice at once: the other request applied it.
        await referral.refresh_from_db()
        return referral, False
    await referral.refresh_from_db()
    return referral, True


async def _complete_task_if_solved(referral: Referral, update: PartnerUpdate, partner_code: str, now: datetime) -> None:
    """A referred task is done when the partner resolved its case with a solution."""
    solved = update.case_status in (CaseStatus.RESOLVED.value, CaseStatus.CLOSED.value) and (
        update.resolution_code in SOLVED_CODES
    )
    if referral.task_id is None or not solved:
        return
    note = f"Completed by partner agency {partner_code} ({update.case_number})."
    await CaseTask.filter(id=referral.task_id, state__in=(TaskState.OPEN, TaskState.IN_PROGRESS)).update(
        state=TaskState.DONE, note=note, finished_at=now, finished_by_id=None
    )


async def retry_referral(*, actor: Actor, referral_id: str, now: datetime) -> Referral:
    """Send a FAILED referral again (after the partner fixed its side): its agent, a manager, an admin."""
    key = uuid_key(referral_id)
    referral = await Referral.get_or_none(id=key, direction=ReferralDirection.OUTBOUND) if key else None
    if referral is None:
        raise not_found("Referral")
    if not actor.has(Role.ADMIN):
        case = await load_visible_case(actor, str(referral.case_id))
        if not relations_of(actor, case.parties()) & REFERRERS:
            raise permission_denied("Only the case's agent, a manager of its group or an administrator may retry.")
    if referral.status is not ReferralStatus.FAILED:
        raise validation_failed("id", "Only a FAILED referral can be sent again.")
    await OutboxDelivery.filter(referral_id=referral.id, kind=REFERRAL).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, last_error=None
    )
    await Referral.filter(id=referral.id, status=ReferralStatus.FAILED).update(
        status=ReferralStatus.PENDING, last_error=None, updated_at=now
    )
    await referral.refresh_from_db()
    return referral


async def referrals_of_case(case_id: str) -> list[Referral]:
    return await Referral.filter(case_id=case_id).order_by("created_at", "id")
