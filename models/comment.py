from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.case import Case
    from models.user import User


class Comment(Model):
    """A public comment: the requester sees it."""

    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="comments", on_delete=fields.RESTRICT
    )
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="comments", on_delete=fields.RESTRICT
    )
    body = fields.TextField()
    event_sequence = fields.BigIntField()
    created_at = fields.DatetimeField()

    case_id: Any
    author_id: str

    class Meta:
        table = "comments"
        indexes = (("case_id",),)


class WorkNote(Model):
    """An internal work note: staff only. A separate table so no forgotten filter can leak one."""

    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="work_notes", on_delete=fields.RESTRICT
    )
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="work_notes", on_delete=fields.RESTRICT
    )
    body = fields.TextField()
    event_sequence = fields.BigIntField()
    created_at = fields.DatetimeField()

    case_id: Any
    author_id: str

    class Meta:
        table = "work_notes"
        indexes = (("case_id",),)
