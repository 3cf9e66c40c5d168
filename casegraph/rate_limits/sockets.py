"""Open WebSocket connections per user: a cap on how many are open at once, not on how fast.

Each authenticated connection takes a *lease* at ``connection_init`` and gives it back when it
closes. Over the cap the connection is refused (closed 1013, like the other connection limits).

Where leases live follows the rate-limit store:

- memory: this process only (``serve --workers N`` lets a user hold N times the cap);
- database (``rate_limit_buckets``, one row per open connection) and Redis (a sorted set per
  user): shared by every process. A lease expires ``LEASE_SECONDS`` after it was last renewed;
  each process renews the leases of its open connections every ``RENEW_SECONDS``, so those of
  a process that died are freed within a minute.

Taking a lease adds it first and counts after: two racing connections may both be refused at
the cap, never both admitted past it. A failing store lets connections through (as the rate
limiter does) and does not fail the connection's close.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol

from casegraph.clock import Clock
from casegraph.rate_limits.stores import REDIS_PREFIX, REDIS_TIMEOUT, bucket_key

log = logging.getLogger("casegraph.rate_limits")

LEASE_SECONDS: Final = 60
RENEW_SECONDS: Final = 20.0
RATE_LIMITED: Final = "RATE_LIMITED"


@dataclass(frozen=True)
class TooManySockets:
    """The user already has ``limit`` connections open."""

    limit: int

    @property
    def message(self) -> str:
        return f"Too many open connections: at most {self.limit} per user."

    @property
    def extensions(self) -> dict[str, object]:
        return {"code": RATE_LIMITED, "openConnections": self.limit}


class LeaseStore(Protocol):
    async def take(self, user_key: str, lease: str, limit: int, expires: datetime, now: datetime) -> bool:
        """Add ``lease`` for the user; False (and nothing kept) when that makes more than ``limit``."""
        ...

    async def give_back(self, user_key: str, lease: str) -> None: ...

    async def renew(self, leases: list[tuple[str, str]], expires: datetime) -> None: ...

    async def close(self) -> None: ...


class MemoryLeases:
    """This process's open connections per user (nothing expires: a close always gives back)."""

    shared = False

    def __init__(self) -> None:
        self._open: dict[str, set[str]] = {}

    async def take(self, user_key: str, lease: str, limit: int, expires: datetime, now: datetime) -> bool:
        held = self._open.setdefault(user_key, set())
        if len(held) >= limit:
            return False
        held.add(lease)
        return True

    async def give_back(self, user_key: str, lease: str) -> None:
        held = self._open.get(user_key)
        if held is not None:
            held.discard(lease)
            if not held:
                del self._open[user_key]

    async def renew(self, leases: list[tuple[str, str]], expires: datetime) -> None:
        return None

    async def close(self) -> None:
        self._open.clear()


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class DatabaseLeases:
    """One ``rate_limit_buckets`` row per open connection: ``socket:user:<sub>:<lease>``, whose
    ``expires_at`` is the lease's end (the rate-limit store's sweep deletes expired rows too)."""

    shared = True

    def __init__(self, connection_name: str = "default") -> None:
        self.connection_name = connection_name

    def _placeholders(self, count: int) -> list[str]:
        from tortoise.connection import get_connection

        sqlite = get_connection(self.connection_name).capabilities.dialect == "sqlite"
        return ["?" if sqlite else f"${n}" for n in range(1, count + 1)]

    async def take(self, user_key: str, lease: str, limit: int, expires: datetime, now: datetime) -> bool:
        from tortoise.connection import get_connection

        connection = get_connection(self.connection_name)
        a, b = self._placeholders(2)
        await connection.execute_query(
            f"INSERT INTO rate_limit_buckets (bucket, hits, expires_at) VALUES ({a}, 1, {b})",
            [f"{user_key}:{lease}", expires],
        )
        a, b = self._placeholders(2)
        rows = await connection.execute_query_dict(
            f"SELECT COUNT(*) AS open FROM rate_limit_buckets WHERE bucket LIKE {a} ESCAPE '\\' AND expires_at > {b}",
            [_like_escaped(user_key) + ":%", now],
        )
        if int(rows[0]["open"]) > limit:
            await self.give_back(user_key, lease)
            return False
        return True

    async def give_back(self, user_key: str, lease: str) -> None:
        from tortoise.connection import get_connection

        [a] = self._placeholders(1)
        await get_connection(self.connection_name).execute_query(
            f"DELETE FROM rate_limit_buckets WHERE bucket = {a}", [f"{user_key}:{lease}"]
        )

    async def renew(self, leases: list[tuple[str, str]], expires: datetime) -> None:
        from models import RateLimitBucket

        if leases:
            await RateLimitBucket.filter(bucket__in=[f"{user}:{lease}" for user, lease in leases]).update(
                expires_at=expires
            )

    async def close(self) -> None:
        return None


# Drop expired leases, add this one, count; over the cap take it out again. Redis's own clock
# (TIME) dates the leases, so processes whose clocks disagree still agree on expiry.
_TAKE_SCRIPT: Final = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
redis.call('ZADD', KEYS[1], now_ms + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if redis.call('ZCARD', KEYS[1]) > tonumber(ARGV[3]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
return 1
"""
_RENEW_SCRIPT: Final = """
local now = redis.call('TIME')
local until_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', until_ms, ARGV[i + 1])
  redis.call('PEXPIRE', key, ARGV[1])
end
return 1
"""


class RedisLeases:
    """A sorted set per user on the rate-limit Redis: member the lease, score its end."""

    shared = True

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self._redis = Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT, retry=Retry(NoBackoff(), 0)
        )
        self._take = self._redis.register_script(_TAKE_SCRIPT)
        self._renew = self._redis.register_script(_RENEW_SCRIPT)

    async def take(self, user_key: str, lease: str, limit: int, expires: datetime, now: datetime) -> bool:
        taken = await self._take(keys=[REDIS_PREFIX + user_key], args=[lease, LEASE_SECONDS * 1000, limit])
        return bool(int(taken))

    async def give_back(self, user_key: str, lease: str) -> None:
        await self._redis.zrem(REDIS_PREFIX + user_key, lease)

    async def renew(self, leases: list[tuple[str, str]], expires: datetime) -> None:
        if leases:
            await self._renew(
                keys=[REDIS_PREFIX + user for user, _ in leases],
                args=[LEASE_SECONDS * 1000, *(lease for _, lease in leases)],
            )

    async def close(self) -> None:
        await self._redis.aclose()


class SocketLease:
    """One open connection's place; ``release`` is idempotent."""

    __slots__ = ("_owner", "user_key", "lease")

    def __init__(self, owner: OpenSockets, user_key: str, lease: str) -> None:
        self._owner: OpenSockets | None = owner
        self.user_key = user_key
        self.lease = lease

    async def release(self) -> None:
        owner, self._owner = self._owner, None
        if owner is not None:
            await owner.release(self)


class OpenSockets:
    """The per-user cap on open connections, over one lease store."""

    def __init__(self, limit: int, store: LeaseStore, *, clock: Clock, shared: bool) -> None:
        self.limit = limit
        self.store = store
        self.clock = clock
        self.shared = shared
        self._held: dict[str, SocketLease] = {}
        self._renewer: asyncio.Task[None] | None = None

    @property
    def held(self) -> int:
        """Leases this process holds now."""
        return len(self._held)

    async def open(self, user_id: str) -> SocketLease | TooManySockets | None:
        """A lease for one more connection of ``user_id``, the refusal, or None (store failed: let it in)."""
        user_key = bucket_key("socket:user", user_id)
        lease = SocketLease(self, user_key, uuid.uuid4().hex)
        now = self.clock()
        try:
            taken = await self.store.take(
                user_key, lease.lease, self.limit, now + timedelta(seconds=LEASE_SECONDS), now
            )
        except Exception as error:  # noqa: BLE001 - fail open, as the rate limiter does
            log.warning("open-connection limit NOT enforced: %s: %s", type(error).__name__, error)
            return None
        if not taken:
            return TooManySockets(self.limit)
        self._held[lease.lease] = lease
        if self.shared and self._renewer is None:
            self._renewer = asyncio.ensure_future(self._renew())
        return lease

    async def release(self, lease: SocketLease) -> None:
        self._held.pop(lease.lease, None)
        try:
            await self.store.give_back(lease.user_key, lease.lease)
        except Exception as error:  # noqa: BLE001 - the lease expires by itself
            log.warning("could not give back a connection lease (%s: %s); it expires", type(error).__name__, error)

    async def _renew(self) -> None:
        try:
            while self._held:
                await asyncio.sleep(RENEW_SECONDS)
                leases = [(lease.user_key, lease.lease) for lease in self._held.values()]
                try:
                    await self.store.renew(leases, self.clock() + timedelta(seconds=LEASE_SECONDS))
                except Exception as error:  # noqa: BLE001 - tried again next round
                    log.warning("could not renew connection leases (%s: %s)", type(error).__name__, error)
        finally:
            self._renewer = None

    async def close(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        await self.store.close()
