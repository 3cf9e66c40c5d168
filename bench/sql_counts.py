"""SQL statements per request, counted by PostgreSQL itself (pg_stat_statements).

The same count for both servers, whatever their drivers do: every statement PostgreSQL executes
at top level (transaction control and connection-pool resets included), ``sum(calls)`` after
``pg_stat_statements_reset()`` divided by the requests. Requests are sent one at a time after a
warm-up request. What the server does on its own meanwhile is taken out: the statements of an
idle window of the same server (casegraph's webhook dispatcher and event-log poll run on timers,
and their pool releases look like a request's) at their rate over the measured time, and query
shapes run fewer than half as many times as there were requests (one-off work of a first request
such as provisioning the user).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class StatementCount:
    requests: int
    # Each query shape with how often a request ran it: the request's SQL, for a reader to check.
    shapes: tuple[tuple[float, str], ...]

    @property
    def per_request(self) -> float:
        return sum(calls for calls, _ in self.shapes) / self.requests

    def describe(self) -> str:
        return "\n".join(
            f"  {calls / self.requests:5.2f} × {' '.join(query.split())[:150]}"
            for calls, query in sorted(self.shapes, reverse=True)
        )


async def _reset(database_url: str) -> None:
    connection = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute("SELECT pg_stat_statements_reset()")
    finally:
        await connection.close()


async def _calls(database_url: str) -> dict[str, int]:
    connection = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        rows = await connection.fetch(
            "SELECT query, sum(calls) AS calls FROM pg_stat_statements"
            " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND query NOT LIKE '%pg_stat_statements%' GROUP BY query"
        )
    finally:
        await connection.close()
    return {str(row["query"]): int(row["calls"]) for row in rows}


def background_rate(database_url: str, *, seconds: float = 5.0) -> dict[str, float]:
    """Statements per second per query shape while no request is sent."""
    asyncio.run(_reset(database_url))
    started = time.monotonic()
    time.sleep(seconds)
    calls = asyncio.run(_calls(database_url))
    elapsed = time.monotonic() - started
    return {query: n / elapsed for query, n in calls.items()}


def count_statements(
    database_url: str, send: Callable[[], None], *, requests: int = 100, background: Mapping[str, float] | None = None
) -> StatementCount:
    send()  # warm-up: caches, prepared statements, user provisioning
    asyncio.run(_reset(database_url))
    started = time.monotonic()
    for _ in range(requests):
        send()
    calls = asyncio.run(_calls(database_url))
    elapsed = time.monotonic() - started
    rates = background or {}
    shapes = []
    for query, n in calls.items():
        own = max(0.0, n - rates.get(query, 0.0) * elapsed)
        if own * 2 >= requests:
            shapes.append((own, query))
    return StatementCount(requests=requests, shapes=tuple(shapes))
