"""A limit on the connections and operations of one process being set up at once.

At most ``SETUP_CONCURRENCY`` connections or operations per process are being set up at once
(``connection_init``; an operation until its first result, its follower is live, it ends, or
``SETUP_HOLD`` seconds pass), over either protocol. Ten thousand dashboards reconnecting after a
restart then queue for the database instead of all parsing, validating and querying at once:
each setup's transient objects would otherwise be alive at the same moment, and the heap they
grew never returns. A protocol handler that skipped the gate (the legacy one did) would let its
clients past the queue.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Final

SETUP_CONCURRENCY: Final = 32
SETUP_HOLD: Final = 2.0


class SetupGate:
    """The places among the set-ups of one event loop, and how many wait for one."""

    __slots__ = ("_places", "waiting", "__weakref__")

    def __init__(self, places: int = SETUP_CONCURRENCY) -> None:
        self._places = asyncio.Semaphore(places)
        self.waiting = 0

    async def enter(self) -> None:
        self.waiting += 1
        try:
            await self._places.acquire()
        finally:
            self.waiting -= 1

    def leave(self) -> None:
        self._places.release()


_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SetupGate] = weakref.WeakKeyDictionary()


def setup_gate() -> SetupGate:
    """The running loop's gate (one per process under ``casegraph serve``)."""
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = SetupGate()
    return gate


class SetupSlot:
    """A place among the operations being set up; released once, by whichever comes first."""

    __slots__ = ("_gate", "_timer")

    def __init__(self) -> None:
        self._gate: SetupGate | None = setup_gate()
        self._timer: asyncio.TimerHandle | None = None

    async def acquire(self) -> None:
        assert self._gate is not None
        await self._gate.enter()
        # A subscription with nothing to say yet must not keep its place.
        self._timer = asyncio.get_running_loop().call_later(SETUP_HOLD, self.release)

    def release(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
            gate, self._gate = self._gate, None
            assert gate is not None
            gate.leave()
