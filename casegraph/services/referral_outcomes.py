"""The referring agency's verdict on a case it referred to us (``recordReferralOutcome``).

A received case is filed by the referring agency's service account, so that account is its
requester: when the referring case closes (its requester accepted, or it was closed or cancelled)
our case is closed as that requester's acceptance, and when the referring requester rejects the
solution ours reopens as that requester's rejection. Each is an ordinary life-cycle action run
through ``case_actions.perform`` as the partner account, so the table decides and the event is
recorded like any other.

Idempotent and ordered: outcomes carry the referring event's sequence; one at or below the last
applied is answered ``applied: false``, as is one the case's state makes moot (already closed,
not resolved any more).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from casegraph.domain import lifecycle
from casegraph.domain.commands import Command, NoInput, RejectSolution
from casegraph.domain.enums import CaseAction, CaseStatus
from casegraph.domain.errors import not_found, validation_failed
from casegraph.domain.relations import Actor
from casegraph.domain.validation import clean_text, uuid_key
from casegraph.services.case_actions import ActionRequest, perform
from casegraph.services.publisher import Publisher
from casegraph.services.referral_outbox import ReferralOutcome
from casegraph.services.referrals import load_case
from casegraph.services.referrals_inbound import partner_of
from models import Referral, ReferralDirection


@dataclass(frozen=True)
class OutcomeMessage:
    referral_id: str
    sequence: int
    outcome: ReferralOutcome
    reason: str | None = None


def action_for(outcome: ReferralOutcome, status: CaseStatus) -> CaseAction | None:
    """The requester's action that carries the outcome over to our case in ``status``; None: moot."""
    if lifecycle.is_terminal(status) or status is CaseStatus.DRAFT:
        return None
    if status is CaseStatus.RESOLVED:
        if outcome is ReferralOutcome.REJECTED:
            return CaseAction.REJECT_SOLUTION
        return CaseAction.ACCEPT_SOLUTION
    if outcome is ReferralOutcome.REJECTED:
        return None  # nothing here was proposed, so nothing to reopen
    return CaseAction.CLOSE


async def record_outcome(*, actor: Actor, message: OutcomeMessage, now: datetime, publisher: Publisher) -> bool:
    """Apply the referring agency's outcome to the case it referred to us; True if it changed it."""
    partner = await partner_of(actor)
    key = uuid_key(message.referral_id)
    referral = (
        await Referral.filter(
            remote_referral_id=key, partner_id=partner.id, direction=ReferralDirection.INBOUND
        ).first()
        if key
        else None
    )
    if referral is None:
        raise not_found("Referral")
    if message.sequence < 1:
        raise validation_failed("sequence", "sequence must be positive.")
    reason = clean_text("reason", message.reason, required=False)
    if message.sequence <= referral.remote_sequence:
        return False
    case = await load_case(str(referral.case_id))
    action = action_for(message.outcome, case.status)
    applied = False
    if action is not None:
        command: Command = NoInput()
        if action is CaseAction.REJECT_SOLUTION:
            command = RejectSolution(
                reason=f"Rejected at {partner.name} ({partner.code}): {reason or 'no reason given'}"
            )
        # A refusal (a child case still open, say) goes back to the sender, whose outbox retries.
        await perform(
            actor=actor, request=ActionRequest(action, case.id, command=command), now=now, publisher=publisher
        )
        applied = True
    await Referral.filter(id=referral.id, remote_sequence__lt=message.sequence).update(
        remote_sequence=message.sequence, updated_at=now
    )
    return applied
