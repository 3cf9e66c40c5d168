"""The process's one link to the broadcast server, kept alive by a supervisor.

broadcaster 0.3.1 has three faults with Redis (shared/design/stack.md) and we work around each:
- its Redis backend signals "ready" before SUBSCRIBE completes, so with redis-py 8 the listener
  can exit for good: the fixed backend (``casegraph._compat.broadcaster_backends``) signals
  ready only after SUBSCRIBE returns;
- concurrent first subscribers to a channel overwrite each other: this process holds exactly one
  subscription (to ``cases``) and fans out in-process (see ``hub.py``);
- it never reconnects, and a dead listener just hangs its subscribers: the supervisor probes the
  backend, and on failure reconnects with backoff and wakes the hub, which catches up from the
  event log, so nothing is lost while the server was away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urlparse

from broadcaster import Broadcast

from casegraph._compat import broadcaster_backends as backends

log = logging.getLogger(__name__)

CHANNEL: Final = "cases"
PROBE_INTERVAL: Final = 0.5
PROBE_TIMEOUT: Final = 2.0
MAX_BACKOFF: Final = 5.0


class WakeChannel:
    """Publishes wake-up messages and calls ``on_message`` for every one received.

    ``on_reconnect`` runs each time the subscription is (re)established, so the hub can catch up
    on whatever was published while the link was down.
    """

    def __init__(
        self,
        url: str,
        *,
        on_message: Callable[[str], None],
        on_reconnect: Callable[[], None],
        probe_interval: float = PROBE_INTERVAL,
    ) -> None:
        self._url = url
        self._on_message = on_message
        self._on_reconnect = on_reconnect
        self._probe_interval = probe_interval
        self._broadcast: Broadcast | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self.healthy = False
        self.reconnects = 0

    async def start(self, *, wait: float = 5.0) -> None:
        """Start the supervisor; waits up to ``wait`` seconds for the first connection."""
        self._supervisor = asyncio.create_task(self._supervise(), name="casegraph-broadcast-supervisor")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), wait)

    async def stop(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        self.healthy = False

    async def publish(self, message: str) -> None:
        broadcast = self._broadcast
        if broadcast is None or not self.healthy:
            raise ConnectionError("broadcast channel is down")
        try:
            await asyncio.wait_for(broadcast.publish(CHANNEL, message), PROBE_TIMEOUT)
        except Exception:
            self.healthy = False  # the supervisor notices too, and reconnects
            raise

    async def _supervise(self) -> None:
        backoff = 0.1
        while True:
            try:
                await self._session()
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - log, back off, retry forever
                if self.healthy or self.reconnects == 0:
                    log.warning("broadcast channel %s lost: %s", _redact(self._url), error)
            self.healthy = False
            self._connected.clear()
            # Counted before the pause: whoever sees the count then sees no attempt in progress.
            self.reconnects += 1
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)

    async def _session(self) -> None:
        backend = backends.make_backend(self._url)
        broadcast = Broadcast(backend=backend)
        try:
            # Inside the try: a refused connect has already started the backend's listener task,
            # and the finally below must close it, or every failed retry leaks one.
            await broadcast.connect()
            async with broadcast.subscribe(CHANNEL) as subscriber:
                self._broadcast = broadcast
                self.healthy = True
                self._connected.set()
                if self.reconnects:
                    log.info("broadcast channel %s reconnected", _redact(self._url))
                self._on_reconnect()
                reader = asyncio.create_task(self._read(subscriber))
                try:
                    while not reader.done():
                        await asyncio.wait({reader}, timeout=self._probe_interval)
                        if not reader.done() and not (self.healthy and await backends.healthy(backend, PROBE_TIMEOUT)):
                            raise ConnectionError("broadcast backend stopped answering")
                    reader.result()
                    raise ConnectionError("broadcast subscription ended")
                finally:
                    reader.cancel()
                    with contextlib.suppress(BaseException):
                        await reader
        finally:
            self._broadcast = None
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(backends.disconnect(broadcast), PROBE_TIMEOUT)

    async def _read(self, subscriber: Any) -> None:
        while True:
            event = await subscriber.get()
            self._on_message(event.message)


def _redact(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url
