from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class User(Model):
    """A person or service account, keyed by the identity provider's stable ``sub``."""

    id = fields.CharField(max_length=255, primary_key=True)
    name = fields.CharField(max_length=200, null=True)
    email = fields.CharField(max_length=320, null=True, db_index=True)
    roles: fields.Field[list[str]] = fields.JSONField(default=list)
    agency = fields.CharField(max_length=100, null=True)
    # Routing (issue 4) skips agents marked unavailable.
    available = fields.BooleanField(default=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "users"
