# Follows upstream: broadcaster 0.3.1, broadcaster/_backends/redis.py
# Follows upstream: broadcaster 0.3.1, broadcaster/_backends/postgres.py
# Follows upstream: broadcaster 0.3.1, broadcaster/_backends/memory.py
# Follows upstream: broadcaster 0.3.1, broadcaster/_base.py
"""broadcaster's backends, fixed and made probe-able (their module is private: ``_backends``).

broadcaster 0.3.1 has faults with Redis (shared/design/stack.md) that only its internals can fix:
- its Redis backend signals "ready" before SUBSCRIBE completes, so with redis-py 8 the listener
  can exit for good: ``FixedRedisBackend`` signals ready only after SUBSCRIBE returns;
- nothing says whether a backend still works: each backend here answers ``healthy(timeout)``,
  which the supervisor in ``casegraph.events.channel`` polls;
- ``Broadcast.disconnect`` re-raises a dead listener's error before closing the backend:
  ``disconnect`` closes it regardless.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlparse

from broadcaster import Broadcast
from broadcaster._backends.base import BroadcastBackend
from broadcaster._backends.memory import MemoryBackend
from broadcaster._backends.postgres import PostgresBackend
from broadcaster._backends.redis import RedisBackend

__all__ = ["BroadcastBackend", "disconnect", "healthy", "make_backend"]


class FixedRedisBackend(RedisBackend):
    """Ready only once SUBSCRIBE has completed (redis-py 8 registers channels after its await)."""

    async def subscribe(self, channel: str) -> None:
        await self._pubsub.subscribe(channel)
        self._ready.set()

    async def disconnect(self) -> None:
        # Cancel first: closing a client that never connected may raise before the stock
        # disconnect gets to its own cancel.
        if self._listener is not None:
            self._listener.cancel()
        await super().disconnect()

    async def healthy(self, timeout: float) -> bool:
        if self._listener is None or self._listener.done():
            return False
        try:
            await asyncio.wait_for(self._conn.ping(), timeout)
        except Exception:  # noqa: BLE001 - any failure means reconnect
            return False
        return True


class CheckedPostgresBackend(PostgresBackend):
    """LISTEN/NOTIFY on one asyncpg connection; a closed connection is a dead channel."""

    async def healthy(self, timeout: float) -> bool:
        connection = getattr(self, "_conn", None)
        return connection is not None and not connection.is_closed()


class CheckedMemoryBackend(MemoryBackend):
    async def healthy(self, timeout: float) -> bool:
        return True


def make_backend(url: str) -> BroadcastBackend:
    scheme = urlparse(url).scheme
    if scheme in ("redis", "rediss"):
        return FixedRedisBackend(url)
    if scheme in ("postgres", "postgresql"):
        return CheckedPostgresBackend(url.replace("postgres://", "postgresql://", 1))
    if scheme == "memory":
        return CheckedMemoryBackend(url)
    raise ValueError(f"Unsupported broadcast URL scheme {scheme!r}: use memory://, redis:// or postgres://")


async def healthy(backend: BroadcastBackend, timeout: float) -> bool:
    probe = getattr(backend, "healthy", None)
    return True if probe is None else bool(await probe(timeout))


async def disconnect(broadcast: Broadcast) -> None:
    """Close the backend even when the listener died (``Broadcast.disconnect`` would re-raise)."""
    task = getattr(broadcast, "_listener_task", None)
    if task is not None and not task.done():
        task.cancel()
    await broadcast._backend.disconnect()
