"""The history the analytics read, added in SQL to the large cases table of ``case_page_scale``.

Each case gets its event log (submitted at creation; the resolved and closed ones resolved a day
later, the cancelled ones cancelled), a first response for those past NEW, a response timer, and
a survey for the resolved ones; two case types split the cases. Times follow the cases' creation,
ten minutes apart from 2020-01-01: a week holds about a hundredth of 100,000 cases.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from tortoise.backends.base.client import BaseDBAsyncClient

from tests.database.case_page_scale import populate

START: Final = datetime(2020, 1, 1, tzinfo=UTC)
CASE_TYPES: Final = (1, 2)
SPACING: Final = 10  # minutes between two cases' creation


def _stretched(dialect: str, column: str, factor: int) -> str:
    """The column's distance from START times ``factor``."""
    if dialect == "postgres":
        return f"TIMESTAMPTZ '{START.isoformat()}' + ({column} - TIMESTAMPTZ '{START.isoformat()}') * {factor}"
    epoch = int(START.timestamp())
    return (
        f"strftime('%Y-%m-%d %H:%M:%S+00:00', {epoch} + (CAST(strftime('%s', {column}) AS INTEGER) - {epoch}) * {factor},"
        " 'unixepoch')"
    )


def _later(dialect: str, column: str, seconds: int) -> str:
    if dialect == "postgres":
        return f"{column} + INTERVAL '{seconds} seconds'"
    return f"strftime('%Y-%m-%d %H:%M:%S+00:00', {column}, '+{seconds} seconds')"


async def populate_history(db: BaseDBAsyncClient, dialect: str, cases: int) -> None:
    """``cases`` cases (``case_page_scale.populate``) and the rows the analytics aggregate."""
    await populate(db, dialect, cases)
    # ``populate`` made case types 1 and 2 (the queue pages' common and rare types); here each
    # is routed to its own group, as the analytics' case-type scope expects.
    assert CASE_TYPES == (1, 2)
    await db.execute_script('UPDATE "case_types" SET "assignment_group_id" = "id"')
    day = 86_400
    # Ten minutes apart rather than one: 100,000 cases over nearly two years, so a week is the
    # hundredth part of the history it is on a desk, not the tenth.
    await db.execute_script(f"UPDATE cases SET created_at = {_stretched(dialect, 'created_at', SPACING)}")
    await db.execute_script(
        f"UPDATE cases SET case_type_id = CASE WHEN priority < 3 THEN 1 ELSE 2 END,"
        f" first_opened_at = CASE WHEN status NOT IN ('DRAFT', 'NEW') THEN {_later(dialect, 'created_at', 3600)} END"
    )
    event = (
        'INSERT INTO "case_events" ("sequence","case_id","type","action","from_stage","from_status","to_stage",'
        '"to_status","version","summary","occurred_at") '
    )
    # One submission per case (drafts: created as drafts), numbered in creation order.
    await db.execute_script(
        f"{event} SELECT ROW_NUMBER() OVER (ORDER BY created_at, id), id, 'CASE_CREATED', 'SUBMIT', NULL, NULL,"
        " stage, CASE WHEN status = 'DRAFT' THEN 'DRAFT' ELSE 'NEW' END, 1, '{}', created_at FROM cases"
    )
    # Then the end of the ended ones, a day later.
    await db.execute_script(
        f"{event} SELECT {cases} + ROW_NUMBER() OVER (ORDER BY created_at, id), id, 'CASE_TRANSITIONED', 'RESOLVE',"
        f" 'INTAKE', 'NEW', stage, status, 2, '{{}}', {_later(dialect, 'created_at', day)} FROM cases"
        " WHERE status IN ('RESOLVED', 'CLOSED', 'CANCELLED')"
    )
    await db.execute_script(
        'INSERT INTO "case_timers" ("case_id","kind","target_minutes","elapsed_us","phase","started_at") '
        "SELECT id, 'RESPONSE', 240, 0, CASE WHEN first_opened_at IS NULL THEN 'RUNNING' ELSE 'STOPPED' END,"
        " created_at FROM cases WHERE status <> 'DRAFT'"
    )
    await db.execute_script(
        'INSERT INTO "surveys" ("case_id","requester_id","rating","submitted_at") '
        f"SELECT id, requester_id, 1 + priority % 5, {_later(dialect, 'created_at', 2 * day)} FROM cases"
        " WHERE status = 'RESOLVED'"
    )
    if dialect == "postgres":
        await db.execute_script("ANALYZE")
