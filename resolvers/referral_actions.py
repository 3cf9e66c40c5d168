"""Referrals: referring a case (or one open task) to a partner agency, retrying a failed one,
deciding on one received, and what partner agencies' casegraphs report (partner service token).
The rules live in ``casegraph/services/referrals*.py``, sending in ``casegraph/outbox_dispatcher.py``."""

from __future__ import annotations

import strawberry

from casegraph.services import referral_outcomes, referrals, referrals_inbound
from casegraph.services.case_changes import ActionResult
from casegraph.services.referrals import PartnerUpdate
from casegraph.services.referrals_inbound import IncomingReferral
from models import Referral as ReferralRow
from models import ReferralDirection as DirectionModel
from resolvers.pipeline import run_mutation
from resolvers.referrals import referral_of
from schema.context import Info
from schema.inputs import (
    DecideReferralInput,
    ReceiveReferralInput,
    ReferCaseInput,
    ReferralOutcomeInput,
    ReferralUpdateInput,
)
from schema.payloads import ReceiveReferralPayload, ReferralPayload, ReferralUpdatePayload, refused
from schema.types.case import Case, CaseEvent
from schema.types.referrals import ReceivedReferral


async def refer_case(info: Info, input: ReferCaseInput) -> ReferralPayload:
    async def payload(result: referrals.ReferralResult) -> ReferralPayload:
        return ReferralPayload(
            referral=await referral_of(result.referral),
            case=Case.from_record(result.case),
            event=CaseEvent.from_record(result.event, case=result.case) if result.event else None,
        )

    return await run_mutation(
        info,
        refused=refused(ReferralPayload),
        call=lambda actor: referrals.refer_case(
            actor=actor,
            case_id=str(input.case_id),
            partner_code=input.partner_code,
            task_id=str(input.task_id) if input.task_id is not None else None,
            note=input.note,
            expected_version=input.expected_version,
            now=info.context.clock(),
            publisher=info.context.publisher,
        ),
        done=payload,
    )


async def retry_referral(info: Info, id: strawberry.ID) -> ReferralPayload:
    async def payload(row: ReferralRow) -> ReferralPayload:
        return ReferralPayload(referral=await referral_of(row))

    return await run_mutation(
        info,
        refused=refused(ReferralPayload),
        call=lambda actor: referrals.retry_referral(actor=actor, referral_id=str(id), now=info.context.clock()),
        done=payload,
    )


async def accept_referral(info: Info, input: DecideReferralInput) -> ReferralPayload:
    return await run_mutation(
        info,
        refused=refused(ReferralPayload),
        call=lambda actor: referrals_inbound.accept_referral(
            actor=actor,
            case_id=str(input.case_id),
            expected_version=input.expected_version,
            now=info.context.clock(),
            publisher=info.context.publisher,
        ),
        done=_decided,
    )


async def reject_referral(info: Info, input: DecideReferralInput) -> ReferralPayload:
    return await run_mutation(
        info,
        refused=refused(ReferralPayload),
        call=lambda actor: referrals_inbound.reject_referral(
            actor=actor,
            case_id=str(input.case_id),
            reason=input.reason,
            expected_version=input.expected_version,
            now=info.context.clock(),
            publisher=info.context.publisher,
        ),
        done=_decided,
    )


async def receive_referral(info: Info, input: ReceiveReferralInput) -> ReceiveReferralPayload:
    message = IncomingReferral(
        referral_id=input.referral_id,
        case_id=input.case_id,
        case_number=input.case_number,
        title=input.title,
        description=input.description,
        case_type_code=input.case_type_code,
        impact=input.impact,
        urgency=input.urgency,
        task_title=input.task_title,
        note=input.note,
        referred_by=input.referred_by,
    )

    def payload(received: referrals_inbound.Received) -> ReceiveReferralPayload:
        row = received.referral
        return ReceiveReferralPayload(
            referral=ReceivedReferral(
                referral_id=strawberry.ID(input.referral_id),
                case_id=strawberry.ID(str(row.case_id)),
                case_number=received.case_number,
                status=row.status,
                created=received.created,
            )
        )

    return await run_mutation(
        info,
        refused=refused(ReceiveReferralPayload),
        call=lambda actor: referrals_inbound.receive_referral(
            actor=actor,
            message=message,
            now=info.context.clock(),
            publisher=info.context.publisher,
        ),
        done=payload,
    )


async def record_referral_update(info: Info, input: ReferralUpdateInput) -> ReferralUpdatePayload:
    update = PartnerUpdate(
        referral_id=input.referral_id,
        sequence=input.sequence,
        status=input.status,
        case_id=input.case_id,
        case_number=input.case_number,
        stage=input.stage,
        case_status=input.case_status,
        resolution_code=input.resolution_code,
        resolution_notes=input.resolution_notes,
        reason=input.reason,
        occurred_at=input.occurred_at,
    )
    return await run_mutation(
        info,
        refused=refused(ReferralUpdatePayload),
        call=lambda actor: referrals.record_update(
            actor=actor,
            update=update,
            now=info.context.clock(),
            publisher=info.context.publisher,
        ),
        done=lambda recorded: ReferralUpdatePayload(applied=recorded[1]),
    )


async def record_referral_outcome(info: Info, input: ReferralOutcomeInput) -> ReferralUpdatePayload:
    return await run_mutation(
        info,
        refused=refused(ReferralUpdatePayload),
        call=lambda actor: referral_outcomes.record_outcome(
            actor=actor,
            message=referral_outcomes.OutcomeMessage(
                referral_id=input.referral_id,
                sequence=input.sequence,
                outcome=input.outcome,
                reason=input.reason,
            ),
            now=info.context.clock(),
            publisher=info.context.publisher,
        ),
        done=lambda applied: ReferralUpdatePayload(applied=applied),
    )


async def _decided(result: ActionResult) -> ReferralPayload:
    row = await ReferralRow.filter(case_id=result.case.id, direction=DirectionModel.INBOUND).first()
    return ReferralPayload(
        referral=await referral_of(row) if row else None,
        case=Case.from_record(result.case),
        event=CaseEvent.from_record(result.event, case=result.case),
    )
