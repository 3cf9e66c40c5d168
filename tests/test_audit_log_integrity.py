"""The event log is the audit trail: append-only in code, and refused by the database itself.

Issue 5 *Audit integrity*: no update or delete path in the application; on PostgreSQL (and on
SQLite databases built by the migrations) a trigger refuses UPDATE and DELETE of ``case_events``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tortoise.context import TortoiseContext

from casegraph.database.counters import ensure_counters
from casegraph.db import migrate, tortoise_config
from models import CaseEvent
from models.event import AppendOnlyError
from tests.conftest import forget_backend_caches
from tests.helpers import FakeClock, World, build_world, insert_case

REPO_ROOT = Path(__file__).resolve().parents[1]
APPLICATION_PACKAGES = ("casegraph", "models", "schema", "resolvers")
# Ways code could change or remove an event: SQL text, or ORM calls on the model or the relation.
FORBIDDEN = [
    re.compile(r"\b(UPDATE|DELETE\s+FROM|TRUNCATE)\s+\"?case_events\b", re.IGNORECASE),
    re.compile(r"CaseEvent\b[^\n]*\.(update|delete|bulk_update)\("),
    re.compile(r"\.events\b[^\n]*\.(update|delete|bulk_update)\("),
]
ALLOWED_FILES = {Path("models/event.py"), Path("models/migrations/0007_append_only_events.py")}


def test_no_application_code_changes_or_removes_events() -> None:
    offenders = []
    for package in APPLICATION_PACKAGES:
        for path in (REPO_ROOT / package).rglob("*.py"):
            relative = path.relative_to(REPO_ROOT)
            if relative in ALLOWED_FILES:
                continue
            text = path.read_text(encoding="utf-8")
            offenders += [f"{relative}: {m.group(0)}" for pattern in FORBIDDEN for m in pattern.finditer(text)]
    assert offenders == []


def test_the_scan_would_catch_an_update_path() -> None:
    samples = [
        "await CaseEvent.filter(sequence=1).update(version=2)",
        'sql = "DELETE FROM case_events"',
        "await case.events.all().delete()",
        "UPDATE case_events SET version = 1",
    ]
    assert all(any(pattern.search(sample) for pattern in FORBIDDEN) for sample in samples)


async def test_the_orm_refuses_to_change_or_remove_a_recorded_event(db: TortoiseContext, world: World) -> None:
    case = await insert_case(world)
    event = await CaseEvent.get(case_id=case.id)
    event.version = 99
    with pytest.raises(AppendOnlyError):
        await event.save()
    with pytest.raises(AppendOnlyError):
        await event.delete()
    with pytest.raises(AppendOnlyError):
        await CaseEvent.filter(case_id=case.id).update(version=99)
    with pytest.raises(AppendOnlyError):
        await CaseEvent.filter(case_id=case.id).delete()
    assert [(e.version, e.sequence) for e in await CaseEvent.filter(case_id=case.id)] == [(1, event.sequence)]


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"])
async def test_postgres_refuses_update_and_delete_of_events(db: TortoiseContext, world: World) -> None:
    case = await insert_case(world)
    connection = db.db()
    for statement in ("UPDATE case_events SET version = 99", "DELETE FROM case_events"):
        with pytest.raises(Exception, match="append-only"):
            await connection.execute_query(statement)
    versions: list[Any] = await CaseEvent.filter(case_id=case.id).values_list("version", flat=True)
    assert versions == [1]


@pytest.fixture
async def migrated_sqlite(tmp_path: Path) -> AsyncIterator[TortoiseContext]:
    url = f"sqlite://{tmp_path / 'audit.sqlite3'}"
    forget_backend_caches()
    await migrate(url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        await ensure_counters()
        yield ctx


async def test_a_migrated_sqlite_database_refuses_update_and_delete_of_events(
    migrated_sqlite: TortoiseContext, clock: FakeClock
) -> None:
    world = await build_world(clock)
    case = await insert_case(world)
    connection = migrated_sqlite.db()
    for statement in ("UPDATE case_events SET version = 99", "DELETE FROM case_events"):
        with pytest.raises(Exception, match="append-only"):
            await connection.execute_query(statement)
    versions: list[Any] = await CaseEvent.filter(case_id=case.id).values_list("version", flat=True)
    assert versions == [1]
