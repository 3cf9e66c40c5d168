"""Tortoise configuration and schema migrations (Tortoise's built-in migration engine)."""

from __future__ import annotations

from typing import Any

from tortoise.migrations.api import migrate as run_migrations

MODEL_MODULES = ["models"]
MIGRATIONS_MODULE = "models.migrations"


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": database_url},
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
