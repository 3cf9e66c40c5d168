"""The post-commit hook: services call ``published`` only after their transaction committed.

The event log stays the truth; the implementation (``casegraph.events.live.LiveEvents``) only
wakes subscribers, with small JSON strings carrying ids (Redis refuses objects, PostgreSQL NOTIFY
caps at 8000 bytes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from casegraph.services.records import EventRecord


class Publisher(Protocol):
    async def published(self, events: Sequence[EventRecord]) -> None: ...


class NullPublisher:
    async def published(self, events: Sequence[EventRecord]) -> None:
        return None
