"""The post-commit hook: tell subscribers that events exist. The event log stays the truth.

Messages are small JSON strings (Redis refuses objects; PostgreSQL NOTIFY caps at 8000 bytes),
carrying only ids; subscribers read the events themselves from the log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Protocol

from casegraph.services.records import EventRecord

log = logging.getLogger(__name__)

ALL_CASES_CHANNEL = "cases"


def case_channel(case_id: str) -> str:
    return f"case:{case_id}"


class BroadcastLike(Protocol):
    async def publish(self, channel: str, message: str) -> None: ...


class Publisher(Protocol):
    async def published(self, events: Sequence[EventRecord]) -> None: ...


class NullPublisher:
    async def published(self, events: Sequence[EventRecord]) -> None:
        return None


class BroadcastPublisher:
    """Publishes to ``case:{id}`` and ``cases`` after commit.

    A failed publish is logged, not raised: the change is committed and the log has it, so a
    subscriber catches up at its next wake-up or reconnect; failing the mutation would lie.
    """

    def __init__(self, broadcast: BroadcastLike) -> None:
        self._broadcast = broadcast

    async def published(self, events: Sequence[EventRecord]) -> None:
        for event in events:
            message = json.dumps({"case_id": event.case_id, "sequence": event.sequence})
            try:
                await self._broadcast.publish(case_channel(event.case_id), message)
                await self._broadcast.publish(ALL_CASES_CHANNEL, message)
            except Exception:  # noqa: BLE001 - see the class docstring
                log.warning("broadcast publish failed for event %s", event.sequence, exc_info=True)
