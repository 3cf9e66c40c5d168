from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from casegraph.domain.enums import CaseAction, CaseEventType, CaseStage, CaseStatus

if TYPE_CHECKING:
    from models.case import Case
    from models.user import User


class CaseEvent(Model):
    """One recorded change. The history of a case and the log that feeds subscriptions are one table.

    ``sequence`` is the primary key, allocated from the ``event_sequence`` counter inside the
    writing transaction. The application never updates or deletes these rows.
    """

    sequence = fields.BigIntField(primary_key=True, generated=False)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="events", on_delete=fields.RESTRICT
    )
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="events", null=True, on_delete=fields.RESTRICT
    )
    type = fields.CharEnumField(CaseEventType, max_length=32)
    action = fields.CharEnumField(CaseAction, max_length=32)
    from_stage = fields.CharEnumField(CaseStage, max_length=16, null=True)
    from_status = fields.CharEnumField(CaseStatus, max_length=32, null=True)
    to_stage = fields.CharEnumField(CaseStage, max_length=16)
    to_status = fields.CharEnumField(CaseStatus, max_length=32)
    version = fields.IntField()
    summary: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    request_id = fields.CharField(max_length=64, null=True)
    occurred_at = fields.DatetimeField()

    case_id: Any
    actor_id: str | None

    class Meta:
        table = "case_events"
        indexes = (("case_id", "sequence"),)
