"""Tables that protect the public endpoint: rate-limit counters and registered operations."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class RateLimitBucket(Model):
    """Hits in one fixed window for one key (e.g. ``mutation:user:<sub>:<window start>``).

    Shared by every server process when the database backs the limiter. Rows past ``expires_at``
    are garbage and are swept.
    """

    bucket = fields.CharField(max_length=255, primary_key=True)
    hits = fields.IntField()
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "rate_limit_buckets"


class PersistedQuery(Model):
    """An operation registered for the allow-list, by the SHA-256 of its text (APQ's hash)."""

    sha256 = fields.CharField(max_length=64, primary_key=True)
    document = fields.TextField()
    name = fields.CharField(max_length=200, null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "persisted_queries"
