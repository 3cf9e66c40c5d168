"""Referrals of a case to and from partner agencies, as this side sees them."""

from __future__ import annotations

from datetime import datetime

import strawberry

from casegraph.services.referral_outbox import ReferralOutcome as OutcomeModel
from models import CaseType as CaseTypeRow
from models import PartnerAgency as PartnerRow
from models import Referral as ReferralRow
from models import ReferralDirection as DirectionModel
from models import ReferralStatus as StatusModel

ReferralStatus = strawberry.enum(
    StatusModel,
    name="ReferralStatus",
    description=(
        "PENDING: not yet delivered (retrying). DELIVERED: the partner has it. ACCEPTED / REJECTED: the "
        "partner's decision. FAILED: the partner refused it or could not be reached after every retry."
    ),
)
ReferralDirection = strawberry.enum(DirectionModel, name="ReferralDirection")
ReferralOutcome = strawberry.enum(
    OutcomeModel,
    name="ReferralOutcome",
    description=(
        "How a referring case ended: ACCEPTED (it closed), REJECTED (its requester rejected the solution), "
        "WITHDRAWN (it was cancelled)."
    ),
)


@strawberry.type(description="A case (or one task of it) handed between agencies, as this side sees it.")
class Referral:
    id: strawberry.ID
    direction: ReferralDirection  # type: ignore[valid-type]
    status: ReferralStatus  # type: ignore[valid-type]
    partner_code: str
    partner_name: str
    case_id: strawberry.ID = strawberry.field(description="The case here: referred (OUTBOUND) or received (INBOUND).")
    task_id: strawberry.ID | None
    note: str | None
    reason: str | None = strawberry.field(description="Why the partner rejected it.")
    remote_case_id: str | None = strawberry.field(description="The case at the partner (OUTBOUND) or referring agency.")
    remote_case_number: str | None
    remote_stage: str | None = strawberry.field(description="The partner's case, as of its last update.")
    remote_status: str | None
    remote_resolution_code: str | None
    remote_resolution_notes: str | None
    last_error: str | None = strawberry.field(description="Why the last delivery attempt failed.")
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None

    @classmethod
    def from_row(cls, row: ReferralRow, partner: PartnerRow) -> Referral:
        return cls(
            id=strawberry.ID(str(row.id)),
            direction=row.direction,
            status=row.status,
            partner_code=partner.code,
            partner_name=partner.name,
            case_id=strawberry.ID(str(row.case_id)),
            task_id=strawberry.ID(str(row.task_id)) if row.task_id is not None else None,
            note=row.note,
            reason=row.reason,
            remote_case_id=row.remote_case_id,
            remote_case_number=row.remote_case_number,
            remote_stage=row.remote_stage,
            remote_status=row.remote_status,
            remote_resolution_code=row.remote_resolution_code,
            remote_resolution_notes=row.remote_resolution_notes,
            last_error=row.last_error,
            created_at=row.created_at,
            updated_at=row.updated_at,
            delivered_at=row.delivered_at,
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


@strawberry.type(description="What the receiving agency answers: its case for the referral.")
class ReceivedReferral:
    referral_id: strawberry.ID
    case_id: strawberry.ID
    case_number: str
    status: ReferralStatus  # type: ignore[valid-type]
    created: bool = strawberry.field(description="False: this referral had arrived before (same case).")


@strawberry.type(description="A partner agency cases can be referred to: what agents need to choose one.")
class ReferralPartner:
    code: str
    name: str
