"""The live-events machinery of one process: the broadcast link and the hub, started together."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from casegraph.events.channel import WakeChannel
from casegraph.events.hub import EventHub
from casegraph.services.records import EventRecord

log = logging.getLogger(__name__)


class LiveEvents:
    """Post-commit publisher and subscription source.

    Publishing wakes this process's hub directly and tells the other processes through the
    broadcast channel; a failed broadcast is logged, not raised: the change is committed and in
    the log, and other processes catch up at their next wake-up, reconnect or poll.
    """

    def __init__(self, broadcast_url: str, *, poll_interval: float = 2.0) -> None:
        self.hub = EventHub(poll_interval=poll_interval)
        self.channel = WakeChannel(broadcast_url, on_message=self.hub.wake, on_reconnect=self.hub.wake)

    async def start(self) -> None:
        await self.hub.start()
        await self.channel.start()

    async def stop(self) -> None:
        await self.channel.stop()
        await self.hub.stop()

    @property
    def healthy(self) -> bool:
        return self.channel.healthy

    async def published(self, events: Sequence[EventRecord]) -> None:
        if not events:
            return
        self.hub.wake()
        last = events[-1]
        message = json.dumps({"case_id": last.case_id, "sequence": last.sequence})
        try:
            await self.channel.publish(message)
        except Exception as error:  # noqa: BLE001 - see the class docstring
            log.warning("broadcast of event %s failed (%s); peers will catch up from the log", last.sequence, error)
