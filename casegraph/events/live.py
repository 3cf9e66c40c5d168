"""The live-events machinery of one process: the broadcast link and the hub, started together."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from typing import Any

from casegraph.events.access import AccessBoard
from casegraph.events.channel import WakeChannel
from casegraph.events.hub import EventHub
from casegraph.events.presence import SWEEP, PresenceBoard
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
        self.presence = PresenceBoard()
        self.access = AccessBoard()
        self.channel = WakeChannel(broadcast_url, on_message=self._received, on_reconnect=self.hub.wake)
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.hub.start()
        await self.channel.start()
        self._sweeper = asyncio.create_task(self._sweep(), name="casegraph-presence-sweeper")
        self.access.start()

    async def stop(self) -> None:
        await self.access.stop()
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await self.channel.stop()
        await self.hub.stop()

    async def announce(self, presence: dict[str, Any]) -> None:
        """Presence goes on this process's board at once and to the others over the channel."""
        self.presence.apply(presence)
        try:
            await self.channel.publish(json.dumps({"presence": presence}))
        except Exception as error:  # noqa: BLE001 - soft state: the next heartbeat repairs it
            log.debug("presence broadcast failed: %s", error)

    async def access_changed(self, user_id: str) -> None:
        """A membership of ``user_id`` changed (committed): sockets here and elsewhere re-authorize."""
        self.access.changed(user_id)
        try:
            await self.channel.publish(json.dumps({"access": user_id}))
        except Exception as error:  # noqa: BLE001 - the other processes' recheck catches up
            log.warning("broadcast of a membership change failed (%s); peers recheck within seconds", error)

    async def session_ended(self, session: str) -> None:
        """A browser session ended (committed): sockets opened with its tokens close, here and elsewhere."""
        self.access.session_ended(session)
        try:
            await self.channel.publish(json.dumps({"session": session}))
        except Exception as error:  # noqa: BLE001 - the other processes' recheck catches up
            log.warning("broadcast of an ended session failed (%s); peers recheck within seconds", error)

    def _received(self, message: str) -> None:
        try:
            decoded = json.loads(message)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict) and isinstance(decoded.get("presence"), dict):
            self.presence.apply(decoded["presence"])  # our own echo is harmless: same entry
        elif isinstance(decoded, dict) and isinstance(decoded.get("access"), str):
            self.access.changed(decoded["access"])  # our own echo costs one more read
        elif isinstance(decoded, dict) and isinstance(decoded.get("session"), str):
            self.access.session_ended(decoded["session"])  # our own echo finds nothing left to close
        else:
            self.hub.wake()

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP)
            self.presence.sweep()

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
