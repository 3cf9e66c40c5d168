"""Tortoise configuration and schema migrations (Tortoise's built-in migration engine)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Final

from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as run_migrations

from casegraph._compat import tortoise_sqlite

MODEL_MODULES = ["models"]
MIGRATIONS_MODULE = "models.migrations"


ASYNCPG_ENGINE = "tortoise.backends.asyncpg"
SQLITE_ENGINE = "tortoise.backends.sqlite"
# Tortoise's asyncpg client on a pool that serves waiting requests in order (_compat/asyncpg_pool.py says why).
FAIR_POOL_ENGINE = "casegraph._compat.asyncpg_pool"


async def keep_session(connection: Any) -> None:
    """Returning a connection to the pool: asyncpg still rolls back an open transaction and drops
    listeners first; this skips its reset query (advisory unlock, CLOSE ALL, UNLISTEN, RESET ALL),
    one more round trip per statement outside a transaction. casegraph sets no session state on
    pooled connections: no advisory locks, cursors, LISTEN (the broadcast channel has its own
    connection) or SET."""
    return None


def _connection(database_url: str) -> str | dict[str, Any]:
    config = expand_db_url(database_url)
    if config["engine"] == SQLITE_ENGINE:
        # Rows changed = the statement's own, not its triggers' (0014's counts): _compat says why.
        tortoise_sqlite.use_statement_changes()
    if config["engine"] != ASYNCPG_ENGINE:
        return database_url
    config["engine"] = FAIR_POOL_ENGINE
    config["credentials"]["reset"] = keep_session
    # The cases page is one statement of a branch per group and status (database.case_pages):
    # tens of kilobytes of text for an agent of many groups. asyncpg prepares and keeps only
    # statements up to 15 KiB; a longer one is parsed and planned on every request (planning the
    # branches costs more than running them). Kept, it is planned once per connection.
    config["credentials"].setdefault("max_cacheable_statement_size", 256 * 1024)
    # casegraph's statements are short OLTP reads and writes: PostgreSQL's JIT (on by default
    # since 11) compiles the ones its cost estimate calls big, spending milliseconds of CPU to
    # save microseconds (measured on the queue page statement; see README, Performance).
    settings = dict(config["credentials"].get("server_settings") or {})
    settings.setdefault("jit", "off")
    # A kept statement is planned once, for any parameters ("generic"), not for each request's.
    # PostgreSQL's default (auto) keeps planning per request when it estimates a generic plan
    # dearer: it did so for the cases page at a million cases, 16 ms of planning for its branches
    # against 0.5 ms of running them. casegraph's statements are index lookups and walks whose
    # plans do not depend on the values (its literals, such as a page's LIMIT, are in the text).
    settings.setdefault("plan_cache_mode", "force_generic_plan")
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


# The advisory lock every casegraph process takes to migrate one PostgreSQL database (any fixed
# signed 64-bit number; this one is "casegrap" in ASCII).
MIGRATION_LOCK_KEY: Final = 0x6361736567726170


@contextlib.asynccontextmanager
async def migration_lock(database_url: str) -> AsyncIterator[None]:
    """Held by one process at a time per database while it migrates; the others wait for it.

    Replicas started together would otherwise create the same tables at once and one would die
    on a duplicate (``pg_type_typname_nsp_index``, ``tortoise_migrations already exists``). On
    PostgreSQL it is a session advisory lock on a connection of its own (it goes away with the
    process, should that die); on SQLite an exclusive ``flock`` on a file beside the database.
    """
    config = expand_db_url(database_url)
    credentials = config["credentials"]
    if config["engine"] == ASYNCPG_ENGINE:
        import asyncpg

        connection = await asyncpg.connect(
            host=credentials.get("host"),
            port=credentials.get("port"),
            user=credentials.get("user"),
            password=credentials.get("password"),
            database=credentials.get("database"),
            ssl=credentials.get("ssl"),
        )
        try:
            await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
            yield
        finally:
            await connection.close()  # ends the session, and with it the lock
    elif config["engine"] == "tortoise.backends.sqlite" and credentials.get("file_path") != ":memory:":
        lock_path = Path(f"{credentials['file_path']}.migrate-lock")
        with lock_path.open("a") as lock_file:
            # Blocking in a thread: the event loop of a serving process must not stall meanwhile.
            await asyncio.to_thread(fcntl.flock, lock_file.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)
    else:
        yield


async def migrate(database_url: str) -> None:
    """Apply every pending migration; a fresh database gets the whole schema and its counters.

    One process at a time per database (``migration_lock``): the others then find nothing to do.
    """
    from tortoise import Tortoise

    from casegraph.database.case_counts import fold_case_counts
    from casegraph.database.counters import ensure_counters

    config = tortoise_config(database_url)
    async with migration_lock(database_url):
        try:
            await run_migrations(config=config)
        finally:
            await Tortoise.close_connections()
        # The migration API leaves models half-initialised (no filters), so reopen properly.
        await Tortoise.init(config=config)
        try:
            await ensure_counters()
            # At every start: the counts' shards of server processes that have gone (0014).
            await fold_case_counts(Tortoise.get_connection("default"))
        finally:
            await Tortoise.close_connections()
