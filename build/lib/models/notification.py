from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.case import Case
    from models.user import User


class Notification(Model):
    """Something a person is told about a case (an SLA warning, an escalation, a mention).

    Written in the same transaction as the event that caused it (``event_sequence``).
    """

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="notifications", on_delete=fields.RESTRICT
    )
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="notifications", on_delete=fields.RESTRICT
    )
    kind = fields.CharField(max_length=32)
    text = fields.TextField()
    event_sequence = fields.BigIntField(null=True)
    created_at = fields.DatetimeField(db_index=True)
    read_at = fields.DatetimeField(null=True)

    user_id: str
    case_id: Any

    class Meta:
        table = "notifications"
        indexes = (("user_id", "read_at"),)
