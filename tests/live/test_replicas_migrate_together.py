"""Replicas started together on an empty database all come up (issue 14, section 7).

Two processes started at once on an empty PostgreSQL database: one exited during migrations in
7 of 7 runs (``pg_type_typname_nsp_index`` unique violation, or ``relation "tortoise_migrations"
already exists``). Migrations now run under a database-wide lock — an advisory lock on
PostgreSQL, a file lock beside an SQLite database — and the other processes wait for it, then
find nothing left to do.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Final

import asyncpg
import pytest

from tests.live.support import _server_env, postgres_database, run_sync, server_env

REPLICAS: Final = 3
ROUNDS: Final = 3
TIMEOUT: Final = 120.0


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[str]]:
    """``ROUNDS`` empty databases of the backend."""
    if request.param == "sqlite":
        yield [f"sqlite://{tmp_path / f'round-{n}.sqlite3'}" for n in range(ROUNDS)]
        return
    with postgres_database() as first, postgres_database() as second, postgres_database() as third:
        yield [first, second, third]


def migrate_at_once(database_url: str, workdir: Path) -> list[tuple[int, str]]:
    """``casegraph migrate`` in REPLICAS processes started together; their exit codes and output."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = _server_env(server_env(database_url=database_url))
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "casegraph.cli", "migrate"],
            env=env,
            cwd=workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        for _ in range(REPLICAS)
    ]
    outcomes = []
    for process in processes:
        output, _ = process.communicate(timeout=TIMEOUT)
        outcomes.append((process.returncode, output.decode(errors="replace")))
    return outcomes


async def applied_migrations(database_url: str) -> list[str]:
    connection = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        return [row[0] for row in await connection.fetch("SELECT name FROM tortoise_migrations ORDER BY id")]
    finally:
        await connection.close()


def test_replicas_migrating_an_empty_database_at_once_all_succeed(empty_databases: list[str], tmp_path: Path) -> None:
    for round_number, database_url in enumerate(empty_databases):
        # when: several replicas migrate the same empty database at the same moment
        outcomes = migrate_at_once(database_url, tmp_path / f"round-{round_number}")
        # then: every one of them succeeds
        failures = [output for code, output in outcomes if code != 0]
        assert not failures, f"round {round_number}: {len(failures)} of {REPLICAS} failed:\n{failures[0]}"
        # and: each migration was applied once
        if database_url.startswith("postgres"):
            names = run_sync(partial(applied_migrations, database_url))
            assert names and len(names) == len(set(names)), names
