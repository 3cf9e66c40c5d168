"""Every migration applies to a database that already holds data, on SQLite and PostgreSQL.

A fresh database is the easy case; agencies upgrade populated ones. Tortoise's AddField, for
example, cannot add a NOT NULL column without a database default to a table with rows.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tortoise import Tortoise
from tortoise.migrations.api import migrate as run_migrations

from casegraph.db import migrate, tortoise_config
from tests.conftest import _create_pg_database_named, _drop_pg_database, forget_backend_caches

MIGRATIONS = sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "models" / "migrations").glob("0*.py"))

SEED_SQL = [
    "INSERT INTO users (id, roles, agency, available, created_at, updated_at) "
    "VALUES ('u1', '[\"AGENT\"]', NULL, {true}, {now}, {now})",
    "INSERT INTO assignment_groups (code, name, created_at) VALUES ('ROADS', 'Roads', {now})",
    "INSERT INTO group_memberships (group_id, user_id, is_manager, created_at) VALUES (1, 'u1', {false}, {now})",
    "INSERT INTO case_types (code, name, workflow, assignment_group_id, auto_assign, active, created_at) "
    "VALUES ('POTHOLE', 'Pothole', 'PUBLIC_SERVICE', 1, {false}, {true}, {now})",
    "INSERT INTO cases (id, number, title, stage, status, workflow, case_type_id, assignment_group_id, impact, "
    "urgency, priority, channel, requester_id, author_id, version, reopen_count, solution_accepted, created_at, "
    "updated_at) VALUES ('{case_id}', 'CS0001001', 'Hole', 'INTAKE', 'NEW', 'PUBLIC_SERVICE', 1, 1, 3, 3, 5, "
    "'PORTAL', 'u1', 'u1', 1, 0, {false}, {now}, {now})",
    "INSERT INTO case_events (sequence, case_id, type, action, to_stage, to_status, version, summary, occurred_at) "
    "VALUES (1, '{case_id}', 'CASE_CREATED', 'CREATE', 'INTAKE', 'NEW', 1, '{{}}', {now})",
]


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    forget_backend_caches()
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path}/upgrade.sqlite3"
    else:
        name = f"casegraph_upgrade_{uuid.uuid4().hex[:8]}"
        url = await _create_pg_database_named(name)
        try:
            yield url
        finally:
            await _drop_pg_database(name)
    forget_backend_caches()


@pytest.mark.skipif(len(MIGRATIONS) < 2, reason="only one migration so far")
async def test_each_later_migration_upgrades_a_database_holding_data(database_url: str) -> None:
    # given: the schema as of the first migration, with a row in the main tables
    config = tortoise_config(database_url)
    await run_migrations(config=config, target=f"models.{MIGRATIONS[0]}")
    try:
        client = Tortoise.get_connection("default")
        sqlite = database_url.startswith("sqlite")
        values = {
            "now": "CURRENT_TIMESTAMP",
            "true": "1" if sqlite else "TRUE",
            "false": "0" if sqlite else "FALSE",
            "case_id": str(uuid.uuid4()),
        }
        for statement in SEED_SQL:
            await client.execute_script(statement.format(**values))
    finally:
        await Tortoise.close_connections()
    # when: every later migration is applied
    await migrate(database_url)
    # then: the data is still there, readable through the models
    await Tortoise.init(config=config)
    try:
        from models import Case, CaseType, User

        assert await Case.filter(number="CS0001001").count() == 1
        assert (await CaseType.get(code="POTHOLE")).skills in (None, [])
        assert (await User.get(id="u1")).roles == ["AGENT"]
    finally:
        await Tortoise.close_connections()
