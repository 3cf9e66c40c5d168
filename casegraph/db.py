"""Tortoise configuration and schema migrations (Tortoise's built-in migration engine)."""

from __future__ import annotations

from typing import Any

from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as run_migrations

MODEL_MODULES = ["models"]
MIGRATIONS_MODULE = "models.migrations"


ASYNCPG_ENGINE = "tortoise.backends.asyncpg"
# Tortoise's asyncpg client on a pool that serves waiting requests in order (fair_pool.py says why).
FAIR_POOL_ENGINE = "casegraph.fair_pool"


async def keep_session(connection: Any) -> None:
    """Returning a connection to the pool: asyncpg still rolls back an open transaction and drops
    listeners first; this skips its reset query (advisory unlock, CLOSE ALL, UNLISTEN, RESET ALL),
    one more round trip per statement outside a transaction. casegraph sets no session state on
    pooled connections: no advisory locks, cursors, LISTEN (the broadcast channel has its own
    connection) or SET."""
    return None


def _connection(database_url: str) -> str | dict[str, Any]:
    config = expand_db_url(database_url)
    if config["engine"] != ASYNCPG_ENGINE:
        return database_url
    config["engine"] = FAIR_POOL_ENGINE
    config["credentials"]["reset"] = keep_session
    # casegraph's statements are short OLTP reads and writes: PostgreSQL's JIT (on by default
    # since 11) compiles the ones its cost estimate calls big, spending milliseconds of CPU to
    # save microseconds (measured on the queue page statement; see README, Performance).
    settings = dict(config["credentials"].get("server_settings") or {})
    settings.setdefault("jit", "off")
    config["credentials"]["server_settings"] = settings
    return config


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": _connection(database_url)},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# Read by Tortoise's own CLI: `tortoise -c casegraph.db.TORTOISE_ORM makemigrations`.
TORTOISE_ORM = tortoise_config("sqlite://casegraph.sqlite3")


async def migrate(database_url: str) -> None:
    """Apply every pending migration; a fresh database gets the whole schema and its counters."""
    from tortoise import Tortoise

    from casegraph.services.event_log import ensure_counters

    config = tortoise_config(database_url)
    try:
        await run_migrations(config=config)
    finally:
        await Tortoise.close_connections()
    # The migration API leaves models half-initialised (no filters), so reopen properly.
    await Tortoise.init(config=config)
    try:
        await ensure_counters()
    finally:
        await Tortoise.close_connections()
