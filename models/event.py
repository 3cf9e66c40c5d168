from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.manager import Manager
from tortoise.models import Model
from tortoise.queryset import QuerySet

from casegraph._compat.tortoise_models import is_saved
from casegraph.domain.enums import CaseAction, CaseEventType, CaseStage, CaseStatus

if TYPE_CHECKING:
    from models.case import Case
    from models.user import User


class AppendOnlyError(TypeError):
    """Code tried to change or remove a recorded event: the audit log is append-only."""


class _AppendOnlyQuerySet(QuerySet["CaseEvent"]):
    """Reads like any query set; bulk changes and removals raise instead of building SQL."""

    def update(self, **kwargs: Any) -> Any:
        raise AppendOnlyError("case events are append-only: no update")

    def delete(self) -> Any:
        raise AppendOnlyError("case events are append-only: no delete")

    def bulk_update(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("case events are append-only: no update")


class _AppendOnlyManager(Manager):
    def get_queryset(self) -> QuerySet[Any]:
        return _AppendOnlyQuerySet(self._model)


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
    # A fixed description: the generated one lists every value, so each new action would need a
    # migration, and altering this table on SQLite rebuilds it (losing its append-only triggers).
    action = fields.CharEnumField(CaseAction, max_length=32, description="A CaseAction name.")
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
        manager = _AppendOnlyManager()

    async def save(
        self,
        using_db: BaseDBAsyncClient | None = None,
        update_fields: Any = None,
        force_create: bool = False,
        force_update: bool = False,
    ) -> None:
        # Inserting is the only write: PostgreSQL and migrated SQLite databases refuse the rest
        # with a trigger too (migration 0007), this fails earlier and names the mistake.
        if is_saved(self) or update_fields or force_update:
            raise AppendOnlyError("case events are append-only: a recorded event cannot be saved again")
        await super().save(using_db=using_db, force_create=force_create)

    async def delete(self, using_db: BaseDBAsyncClient | None = None) -> None:
        raise AppendOnlyError("case events are append-only: no delete")
