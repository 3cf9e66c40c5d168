"""Referral messages in the outbox, and the change hook that reports a received case's changes.

Kept apart from the referral services so the composition root (casegraph/composition.py) can import it
without importing the case-change pipeline that runs them.
"""

from __future__ import annotations

import uuid
from enum import Enum
from typing import Any, Final

from casegraph.domain.enums import CaseAction, CaseEventType, CaseStatus, Channel
from casegraph.services.records import CaseRecord, EventRecord
from models import Comment, DeliveryStatus, OutboxDelivery, PartnerAgency, Referral, ReferralDirection, ReferralStatus

REFERRAL: Final = "referral"
REFERRAL_UPDATE: Final = "referral_update"
REFERRAL_OUTCOME: Final = "referral_outcome"


class ReferralOutcome(str, Enum):
    """How the referring case ended up, as its partner is told (services/referral_outcomes.py)."""

    ACCEPTED = "ACCEPTED"  # the referring case closed: the requester accepted, or it was closed
    REJECTED = "REJECTED"  # the referring case's requester rejected the solution
    WITHDRAWN = "WITHDRAWN"  # the referring case was cancelled


# Referrals whose partner holds a case of its own that may still be waiting on us.
HANDED_OVER: Final = (ReferralStatus.DELIVERED, ReferralStatus.ACCEPTED)
# Events the referring agency hears about: state changes and decisions, not comments or notes.
REPORTED_TYPES: Final = frozenset(
    {CaseEventType.CASE_TRANSITIONED, CaseEventType.CASE_DELETED, CaseEventType.CASE_RESTORED}
)
REPORTED_ACTIONS: Final = frozenset({CaseAction.ACCEPT_REFERRAL, CaseAction.REJECT_REFERRAL})


async def enqueue_message(
    *, kind: str, partner: PartnerAgency, referral_id: uuid.UUID, event: EventRecord, payload: dict[str, Any]
) -> None:
    """An outbox row for the dispatcher; inside the event's transaction, so both or neither."""
    await OutboxDelivery.create(
        id=uuid.uuid4(),
        kind=kind,
        partner_id=partner.id,
        referral_id=referral_id,
        event_sequence=event.sequence,
        event_type=event.type.value,
        payload=payload,
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=event.occurred_at,
        created_at=event.occurred_at,
    )


def update_message(referral: Referral, case: CaseRecord, event: EventRecord) -> dict[str, Any]:
    return {
        "referralId": str(referral.remote_referral_id),
        "sequence": event.sequence,
        "status": referral.status.value,
        "caseId": case.id,
        "caseNumber": case.number,
        "stage": case.stage.value,
        "caseStatus": case.status.value,
        "resolutionCode": case.resolution_code.value if case.resolution_code else None,
        "resolutionNotes": case.resolution_notes,
        "reason": referral.reason if referral.status is ReferralStatus.REJECTED else None,
        "occurredAt": event.occurred_at.isoformat(),
    }


async def enqueue_referral_updates(before: CaseRecord, after: CaseRecord, event: EventRecord) -> None:
    """Change hook: tell the referring agency about a state change of a case it referred to us.

    Costs nothing for other cases (channel check first). Leaving NEW for anything but
    cancellation means someone took the case on: an undecided referral becomes ACCEPTED.
    """
    if after.channel is not Channel.PARTNER or after.referred_agency is None:
        return
    if event.type not in REPORTED_TYPES and event.action not in REPORTED_ACTIONS:
        return
    referral = await Referral.filter(case_id=after.id, direction=ReferralDirection.INBOUND).first()
    if referral is None:
        return
    if (
        referral.status is ReferralStatus.DELIVERED
        and after.status not in (CaseStatus.NEW, CaseStatus.CANCELLED)
        and event.action is not CaseAction.REJECT_REFERRAL
    ):
        await Referral.filter(id=referral.id, status=ReferralStatus.DELIVERED).update(
            status=ReferralStatus.ACCEPTED, updated_at=event.occurred_at
        )
        referral.status = ReferralStatus.ACCEPTED
    partner = await PartnerAgency.get(id=referral.partner_id)
    await enqueue_message(
        kind=REFERRAL_UPDATE,
        partner=partner,
        referral_id=referral.id,
        event=event,
        payload=update_message(referral, after, event),
    )


def outcome_of(before: CaseRecord, after: CaseRecord, event: EventRecord) -> ReferralOutcome | None:
    """What a change of a referring case means for the partners it was referred to, if anything."""
    if event.action is CaseAction.REJECT_SOLUTION:
        return ReferralOutcome.REJECTED
    if before.status is after.status:
        return None
    if after.status is CaseStatus.CLOSED:
        return ReferralOutcome.ACCEPTED
    if after.status is CaseStatus.CANCELLED:
        return ReferralOutcome.WITHDRAWN
    return None


async def enqueue_referral_outcomes(before: CaseRecord, after: CaseRecord, event: EventRecord) -> None:
    """Change hook: when a case we referred closes, is cancelled or has its solution rejected here,
    each partner holding a case for it is told, so its case closes or reopens with ours.

    Costs nothing for cases never referred (``referred_agency`` check first).
    """
    if after.referred_agency is None:
        return
    outcome = outcome_of(before, after, event)
    if outcome is None:
        return
    referrals = await Referral.filter(
        case_id=after.id, direction=ReferralDirection.OUTBOUND, status__in=HANDED_OVER
    ).order_by("created_at", "id")
    if not referrals:
        return
    reason: str | None = None
    if outcome is ReferralOutcome.REJECTED:
        # The requester's reason is the public comment this very event wrote.
        comment = await Comment.filter(case_id=after.id, event_sequence=event.sequence).first()
        reason = comment.body if comment is not None else None
    for referral in referrals:
        partner = await PartnerAgency.get(id=referral.partner_id)
        await enqueue_outcome(
            partner=partner, referral=referral, case=after, event=event, outcome=outcome, reason=reason
        )


async def enqueue_outcome(
    *,
    partner: PartnerAgency,
    referral: Referral,
    case: CaseRecord,
    event: EventRecord,
    outcome: ReferralOutcome,
    reason: str | None,
) -> None:
    await enqueue_message(
        kind=REFERRAL_OUTCOME,
        partner=partner,
        referral_id=referral.id,
        event=event,
        payload={
            "referralId": str(referral.id),
            "sequence": event.sequence,
            "outcome": outcome.value,
            "caseNumber": case.number,
            "reason": reason,
        },
    )


async def enqueue_outcome_on_delivery(
    *, partner: PartnerAgency, referral: Referral, case: CaseRecord, event: EventRecord
) -> None:
    """The referral was just delivered (``event`` records that): if the referring case ended while
    it waited, the partner now holds a case that would stay open for ever: tell it the outcome.

    Queued after the referral's delivery succeeded, so it cannot reach the partner before the
    referral does, and with this event's sequence, later than anything the partner was sent.
    The close itself queued nothing for this referral: it was not handed over yet.
    """
    if case.status is CaseStatus.CLOSED:
        outcome = ReferralOutcome.ACCEPTED
    elif case.status is CaseStatus.CANCELLED:
        outcome = ReferralOutcome.WITHDRAWN
    else:
        return
    await enqueue_outcome(partner=partner, referral=referral, case=case, event=event, outcome=outcome, reason=None)
