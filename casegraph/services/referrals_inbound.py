"""The receiving side of a referral: a partner's case arrives, is accepted or rejected here, and
its state changes are sent back.

``receive_referral`` is idempotent on (partner, referral id): the partner's outbox may send the
same referral again after a lost answer, and it gets the case it already has. The case is filed by
the partner's service account (so it is the requester and sees it), on channel PARTNER, of the
type our administrator configured for that partner, with ``referred_agency`` pointing back.
Its state changes go back through the change hook in ``services/referral_outbox.py``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from tortoise.exceptions import IntegrityError

from casegraph.domain import lifecycle
from casegraph.domain.desk_actions import OPEN_NOT_RESOLVED, REFERRAL_ACCEPTERS, REFERRAL_REJECTERS
from casegraph.domain.enums import CaseAction, CaseEventType, Channel, Relation, Role
from casegraph.domain.errors import (
    permission_denied,
    transition_not_allowed,
    validation_failed,
    version_conflict,
)
from casegraph.domain.relations import Actor, relations_of
from casegraph.domain.validation import clean_level, clean_text, clean_title, uuid_key
from casegraph.services.case_changes import ActionResult
from casegraph.services.case_creation import NewCase, create_case
from casegraph.services.publisher import Publisher
from casegraph.services.records import CaseRecord, EventRecord
from casegraph.services.referrals import load_case, record_on_case
from casegraph.services.visibility import load_visible_case
from models import CaseType, PartnerAgency, Referral, ReferralDirection, ReferralStatus

DECIDERS: Final = REFERRAL_ACCEPTERS
REJECTERS: Final = REFERRAL_REJECTERS


# An inbound referral we may still turn down (before that, or after accepting it).
OPEN_REFERRAL_STATUSES: Final = (ReferralStatus.DELIVERED, ReferralStatus.ACCEPTED)


@dataclass(frozen=True)
class IncomingReferral:
    referral_id: str
    case_id: str
    case_number: str
    title: str | None
    description: str | None
    case_type_code: str | None
    impact: int | None
    urgency: int | None
    task_title: str | None
    note: str | None
    referred_by: str | None


@dataclass(frozen=True)
class Received:
    referral: Referral
    case_number: str
    created: bool


async def partner_of(actor: Actor) -> PartnerAgency:
    if not actor.has(Role.PARTNER) or actor.agency is None:
        raise permission_denied("Only a partner agency's service account may send a referral.")
    partner = await PartnerAgency.filter(code=actor.agency, active=True).first()
    if partner is None:
        raise permission_denied("Your agency is not configured as a partner here.")
    return partner


def _description(partner: PartnerAgency, message: IncomingReferral) -> str:
    what = (
        f'task "{message.task_title}" of case {message.case_number}'
        if message.task_title
        else f"case {message.case_number}"
    )
    parts = [f"Referred by {partner.name} ({partner.code}): {what}."]
    if message.referred_by:
        parts[0] += f" Referred by {message.referred_by}."
    if message.note:
        parts.append(message.note)
    if message.description:
        parts.append(message.description)
    return "\n\n".join(parts)


async def _existing(partner: PartnerAgency, referral_id: str) -> Received | None:
    referral = await Referral.filter(
        partner_id=partner.id, remote_referral_id=referral_id, direction=ReferralDirection.INBOUND
    ).first()
    if referral is None:
        return None
    case = await load_case(str(referral.case_id))
    return Received(referral, case.number, created=False)


async def receive_referral(*, actor: Actor, message: IncomingReferral, now: datetime, publisher: Publisher) -> Received:
    partner = await partner_of(actor)
    referral_id = uuid_key(message.referral_id)
    if referral_id is None:
        raise validation_failed("referralId", "referralId must be a UUID.")
    found = await _existing(partner, referral_id)
    if found is not None:
        return found
    if partner.receive_case_type_id is None:
        raise validation_failed("caseTypeCode", f"No case type is configured here for referrals from {partner.code}.")
    case_type = await CaseType.get(id=partner.receive_case_type_id)
    clean_text("caseId", message.case_id, required=True, limit=64)
    clean_text("caseNumber", message.case_number, required=True, limit=32)
    title = clean_title(message.title, required=False) or f"Referral from {partner.code} ({message.case_number})"
    description = clean_text("description", _description(partner, message), required=True)
    local_id = uuid.uuid4()

    async def store(result: ActionResult) -> None:
        await Referral.create(
            id=local_id,
            direction=ReferralDirection.INBOUND,
            partner_id=partner.id,
            case_id=result.case.id,
            remote_referral_id=referral_id,
            status=ReferralStatus.DELIVERED,
            note=message.note,
            remote_case_id=message.case_id[:64],
            remote_case_number=message.case_number[:32],
            created_at=now,
            updated_at=now,
            delivered_at=now,
        )

    try:
        result = await create_case(
            actor=actor,
            new=NewCase(
                case_type_code=case_type.code,
                title=title,
                description=description,
                impact=clean_level("impact", message.impact),
                urgency=clean_level("urgency", message.urgency),
                channel=Channel.PARTNER,
                referred_agency=partner.code,
            ),
            now=now,
            publisher=publisher,
            on_success=store,
            on_referral=True,
        )
    except IntegrityError:
        # The same referral arriving twice at once: the other request filed it (ours rolled back).
        found = await _existing(partner, referral_id)
        if found is None:
            raise
        return found
    return Received(await Referral.get(id=local_id), result.case.number, created=True)


async def _inbound(
    actor: Actor, case_id: str, expected_version: int | None
) -> tuple[CaseRecord, Referral, frozenset[Relation]]:
    case = await load_visible_case(actor, case_id)
    referral = await Referral.filter(case_id=case.id, direction=ReferralDirection.INBOUND).first()
    if referral is None:
        raise validation_failed("caseId", "The case did not come from a partner agency.")
    if expected_version is not None and expected_version != case.version:
        raise version_conflict(expected_version, case.version)
    return case, referral, relations_of(actor, case.parties())


async def accept_referral(
    *, actor: Actor, case_id: str, expected_version: int | None, now: datetime, publisher: Publisher
) -> ActionResult:
    """We take the partner's case on: ACCEPTED, reported back. Taking the case (ASSIGN_TO_ME,
    ACCEPT) accepts it too."""
    case, referral, relations = await _inbound(actor, case_id, expected_version)
    if not relations & DECIDERS:
        raise permission_denied("Only agents of the case's group may accept a referral.")
    if referral.status is not ReferralStatus.DELIVERED:
        raise transition_not_allowed(f"The referral is already {referral.status.value.lower()}.")

    async def write(_: CaseRecord, __: EventRecord) -> None:
        await Referral.filter(id=referral.id).update(status=ReferralStatus.ACCEPTED, updated_at=now)

    return await record_on_case(
        case_id=case.id,
        actor_id=actor.user_id,
        action=CaseAction.ACCEPT_REFERRAL,
        summary={
            "referralId": str(referral.id),
            "partner": await _code(referral),
            "status": ReferralStatus.ACCEPTED.value,
        },
        now=now,
        publisher=publisher,
        side_effects=[write],
    )


async def reject_referral(
    *, actor: Actor, case_id: str, reason: str | None, expected_version: int | None, now: datetime, publisher: Publisher
) -> ActionResult:
    """We decline the partner's case: REJECTED with a reason, and the case here is cancelled."""
    case, referral, relations = await _inbound(actor, case_id, expected_version)
    if not relations & REJECTERS:
        raise permission_denied("Only the case's agent or a manager of its group may reject a referral.")
    cleaned = clean_text("reason", reason, required=True)
    if referral.status not in OPEN_REFERRAL_STATUSES or case.state not in OPEN_NOT_RESOLVED:
        raise transition_not_allowed("Only an open referral can be rejected.")

    async def write(_: CaseRecord, __: EventRecord) -> None:
        await Referral.filter(id=referral.id).update(status=ReferralStatus.REJECTED, reason=cleaned, updated_at=now)

    return await record_on_case(
        case_id=case.id,
        actor_id=actor.user_id,
        action=CaseAction.REJECT_REFERRAL,
        summary={
            "referralId": str(referral.id),
            "partner": await _code(referral),
            "status": ReferralStatus.REJECTED.value,
        },
        now=now,
        publisher=publisher,
        side_effects=[write],
        target=lifecycle.CANCELLED,
        changes={"cancel_reason": cleaned, "closed_at": now, "remembered_stage": None, "remembered_status": None},
        event_type=CaseEventType.CASE_TRANSITIONED,
    )


async def _code(referral: Referral) -> str:
    partner = await PartnerAgency.get(id=referral.partner_id)
    return partner.code
