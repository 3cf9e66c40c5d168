from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.case import Case
    from models.case_type import CaseType


class CaseTemplate(Model):
    """Pre-fills a new case of its case type and names the fields it requires at submission."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200)
    case_type: fields.ForeignKeyRelation[CaseType] = fields.ForeignKeyField(
        "models.CaseType", related_name="templates", on_delete=fields.RESTRICT
    )
    title = fields.CharField(max_length=200, null=True)
    description = fields.TextField(null=True)
    impact = fields.SmallIntField(null=True)
    urgency = fields.SmallIntField(null=True)
    # CaseField names (casegraph.domain.intake), in declaration order.
    required_fields: fields.Field[list[str]] = fields.JSONField(default=list)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    case_type_id: int

    class Meta:
        table = "case_templates"


class ServiceDefinition(Model):
    """A service offered to the public ("Report a pothole"): files a case of its case type."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200)
    description = fields.TextField(null=True)
    case_type: fields.ForeignKeyRelation[CaseType] = fields.ForeignKeyField(
        "models.CaseType", related_name="service_definitions", on_delete=fields.RESTRICT
    )
    template: fields.ForeignKeyNullableRelation[CaseTemplate] = fields.ForeignKeyField(
        "models.CaseTemplate", related_name="service_definitions", null=True, on_delete=fields.RESTRICT
    )
    # Public: offered on the constituent portal; otherwise only staff file under it.
    public = fields.BooleanField(default=True)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    case_type_id: int
    template_id: int | None

    class Meta:
        table = "service_definitions"


class CaseTypeRequirement(Model):
    """The fields every case of a case type must have when it is submitted."""

    id = fields.IntField(primary_key=True)
    case_type: fields.OneToOneRelation[CaseType] = fields.OneToOneField(
        "models.CaseType", related_name="requirement", on_delete=fields.RESTRICT
    )
    required_fields: fields.Field[list[str]] = fields.JSONField(default=list)
    updated_at = fields.DatetimeField()

    case_type_id: int

    class Meta:
        table = "case_type_requirements"


class CaseIntake(Model):
    """The template a case was filed from (its required fields apply when the case is submitted)."""

    id = fields.IntField(primary_key=True)
    case: fields.OneToOneRelation[Case] = fields.OneToOneField(
        "models.Case", related_name="intake", on_delete=fields.RESTRICT
    )
    template: fields.ForeignKeyRelation[CaseTemplate] = fields.ForeignKeyField(
        "models.CaseTemplate", related_name="cases", on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField()

    case_id: Any
    template_id: int

    class Meta:
        table = "case_intakes"
