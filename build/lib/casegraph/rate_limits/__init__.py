"""Rate limits per user and per client address, for mutations and WebSocket connections.

``build_rate_limiter`` picks the store (memory, database or Redis) from the settings; the
Strawberry extension counts mutations, the ASGI wrapper and the WebSocket handlers count
connections. Every refusal names the seconds to wait (``Retry-After``).
"""

from casegraph.rate_limits.graphql import MutationRateLimit
from casegraph.rate_limits.limiter import RATE_LIMITED, RateLimiter, Refusal, backend_for, build_rate_limiter
from casegraph.rate_limits.stores import Count, CounterStore, DatabaseStore, MemoryStore, RedisStore
from casegraph.rate_limits.websocket import (
    ConnectionRateLimit,
    ConnectionRateLimited,
    LegacyWSHandler,
    TransportWSHandler,
)

__all__ = [
    "RATE_LIMITED",
    "ConnectionRateLimit",
    "ConnectionRateLimited",
    "Count",
    "CounterStore",
    "DatabaseStore",
    "LegacyWSHandler",
    "MemoryStore",
    "MutationRateLimit",
    "RateLimiter",
    "RedisStore",
    "Refusal",
    "TransportWSHandler",
    "backend_for",
    "build_rate_limiter",
]
