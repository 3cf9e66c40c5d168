"""Who is refused, and for how long: the configured rates applied to counters in a store."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from starlette.requests import HTTPConnection

from casegraph.client_address import client_address
from casegraph.clock import Clock
from casegraph.rate_limits.sockets import DatabaseLeases, LeaseStore, MemoryLeases, OpenSockets, RedisLeases
from casegraph.rate_limits.stores import CounterStore, DatabaseStore, MemoryStore, RedisStore, bucket_key
from casegraph.settings import Rate, RateLimits, Settings

log = logging.getLogger("casegraph.rate_limits")

RATE_LIMITED: Final = "RATE_LIMITED"
# A failing store is reported at most this often (seconds), not once per request.
WARN_INTERVAL: Final = 60.0
# After a failure the store is left alone this long (seconds): requests pass without waiting
# for a timeout each, and the store gets time to come back.
BACKEND_PAUSE: Final = 5.0
POSTGRES_SCHEMES: Final = ("postgres://", "postgresql://", "asyncpg://", "psycopg://")
REDIS_SCHEMES: Final = ("redis://", "rediss://")


@dataclass(frozen=True)
class Refusal:
    """Over a limit: ``what`` ("mutations", "connections") may be tried again in ``retry_after`` s."""

    what: str
    retry_after: int

    @property
    def message(self) -> str:
        return f"Too many {self.what}: retry after {self.retry_after} s."

    @property
    def extensions(self) -> dict[str, object]:
        return {"code": RATE_LIMITED, "retryAfter": self.retry_after}


class RateLimiter:
    """Counts mutations and WebSocket connections per user and per client address.

    When the store fails the limiter fails open: availability matters more than limiting, and
    the warning in the log says limits are not being enforced.
    """

    def __init__(
        self,
        limits: RateLimits,
        store: CounterStore | None,
        *,
        clock: Clock,
        backend_pause: float = BACKEND_PAUSE,
        sockets: OpenSockets | None = None,
    ) -> None:
        self.limits = limits
        self.store = store
        # Open WebSocket connections per user (None: not capped).
        self.sockets = sockets
        self.clock = clock
        self.backend_pause = backend_pause
        self._paused_until = 0.0
        self._warned_at: float | None = None

    @property
    def counts_mutations(self) -> bool:
        return self.store is not None and (
            self.limits.mutations_per_user is not None or self.limits.mutations_per_ip is not None
        )

    def address(self, connection: HTTPConnection) -> str:
        """The client's address (behind a trusted proxy, the one it forwarded: casegraph.client_address)."""
        return client_address(connection.client)

    async def mutation(self, *, user_id: str | None, address: str | None, fields: int = 1) -> Refusal | None:
        """Count the ``fields`` mutation fields of one operation; unauthenticated ones only per address."""
        return await self._count(
            "mutations",
            [
                (bucket_key("mutation:user", user_id) if user_id is not None else None, self.limits.mutations_per_user),
                (bucket_key("mutation:ip", address) if address is not None else None, self.limits.mutations_per_ip),
            ],
            amount=fields,
        )

    async def connection_from(self, address: str) -> Refusal | None:
        """Count one WebSocket handshake from ``address``."""
        return await self._count(
            "connections", [(bucket_key("connection:ip", address), self.limits.connections_per_ip)]
        )

    async def connection_by(self, user_id: str) -> Refusal | None:
        """Count one authenticated WebSocket connection of ``user_id``."""
        return await self._count(
            "connections", [(bucket_key("connection:user", user_id), self.limits.connections_per_user)]
        )

    async def _count(
        self, what: str, keys: Sequence[tuple[str | None, Rate | None]], *, amount: int = 1
    ) -> Refusal | None:
        counted = [(key, rate) for key, rate in keys if key is not None and rate is not None]
        if not counted or self.store is None or time.monotonic() < self._paused_until:
            return None
        now = self.clock()
        retry_after = 0
        # Every key takes its hit even when an earlier one is already over: an attempt is an
        # attempt, and fixed windows end on time however many there were.
        for key, rate in counted:
            try:
                count = await self.store.hit(key, rate, now, amount)
            except Exception as error:  # noqa: BLE001 - any store failure fails open
                self._failed(error)
                return None
            if count.hits > rate.count:
                retry_after = max(retry_after, count.retry_after)
        return Refusal(what, retry_after) if retry_after else None

    def _failed(self, error: Exception) -> None:
        now = time.monotonic()
        self._paused_until = now + self.backend_pause
        if self._warned_at is None or now - self._warned_at >= WARN_INTERVAL:
            self._warned_at = now
            log.warning(
                "rate limits NOT enforced: the %s store failed (%s: %s); letting requests through",
                type(self.store).__name__,
                type(error).__name__,
                error,
            )

    async def close(self) -> None:
        if self.store is not None:
            await self.store.close()
        if self.sockets is not None:
            await self.sockets.close()


def backend_for(settings: Settings) -> str:
    """The configured backend, or: Redis when the broadcast channel is Redis, the database when
    it is PostgreSQL (both shared by every process), memory otherwise (one process)."""
    chosen = settings.rate_limits.backend
    if chosen is not None:
        return chosen
    if settings.broadcast_url.startswith(REDIS_SCHEMES):
        return "redis"
    if settings.database_url.startswith(POSTGRES_SCHEMES):
        return "database"
    return "memory"


def build_rate_limiter(settings: Settings, *, clock: Clock) -> RateLimiter:
    """The limiter for ``settings``; no store at all (and no connection) when every limit is off."""
    limits = settings.rate_limits
    rates = (limits.mutations_per_user, limits.mutations_per_ip, limits.connections_per_user, limits.connections_per_ip)
    store: CounterStore | None = None
    sockets: OpenSockets | None = None
    if any(rate is not None for rate in rates) or limits.sockets_per_user is not None:
        backend = backend_for(settings)
        if backend == "redis" and not settings.broadcast_url.startswith(REDIS_SCHEMES):
            raise ValueError("CASEGRAPH_RATE_LIMIT_BACKEND=redis uses CASEGRAPH_BROADCAST_URL, which is not redis://.")
        if any(rate is not None for rate in rates):
            if backend == "redis":
                store = RedisStore(settings.broadcast_url)
            elif backend == "database":
                store = DatabaseStore()
            else:
                store = MemoryStore()
        if limits.sockets_per_user is not None:
            leases: LeaseStore
            if backend == "redis":
                leases = RedisLeases(settings.broadcast_url)
            elif backend == "database":
                leases = DatabaseLeases()
            else:
                leases = MemoryLeases()
            sockets = OpenSockets(limits.sockets_per_user, leases, clock=clock, shared=backend != "memory")
    return RateLimiter(limits, store, clock=clock, sockets=sockets)
