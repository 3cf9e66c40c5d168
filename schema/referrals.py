"""Partner agencies and referrals over GraphQL.

ADMIN configures partners; a case's agent refers the case (or a task) and sees each referral's
status; the receiving agency's agents accept or reject what arrives. ``receiveReferral`` and
``recordReferralUpdate`` are called by the other agency's casegraph with a partner service token.
Resolved by ``resolvers/partner_agencies.py`` and ``resolvers/referral_actions.py``; the types are
``schema/types/referrals.py``. Rules live in ``casegraph/services/referrals*.py``, sending in
``casegraph/outbox_dispatcher.py``.
"""

from __future__ import annotations

import strawberry

from resolvers import partner_agencies, referral_actions
from schema.context import Info
from schema.inputs import (
    CreatePartnerAgencyInput,
    DecideReferralInput,
    ReceiveReferralInput,
    ReferCaseInput,
    ReferralOutcomeInput,
    ReferralUpdateInput,
    UpdatePartnerAgencyInput,
)
from schema.payloads import PartnerAgencyPayload, ReceiveReferralPayload, ReferralPayload, ReferralUpdatePayload
from schema.types.referrals import PartnerAgency, ReferralPartner


@strawberry.type
class ReferralQuery:
    @strawberry.field(description="Active partner agencies a case can be referred to (staff).")
    async def referral_partners(self, info: Info) -> list[ReferralPartner]:
        return await partner_agencies.referral_partners(info)

    @strawberry.field(description="Partner agencies with their configuration (ADMIN).")
    async def partner_agencies(self, info: Info) -> list[PartnerAgency]:
        return await partner_agencies.partner_agencies(info)


@strawberry.type
class ReferralMutation:
    @strawberry.mutation(description="Register a partner agency (ADMIN).")
    async def create_partner_agency(self, info: Info, input: CreatePartnerAgencyInput) -> PartnerAgencyPayload:
        return await partner_agencies.create_partner_agency(info, input)

    @strawberry.mutation(description="Change a partner agency, rotate its secret or pause it (ADMIN).")
    async def update_partner_agency(self, info: Info, input: UpdatePartnerAgencyInput) -> PartnerAgencyPayload:
        return await partner_agencies.update_partner_agency(info, input)

    @strawberry.mutation(
        description="Refer the case, or one open task of it, to a partner agency (the case's agent or a manager)."
    )
    async def refer_case(self, info: Info, input: ReferCaseInput) -> ReferralPayload:
        return await referral_actions.refer_case(info, input)

    @strawberry.mutation(description="Send a FAILED referral again.")
    async def retry_referral(self, info: Info, id: strawberry.ID) -> ReferralPayload:
        return await referral_actions.retry_referral(info, id)

    @strawberry.mutation(description="Take on a case a partner referred to us (agents of its group).")
    async def accept_referral(self, info: Info, input: DecideReferralInput) -> ReferralPayload:
        return await referral_actions.accept_referral(info, input)

    @strawberry.mutation(description="Decline a case a partner referred to us, with a reason: it is cancelled here.")
    async def reject_referral(self, info: Info, input: DecideReferralInput) -> ReferralPayload:
        return await referral_actions.reject_referral(info, input)

    @strawberry.mutation(
        description="A partner agency's casegraph delivers a referral (partner service token). Idempotent."
    )
    async def receive_referral(self, info: Info, input: ReceiveReferralInput) -> ReceiveReferralPayload:
        return await referral_actions.receive_referral(info, input)

    @strawberry.mutation(
        description="A partner agency's casegraph reports a change of the case it received. Idempotent."
    )
    async def record_referral_update(self, info: Info, input: ReferralUpdateInput) -> ReferralUpdatePayload:
        return await referral_actions.record_referral_update(info, input)

    @strawberry.mutation(
        description=(
            "The referring agency's casegraph reports how its case ended (partner service token): the case it "
            "referred here closes with it, or reopens when its requester rejected the solution. Idempotent."
        )
    )
    async def record_referral_outcome(self, info: Info, input: ReferralOutcomeInput) -> ReferralUpdatePayload:
        return await referral_actions.record_referral_outcome(info, input)
