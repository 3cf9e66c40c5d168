"""Partner agencies and referrals over GraphQL.

ADMIN configures partners; a case's agent refers the case (or a task) and sees each referral's
status; the receiving agency's agents accept or reject what arrives. ``receiveReferral`` and
``recordReferralUpdate`` are called by the other agency's casegraph with a partner service token.
Rules live in ``casegraph/services/referrals*.py``, sending in ``casegraph/outbox_dispatcher.py``.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from casegraph.services import partners, referral_outcomes, referrals, referrals_inbound
from casegraph.services.case_changes import ActionResult
from casegraph.services.referral_outbox import ReferralOutcome as OutcomeModel
from casegraph.services.referrals import PartnerUpdate
from casegraph.services.referrals_inbound import IncomingReferral
from models import CaseType as CaseTypeRow
from models import PartnerAgency as PartnerRow
from models import Referral as ReferralRow
from models import ReferralDirection as DirectionModel
from resolvers.pipeline import refusals_as_errors, run_mutation
from resolvers.referrals import referral_of
from schema.context import Info
from schema.payloads import refused
from schema.types.case import Case, CaseEvent
from schema.types.common import UserError
from schema.types.referrals import Referral, ReferralStatus

ReferralOutcome = strawberry.enum(
    OutcomeModel,
    name="ReferralOutcome",
    description=(
        "How a referring case ended: ACCEPTED (it closed), REJECTED (its requester rejected the solution), "
        "WITHDRAWN (it was cancelled)."
    ),
)


@strawberry.type(description="Another agency running casegraph (ADMIN).")
class PartnerAgency:
    id: strawberry.ID
    code: str = strawberry.field(description="Its agency code: its service tokens' agency claim.")
    name: str
    graphql_url: str
    active: bool
    receive_case_type_code: str | None = strawberry.field(description="The type its referrals become here.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    async def from_row(cls, row: PartnerRow) -> PartnerAgency:
        code = None
        if row.receive_case_type_id is not None:
            case_type = await CaseTypeRow.get_or_none(id=row.receive_case_type_id)
            code = case_type.code if case_type else None
        return cls(
            id=strawberry.ID(str(row.id)),
            code=row.code,
            name=row.name,
            graphql_url=row.graphql_url,
            active=row.active,
            receive_case_type_code=code,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.input
class CreatePartnerAgencyInput:
    code: str
    name: str
    graphql_url: str = strawberry.field(
        description="Its /graphql URL (http(s); private addresses refused in production)."
    )
    shared_secret: str | None = strawberry.field(
        default=None, description=("32-128 characters, the same on both sides; omitted: generated and returned once.")
    )
    receive_case_type_code: str | None = None


@strawberry.input
class UpdatePartnerAgencyInput:
    code: str
    name: str | None = None
    graphql_url: str | None = None
    shared_secret: str | None = None
    receive_case_type_code: str | None = None
    active: bool | None = None


@strawberry.input
class ReferCaseInput:
    case_id: strawberry.ID
    partner_code: str
    task_id: strawberry.ID | None = strawberry.field(default=None, description="Refer this open task only.")
    note: str | None = strawberry.field(default=None, description="For the partner (sent to it).")
    expected_version: int | None = None


@strawberry.input
class DecideReferralInput:
    case_id: strawberry.ID = strawberry.field(description="The case received from the partner.")
    reason: str | None = strawberry.field(default=None, description="Required to reject.")
    expected_version: int | None = None


@strawberry.input(description="Sent by a referring agency's casegraph.")
class ReceiveReferralInput:
    referral_id: str
    case_id: str
    case_number: str
    title: str | None = None
    description: str | None = None
    case_type_code: str | None = None
    case_type_name: str | None = None
    impact: int | None = None
    urgency: int | None = None
    task_id: str | None = None
    task_title: str | None = None
    note: str | None = None
    referred_by: str | None = None


@strawberry.input(description="Sent by the partner's casegraph when the case it received changes.")
class ReferralUpdateInput:
    referral_id: str
    sequence: int
    status: ReferralStatus | None  # type: ignore[valid-type]
    case_id: str
    case_number: str
    stage: str
    case_status: str
    occurred_at: datetime
    resolution_code: str | None = None
    resolution_notes: str | None = None
    reason: str | None = None


@strawberry.input(description="Sent by the referring agency's casegraph when the case it referred closes or reopens.")
class ReferralOutcomeInput:
    referral_id: str = strawberry.field(description="The referring agency's referral id (as in receiveReferral).")
    sequence: int = strawberry.field(
        description="The referring event's sequence: later outcomes win, repeats are no-ops."
    )
    outcome: ReferralOutcome  # type: ignore[valid-type]
    case_number: str | None = strawberry.field(default=None, description="The referring case's number.")
    reason: str | None = strawberry.field(default=None, description="Why the solution was rejected (REJECTED).")


@strawberry.type
class PartnerAgencyPayload:
    partner: PartnerAgency | None = None
    shared_secret: str | None = strawberry.field(default=None, description="Only when generated: shown once.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ReferralPayload:
    referral: Referral | None = None
    case: Case | None = None
    event: CaseEvent | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="What the receiving agency answers: its case for the referral.")
class ReceivedReferral:
    referral_id: strawberry.ID
    case_id: strawberry.ID
    case_number: str
    status: ReferralStatus  # type: ignore[valid-type]
    created: bool = strawberry.field(description="False: this referral had arrived before (same case).")


@strawberry.type
class ReceiveReferralPayload:
    referral: ReceivedReferral | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ReferralUpdatePayload:
    applied: bool = strawberry.field(default=False, description="False: this update had been applied before.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="A partner agency cases can be referred to: what agents need to choose one.")
class ReferralPartner:
    code: str
    name: str


@strawberry.type
class ReferralQuery:
    @strawberry.field(description="Active partner agencies a case can be referred to (staff).")
    async def referral_partners(self, info: Info) -> list[ReferralPartner]:
        with refusals_as_errors():
            rows = await partners.referral_partners(actor=info.context.require_actor())
        return [ReferralPartner(code=row.code, name=row.name) for row in rows]

    @strawberry.field(description="Partner agencies with their configuration (ADMIN).")
    async def partner_agencies(self, info: Info) -> list[PartnerAgency]:
        with refusals_as_errors():
            rows = await partners.list_partners(actor=info.context.require_actor())
        return [await PartnerAgency.from_row(row) for row in rows]


@strawberry.type
class ReferralMutation:
    @strawberry.mutation(description="Register a partner agency (ADMIN).")
    async def create_partner_agency(self, info: Info, input: CreatePartnerAgencyInput) -> PartnerAgencyPayload:
        async def payload(created: partners.CreatedPartner) -> PartnerAgencyPayload:
            return PartnerAgencyPayload(
                partner=await PartnerAgency.from_row(created.partner), shared_secret=created.shared_secret
            )

        return await run_mutation(
            info,
            refused=refused(PartnerAgencyPayload),
            call=lambda actor: partners.create_partner(
                actor=actor,
                code=input.code,
                name=input.name,
                graphql_url=input.graphql_url,
                shared_secret=input.shared_secret,
                receive_case_type_code=input.receive_case_type_code,
                allow_private=info.context.webhooks_may_target_private,
                now=info.context.clock(),
            ),
            done=payload,
        )

    @strawberry.mutation(description="Change a partner agency, rotate its secret or pause it (ADMIN).")
    async def update_partner_agency(self, info: Info, input: UpdatePartnerAgencyInput) -> PartnerAgencyPayload:
        async def payload(row: PartnerRow) -> PartnerAgencyPayload:
            return PartnerAgencyPayload(partner=await PartnerAgency.from_row(row))

        return await run_mutation(
            info,
            refused=refused(PartnerAgencyPayload),
            call=lambda actor: partners.update_partner(
                actor=actor,
                code=input.code,
                name=input.name,
                graphql_url=input.graphql_url,
                shared_secret=input.shared_secret,
                receive_case_type_code=input.receive_case_type_code,
                active=input.active,
                allow_private=info.context.webhooks_may_target_private,
                now=info.context.clock(),
            ),
            done=payload,
        )

    @strawberry.mutation(
        description="Refer the case, or one open task of it, to a partner agency (the case's agent or a manager)."
    )
    async def refer_case(self, info: Info, input: ReferCaseInput) -> ReferralPayload:
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

    @strawberry.mutation(description="Send a FAILED referral again.")
    async def retry_referral(self, info: Info, id: strawberry.ID) -> ReferralPayload:
        async def payload(row: ReferralRow) -> ReferralPayload:
            return ReferralPayload(referral=await referral_of(row))

        return await run_mutation(
            info,
            refused=refused(ReferralPayload),
            call=lambda actor: referrals.retry_referral(actor=actor, referral_id=str(id), now=info.context.clock()),
            done=payload,
        )

    @strawberry.mutation(description="Take on a case a partner referred to us (agents of its group).")
    async def accept_referral(self, info: Info, input: DecideReferralInput) -> ReferralPayload:
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

    @strawberry.mutation(description="Decline a case a partner referred to us, with a reason: it is cancelled here.")
    async def reject_referral(self, info: Info, input: DecideReferralInput) -> ReferralPayload:
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

    @strawberry.mutation(
        description="A partner agency's casegraph delivers a referral (partner service token). Idempotent."
    )
    async def receive_referral(self, info: Info, input: ReceiveReferralInput) -> ReceiveReferralPayload:
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

    @strawberry.mutation(
        description="A partner agency's casegraph reports a change of the case it received. Idempotent."
    )
    async def record_referral_update(self, info: Info, input: ReferralUpdateInput) -> ReferralUpdatePayload:
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

    @strawberry.mutation(
        description=(
            "The referring agency's casegraph reports how its case ended (partner service token): the case it "
            "referred here closes with it, or reopens when its requester rejected the solution. Idempotent."
        )
    )
    async def record_referral_outcome(self, info: Info, input: ReferralOutcomeInput) -> ReferralUpdatePayload:
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
