"""Partner agencies: those a case can be referred to (staff), and their configuration (ADMIN).
The rules live in ``casegraph/services/partners.py``."""

from __future__ import annotations

from casegraph.services import partners
from models import PartnerAgency as PartnerRow
from resolvers.pipeline import refusals_as_errors, run_mutation
from schema.context import Info
from schema.inputs import CreatePartnerAgencyInput, UpdatePartnerAgencyInput
from schema.payloads import PartnerAgencyPayload, refused
from schema.types.referrals import PartnerAgency, ReferralPartner


async def referral_partners(info: Info) -> list[ReferralPartner]:
    with refusals_as_errors():
        rows = await partners.referral_partners(actor=info.context.require_actor())
    return [ReferralPartner(code=row.code, name=row.name) for row in rows]


async def partner_agencies(info: Info) -> list[PartnerAgency]:
    with refusals_as_errors():
        rows = await partners.list_partners(actor=info.context.require_actor())
    return [await PartnerAgency.from_row(row) for row in rows]


async def create_partner_agency(info: Info, input: CreatePartnerAgencyInput) -> PartnerAgencyPayload:
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


async def update_partner_agency(info: Info, input: UpdatePartnerAgencyInput) -> PartnerAgencyPayload:
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
