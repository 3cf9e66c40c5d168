"""Partner agencies and the cases handed between us (referrals).

A referral has two rows, one in each agency's database: OUTBOUND where the case was referred
from, INBOUND where it was received. Both carry the referring side's referral id
(``remote_referral_id`` on the INBOUND row), which is what makes receiving idempotent.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.case import Case
    from models.case_type import CaseType
    from models.task import CaseTask
    from models.user import User


class ReferralDirection(StrEnum):
    OUTBOUND = "OUTBOUND"
    INBOUND = "INBOUND"


class ReferralStatus(StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    FAILED = "FAILED"


class PartnerAgency(Model):
    """Another agency running casegraph, configured by an administrator on both sides.

    ``code`` is the partner's agency code: the ``agency`` claim its service tokens carry and the
    value of ``cases.referred_agency`` for cases shared with it. ``shared_secret`` signs the
    short-lived service tokens both ways. ``receive_case_type`` is the type a case referred to us
    by this partner gets.
    """

    id = fields.UUIDField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=200)
    graphql_url = fields.CharField(max_length=2000)
    shared_secret = fields.CharField(max_length=128)
    receive_case_type: fields.ForeignKeyNullableRelation[CaseType] = fields.ForeignKeyField(
        "models.CaseType", related_name="partner_agencies", null=True, on_delete=fields.SET_NULL
    )
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    receive_case_type_id: int | None

    class Meta:
        table = "partner_agencies"


class Referral(Model):
    """One case (or one task of it) handed to a partner: OUTBOUND here, INBOUND at the partner.

    ``remote_*`` columns mirror the other side's case as its updates arrive; ``remote_sequence``
    is the highest partner event applied, so an older update arriving late never rolls the
    mirror back.
    """

    id = fields.UUIDField(primary_key=True)
    direction = fields.CharEnumField(ReferralDirection, max_length=16)
    partner: fields.ForeignKeyRelation[PartnerAgency] = fields.ForeignKeyField(
        "models.PartnerAgency", related_name="referrals", on_delete=fields.RESTRICT
    )
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="referrals", on_delete=fields.CASCADE
    )
    task: fields.ForeignKeyNullableRelation[CaseTask] = fields.ForeignKeyField(
        "models.CaseTask", related_name="referrals", null=True, on_delete=fields.SET_NULL
    )
    remote_referral_id = fields.UUIDField(null=True)
    status = fields.CharEnumField(ReferralStatus, max_length=16, default=ReferralStatus.PENDING)
    note = fields.TextField(null=True)
    reason = fields.TextField(null=True)
    remote_case_id = fields.CharField(max_length=64, null=True)
    remote_case_number = fields.CharField(max_length=32, null=True)
    remote_stage = fields.CharField(max_length=32, null=True)
    remote_status = fields.CharField(max_length=32, null=True)
    remote_resolution_code = fields.CharField(max_length=32, null=True)
    remote_resolution_notes = fields.TextField(null=True)
    remote_sequence = fields.BigIntField(default=0)
    last_error = fields.CharField(max_length=500, null=True)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="referrals", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    delivered_at = fields.DatetimeField(null=True)

    partner_id: Any
    case_id: Any
    task_id: int | None
    created_by_id: str | None

    class Meta:
        table = "referrals"
        unique_together = (("partner", "remote_referral_id"),)
        indexes = (("case_id", "created_at"),)


class ReferralUpdate(Model):
    """A partner's update already applied to an OUTBOUND referral: receiving it again is a no-op."""

    id = fields.IntField(primary_key=True)
    referral: fields.ForeignKeyRelation[Referral] = fields.ForeignKeyField(
        "models.Referral", related_name="updates", on_delete=fields.CASCADE
    )
    sequence = fields.BigIntField()
    payload: fields.Field[dict[str, Any]] = fields.JSONField()
    received_at = fields.DatetimeField()

    referral_id: Any

    class Meta:
        table = "referral_updates"
        unique_together = (("referral", "sequence"),)
