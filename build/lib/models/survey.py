from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.case import Case
    from models.user import User


class Survey(Model):
    """The requester's satisfaction survey, once per case after ACCEPT_SOLUTION."""

    id = fields.IntField(primary_key=True)
    case: fields.OneToOneRelation[Case] = fields.OneToOneField(
        "models.Case", related_name="survey", on_delete=fields.RESTRICT
    )
    requester: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="surveys", on_delete=fields.RESTRICT
    )
    rating = fields.SmallIntField()
    comment = fields.TextField(null=True)
    submitted_at = fields.DatetimeField()

    case_id: Any
    requester_id: str

    class Meta:
        table = "surveys"
