"""Times in a report filter (``analytics``, ``surveyResults``), read one way: a time sent without an
offset means UTC, so the same filter selects the same rows whatever the server's zone."""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(value: datetime | None) -> datetime | None:
    """A time without an offset is taken as UTC; one with an offset is kept as sent."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
