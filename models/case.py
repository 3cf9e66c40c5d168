from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from casegraph.domain.enums import CaseStage, CaseStatus, Channel, ResolutionCode, Workflow

if TYPE_CHECKING:
    from models.case_type import CaseType
    from models.group import AssignmentGroup
    from models.user import User


class Case(Model):
    """A constituent's request. ``version`` is bumped by exactly one per recorded event."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    number = fields.CharField(max_length=16, unique=True)
    title = fields.CharField(max_length=200, null=True)
    description = fields.TextField(null=True)
    stage = fields.CharEnumField(CaseStage, max_length=16, db_index=True)
    status = fields.CharEnumField(CaseStatus, max_length=32, db_index=True)
    # The stage/status a case left for AWAITING_INFO, restored by RESUME or the requester's answer.
    remembered_stage = fields.CharEnumField(CaseStage, max_length=16, null=True)
    remembered_status = fields.CharEnumField(CaseStatus, max_length=32, null=True)
    workflow = fields.CharEnumField(Workflow, max_length=32)
    case_type: fields.ForeignKeyNullableRelation[CaseType] = fields.ForeignKeyField(
        "models.CaseType", related_name="cases", null=True, on_delete=fields.RESTRICT
    )
    assignment_group: fields.ForeignKeyNullableRelation[AssignmentGroup] = fields.ForeignKeyField(
        "models.AssignmentGroup", related_name="cases", null=True, on_delete=fields.RESTRICT
    )
    impact = fields.SmallIntField(default=3)
    urgency = fields.SmallIntField(default=3)
    priority = fields.SmallIntField(default=5, db_index=True)
    channel = fields.CharEnumField(Channel, max_length=16, default=Channel.PORTAL)
    requester: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="requested_cases", on_delete=fields.RESTRICT
    )
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="authored_cases", on_delete=fields.RESTRICT
    )
    assigned_to: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="assigned_cases", null=True, on_delete=fields.RESTRICT
    )
    inspector: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="inspected_cases", null=True, on_delete=fields.RESTRICT
    )
    contact_email = fields.CharField(max_length=320, null=True)
    contact_phone = fields.CharField(max_length=40, null=True)
    version = fields.IntField(default=1)
    resolution_code = fields.CharEnumField(ResolutionCode, max_length=32, null=True)
    resolution_notes = fields.TextField(null=True)
    inspection_findings = fields.TextField(null=True)
    cancel_reason = fields.TextField(null=True)
    reopen_count = fields.IntField(default=0)
    solution_accepted = fields.BooleanField(default=False)
    # SLA breach flags the case escalated; auto-close skips cases flagged excluded. A database
    # default is needed for columns added to populated tables (see test_migration_upgrades).
    escalated = fields.BooleanField(default=False, db_default=False)
    auto_close_excluded = fields.BooleanField(default=False, db_default=False)
    # A child case split off a parent; a duplicate points at the case it duplicates.
    parent: fields.ForeignKeyNullableRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    duplicate_of: fields.ForeignKeyNullableRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="duplicates", null=True, on_delete=fields.RESTRICT
    )
    service_definition_code = fields.CharField(max_length=64, null=True)
    latitude = fields.FloatField(null=True)
    longitude = fields.FloatField(null=True)
    # Partner agency a case was referred to (issue 7); PARTNER accounts see only these.
    referred_agency = fields.CharField(max_length=100, null=True, db_index=True)
    submitted_at = fields.DatetimeField(null=True)
    first_opened_at = fields.DatetimeField(null=True)
    resolved_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    deleted_at = fields.DatetimeField(null=True)
    deleted_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="deleted_cases", null=True, on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField(db_index=True)
    updated_at = fields.DatetimeField(db_index=True)

    case_type_id: int | None
    assignment_group_id: int | None
    requester_id: str
    author_id: str
    assigned_to_id: str | None
    inspector_id: str | None
    deleted_by_id: str | None
    parent_id: Any
    duplicate_of_id: Any

    class Meta:
        table = "cases"
        # The visibility filters (group, assignee, requester) and the case tree's lookups.
        indexes = (
            ("assignment_group_id", "updated_at"),
            ("assigned_to_id",),
            ("requester_id",),
            ("parent_id",),
            ("duplicate_of_id",),
        )
