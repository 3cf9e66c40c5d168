"""A dependency that is away (the database, the broadcast or rate-limit server), as clients and
operators should see it.

Clients: a request that fails because the database or the broker cannot be reached is answered
``503`` with ``Retry-After`` and a GraphQL-shaped body whose error has ``extensions.code:
SERVICE_UNAVAILABLE`` — something to retry, not a server bug (``outage_response``).

Operators: one outage is one warning with its cause, when it starts, and one line when it ends
(``OutageLog``); the requests and background passes that fail meanwhile are logged at DEBUG. A
restart of PostgreSQL otherwise printed a traceback for every request and every pass.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Final

import asyncpg
import redis.exceptions
from starlette.responses import JSONResponse
from tortoise import connections
from tortoise.exceptions import DBConnectionError

from casegraph.graphql_http import error_body

SERVICE_UNAVAILABLE: Final = "SERVICE_UNAVAILABLE"
RETRY_AFTER_SECONDS: Final = 5
MESSAGE: Final = "The service is briefly unavailable (a database or broker is not answering); try again shortly."

# What a dependency that is down, restarting or unreachable raises. OSError covers refused and
# reset connections and timeouts (TimeoutError is one); asyncpg's connection errors and its
# InterfaceError (a pooled connection that died under its user) cover a restart mid-request.
_OUTAGE_TYPES: Final[tuple[type[BaseException], ...]] = (
    OSError,
    DBConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


async def database_unreachable(timeout: float = 2.0) -> bool:
    """Whether the database refuses a trivial statement now with an outage error.

    A statement in flight when PostgreSQL shuts down can fail with an error no list above names
    (the driver reports a connection torn down mid-protocol in several ways); a failure that
    coincides with the database being unreachable is part of the outage, not a bug.
    """
    try:
        await asyncio.wait_for(connections.get("default").execute_query("SELECT 1"), timeout)
    except Exception as error:  # noqa: BLE001 - any failure of the probe is judged by what it is
        return is_outage(error)
    return False


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it: libraries wrap driver errors) is a dependency away."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, _OUTAGE_TYPES):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


class Unavailable:
    """What a WebSocket client is told when its ``connection_init`` meets an outage: try again later.

    Closed 1013 "Try Again Later" with this message, after a legacy ``connection_error`` carrying
    the code and the wait (``casegraph.rate_limits.websocket``), as a rate-limited connection
    is; graphql-transport-ws would otherwise end a failed connection_init as an internal error.
    """

    message: Final = MESSAGE

    @property
    def extensions(self) -> dict[str, object]:
        return {"code": SERVICE_UNAVAILABLE, "retryAfter": RETRY_AFTER_SECONDS}


def outage_response(media_type: str) -> JSONResponse:
    return JSONResponse(
        error_body(MESSAGE, SERVICE_UNAVAILABLE),
        503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Vary": "Accept"},
        media_type=f"{media_type}; charset=utf-8",
    )


class OutageLog:
    """Logs an outage of one dependency once: a warning when it starts, a line when it ends."""

    def __init__(self, logger: logging.Logger, what: str) -> None:
        self.logger = logger
        self.what = what
        self.since: float | None = None
        self.failures = 0

    def failed(self, error: BaseException) -> None:
        self.failures += 1
        if self.since is None:
            self.since = time.monotonic()
            self.logger.warning("%s unavailable: %s: %s", self.what, type(error).__name__, error, exc_info=error)
        else:
            self.logger.debug("%s still unavailable: %s: %s", self.what, type(error).__name__, error)

    def succeeded(self) -> None:
        if self.since is None:
            return
        self.logger.warning(
            "%s available again after %.1f s (%d failures meanwhile)",
            self.what,
            time.monotonic() - self.since,
            self.failures,
        )
        self.since = None
        self.failures = 0


# Requests of this process (HTTP and WebSocket operations alike): one log, whichever step failed.
REQUESTS: Final = OutageLog(logging.getLogger("casegraph.outage"), "database or broker (requests)")
