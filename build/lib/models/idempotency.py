from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class IdempotencyRecord(Model):
    """The first completed response to a (user, key), kept 24 hours (api.md, Idempotency).

    ``response`` is NULL while the first request is still running, and repeats wait for it.
    """

    id = fields.IntField(primary_key=True)
    user_id = fields.CharField(max_length=255)
    key = fields.CharField(max_length=255)
    operation = fields.CharField(max_length=64)
    input_hash = fields.CharField(max_length=64)
    response: fields.Field[dict[str, Any] | None] = fields.JSONField(null=True)
    created_at = fields.DatetimeField(db_index=True)
    completed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "idempotency_records"
        unique_together = (("user_id", "key"),)
