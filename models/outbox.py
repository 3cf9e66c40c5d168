"""The outbox: deliveries to outside systems, written with the change that causes them.

A delivery row is inserted in the transaction that recorded a case event, so a committed event
always has its deliveries and a rolled-back one has none. The dispatcher (casegraph/outbox)
sends them afterwards, retrying with backoff. ``kind`` names the channel: ``webhook`` rows go
to an ``endpoint``; ``referral`` and ``referral_update`` rows go to a ``partner`` agency.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.referral import PartnerAgency, Referral
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
    """One event to send to one endpoint or partner, enqueued once per (destination, kind, event).

    ``next_attempt_at`` is when a dispatcher may next try it. Claiming pushes it forward by a
    lease and bumps ``attempts`` in one conditional UPDATE, so only one dispatcher wins.
    """

    id = fields.UUIDField(primary_key=True)
    kind = fields.CharField(max_length=32, default="webhook")
    endpoint: fields.ForeignKeyNullableRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "models.WebhookEndpoint", related_name="deliveries", null=True, on_delete=fields.CASCADE
    )
    # Referral messages (kind "referral" / "referral_update") go to a partner instead.
    partner: fields.ForeignKeyNullableRelation[PartnerAgency] = fields.ForeignKeyField(
        "models.PartnerAgency", related_name="deliveries", null=True, on_delete=fields.CASCADE
    )
    referral: fields.ForeignKeyNullableRelation[Referral] = fields.ForeignKeyField(
        "models.Referral", related_name="deliveries", null=True, on_delete=fields.CASCADE
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
    partner_id: Any
    referral_id: Any

    class Meta:
        table = "outbox_deliveries"
        unique_together = (("endpoint", "event_sequence"), ("partner", "kind", "event_sequence"))
        indexes = (("endpoint_id", "status"),)
