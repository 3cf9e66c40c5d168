# Follows upstream: asyncpg 0.32.0, asyncpg/pool.py
# Follows upstream: tortoise-orm 1.1.9, tortoise/backends/asyncpg/client.py
"""A PostgreSQL connection pool that serves waiting requests in arrival order.

asyncpg's pool keeps idle connections in an ``asyncio.Queue``. A released connection wakes the
longest waiter, but only wakes it: any task that asks before the waiter runs takes the connection
(a new request, or a request going for its next statement), and the waiter, finding the queue
empty, queues again at the back. Under load some requests lose that race over and over. With 32
clients on a 5-connection pool the queue query's p99 was 3.5× its median, against 1.3× with no
waiting for connections at all (bench/queue.py, README *Performance*).

Here a released connection is handed to the longest waiter directly, and nobody takes an idle
connection while others wait: first come, first served. Tortoise is pointed at this module as its
engine (``casegraph.db``); everything else is Tortoise's asyncpg client and asyncpg's pool.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any, cast

import asyncpg
from asyncpg.pool import PoolConnectionHolder, _PoolConnectionHolderQueue
from tortoise.backends.asyncpg.client import AsyncpgDBClient


class FairHolderQueue(_PoolConnectionHolderQueue):  # type: ignore[misc]  # asyncpg has no types
    """asyncpg's idle-connection queue, first come first served (the module docstring says why)."""

    _getters: collections.deque[asyncio.Future[Any]]

    @classmethod
    def taking_over(cls, queue: _PoolConnectionHolderQueue) -> FairHolderQueue:
        fair = cls(maxsize=queue.maxsize)
        # The same idle connections in the same order (a LIFO queue's list: the last goes first).
        fair._queue.extend(queue._queue)
        return fair

    def _has_waiters(self) -> bool:
        return any(not waiter.done() for waiter in self._getters)

    async def get(self) -> PoolConnectionHolder:
        if not self.empty() and not self._has_waiters():
            return cast(PoolConnectionHolder, self.get_nowait())
        waiter: asyncio.Future[PoolConnectionHolder] = asyncio.get_running_loop().create_future()
        self._getters.append(waiter)
        try:
            return await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                # Handed a connection, then cancelled before running: pass it on.
                self.put_nowait(waiter.result())
            else:
                waiter.cancel()
                try:
                    self._getters.remove(waiter)
                except ValueError:
                    pass
            raise

    def put_nowait(self, item: PoolConnectionHolder) -> None:
        while self._getters:
            waiter = self._getters.popleft()
            if not waiter.done():
                waiter.set_result(item)
                return
        super().put_nowait(item)


class FairPool(asyncpg.Pool):  # type: ignore[misc]  # asyncpg has no types
    """asyncpg's pool with ``FairHolderQueue``; created by ``asyncpg.create_pool`` and re-classed
    before it initializes (same slots), so every pool option keeps asyncpg's meaning."""

    __slots__ = ()

    async def _initialize(self) -> None:
        await super()._initialize()
        self._queue = FairHolderQueue.taking_over(self._queue)  # type: ignore[misc,has-type]


class FairAsyncpgDBClient(AsyncpgDBClient):
    async def create_pool(self, **kwargs: Any) -> asyncpg.Pool:
        pool = asyncpg.create_pool(None, **kwargs)
        pool.__class__ = FairPool
        return await pool


# Read by Tortoise when a connection's "engine" names this module.
client_class = FairAsyncpgDBClient
