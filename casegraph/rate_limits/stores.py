"""Where hits are counted: this process's memory, the database, or Redis.

Each store answers one question in one round trip: "count a hit on this key; how many hits has
the current window seen, and how long until it ends?" Windows are fixed. The memory and database
stores align them to the clock the runtime hands in (so tests move time with a fake clock); Redis
starts a window at its first hit and ends it by the server's own expiry, so processes whose
clocks disagree still share one window.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

from casegraph.settings import Rate

# Sweep expired counters about this often (clock time), so neither memory nor the table grows
# with every address ever seen.
SWEEP_INTERVAL: Final = timedelta(seconds=60)
# ...and sooner when this many keys pile up in memory within one interval.
MEMORY_SWEEP_SIZE: Final = 50_000
# Identities longer than this are hashed so a bucket name fits its 255-character column.
MAX_IDENTITY: Final = 128


@dataclass(frozen=True)
class Count:
    """Hits in the current window (these included) and whole seconds until it ends (≥ 1)."""

    hits: int
    retry_after: int


class CounterStore(Protocol):
    async def hit(self, key: str, rate: Rate, now: datetime, amount: int = 1) -> Count:
        """Count ``amount`` hits (one operation of several mutation fields is that many)."""
        ...

    async def close(self) -> None: ...


def bucket_key(kind: str, identity: str) -> str:
    """``mutation:user:<sub>``; long identities (token subjects are free text) become a hash."""
    if len(identity) > MAX_IDENTITY:
        identity = "sha256-" + hashlib.sha256(identity.encode()).hexdigest()
    return f"{kind}:{identity}"


def _window(rate: Rate, now: datetime) -> tuple[int, int]:
    """The aligned window holding ``now``: (start, seconds until its end, at least 1)."""
    epoch = now.timestamp()
    start = int(epoch // rate.seconds) * rate.seconds
    return start, max(1, math.ceil(start + rate.seconds - epoch))


class MemoryStore:
    """One process only: ``serve --workers N`` would give each worker its own count."""

    def __init__(self) -> None:
        # key -> (end of its current window, epoch seconds; hits in it)
        self._counts: dict[str, tuple[int, int]] = {}
        self._next_sweep: datetime | None = None

    async def hit(self, key: str, rate: Rate, now: datetime, amount: int = 1) -> Count:
        self._sweep(now)
        start, retry_after = _window(rate, now)
        end = start + rate.seconds
        window_end, hits = self._counts.get(key, (end, 0))
        hits = hits + amount if window_end == end else amount
        self._counts[key] = (end, hits)
        return Count(hits=hits, retry_after=retry_after)

    def _sweep(self, now: datetime) -> None:
        if self._next_sweep is not None and now < self._next_sweep and len(self._counts) < MEMORY_SWEEP_SIZE:
            return
        self._next_sweep = now + SWEEP_INTERVAL
        epoch = now.timestamp()
        self._counts = {key: value for key, value in self._counts.items() if value[0] > epoch}

    def __len__(self) -> int:
        return len(self._counts)

    async def close(self) -> None:
        self._counts.clear()


# One statement, atomic on its own (autocommit, outside the mutation's transaction): SQLite ≥ 3.35
# and PostgreSQL both take ON CONFLICT ... RETURNING.
_UPSERT: Final = (
    "INSERT INTO rate_limit_buckets (bucket, hits, expires_at) VALUES ({0}, {1}, {2}) "
    "ON CONFLICT (bucket) DO UPDATE SET hits = rate_limit_buckets.hits + excluded.hits RETURNING hits"
)


class DatabaseStore:
    """Shared by every process on the database: one row per key and window (``rate_limit_buckets``)."""

    def __init__(self, connection_name: str = "default") -> None:
        self.connection_name = connection_name
        self._next_sweep: datetime | None = None

    async def hit(self, key: str, rate: Rate, now: datetime, amount: int = 1) -> Count:
        from tortoise.connection import get_connection

        connection = get_connection(self.connection_name)
        start, retry_after = _window(rate, now)
        expires_at = datetime.fromtimestamp(start + rate.seconds, UTC)
        placeholders = ("?", "?", "?") if connection.capabilities.dialect == "sqlite" else ("$1", "$2", "$3")
        rows = await connection.execute_query_dict(
            _UPSERT.format(*placeholders), [f"{key}:{start}", amount, expires_at]
        )
        await self._sweep(now)
        return Count(hits=int(rows[0]["hits"]), retry_after=retry_after)

    async def _sweep(self, now: datetime) -> None:
        if self._next_sweep is not None and now < self._next_sweep:
            return
        from models import RateLimitBucket

        self._next_sweep = now + SWEEP_INTERVAL
        await RateLimitBucket.filter(expires_at__lte=now).delete()

    async def close(self) -> None:
        return None


# INCRBY and the expiry in one atomic step: a window starts with its first hit and ends when Redis
# drops the key. A key left without expiry (never, short of a crash between commands elsewhere)
# gets one here rather than counting forever.
_HIT_SCRIPT: Final = """
local hits = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {hits, ttl}
"""

REDIS_PREFIX: Final = "casegraph:rate:"
# A slow or unreachable Redis must not hold requests up: fail fast, the limiter then fails open.
REDIS_TIMEOUT: Final = 0.5


class RedisStore:
    """Shared by every process on one Redis; windows expire on the server."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self.url = url
        self._redis = Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT, retry=Retry(NoBackoff(), 0)
        )
        self._script = self._redis.register_script(_HIT_SCRIPT)

    async def hit(self, key: str, rate: Rate, now: datetime, amount: int = 1) -> Count:
        hits, ttl_ms = await self._script(keys=[REDIS_PREFIX + key], args=[rate.seconds * 1000, amount])
        return Count(hits=int(hits), retry_after=max(1, math.ceil(int(ttl_ms) / 1000)))

    async def close(self) -> None:
        await self._redis.aclose()
