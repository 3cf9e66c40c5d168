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
    # Routing skips agents marked unavailable, needs all of a case type's skills (NULL: none),
    # and breaks ties in favour of whoever has waited longest since their last assignment.
    available = fields.BooleanField(default=True)
    skills: fields.Field[list[str] | None] = fields.JSONField(null=True)
    last_assigned_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "users"
