"""The outbox: deliveries to outside systems, written with the change that causes them.

A delivery row is inserted in the transaction that recorded a case event, so a committed event
always has its deliveries and a rolled-back one has none. The dispatcher (casegraph/outbox)
sends them afterwards, retrying with backoff. ``kind`` names the channel (webhook today,
partner referrals later) and ``endpoint`` the registered destination.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.user import User


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


class WebhookEndpoint(Model):
    """A URL an administrator registered to receive case events, signed with its own secret.

    ``event_types`` and ``case_type_codes`` filter what it gets: an empty list matches all.
    """

    id = fields.UUIDField(primary_key=True)
    url = fields.CharField(max_length=2000)
    secret = fields.CharField(max_length=128)
    event_types: fields.Field[list[str]] = fields.JSONField(default=list)
    case_type_codes: fields.Field[list[str]] = fields.JSONField(default=list)
    active = fields.BooleanField(default=True)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="webhook_endpoints", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField()

    created_by_id: str | None

    class Meta:
        table = "webhook_endpoints"


class OutboxDelivery(Model):
    """One event to send to one endpoint. Unique per (endpoint, event): enqueued once.

    ``next_attempt_at`` is when a dispatcher may next try it. Claiming pushes it forward by a
    lease and bumps ``attempts`` in one conditional UPDATE, so only one dispatcher wins.
    """

    id = fields.UUIDField(primary_key=True)
    kind = fields.CharField(max_length=32, default="webhook")
    endpoint: fields.ForeignKeyRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "models.WebhookEndpoint", related_name="deliveries", on_delete=fields.CASCADE
    )
    event_sequence = fields.BigIntField()
    event_type = fields.CharField(max_length=32)
    payload: fields.Field[dict[str, Any]] = fields.JSONField()
    status = fields.CharEnumField(DeliveryStatus, max_length=16, default=DeliveryStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    last_status_code = fields.IntField(null=True)
    last_error = fields.CharField(max_length=500, null=True)
    last_attempt_at = fields.DatetimeField(null=True)
    delivered_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    endpoint_id: Any

    class Meta:
        table = "outbox_deliveries"
        unique_together = (("endpoint", "event_sequence"),)
        indexes = (("endpoint_id", "status"),)
