"""Statements rendered once per shape (casegraph/database/statements.py) do what Tortoise's do.

Every case action sends them; each must write and read exactly what the Tortoise query it
replaces would, on both backends: the same column values (times, enums, JSON, foreign keys), the
same row counts, model instances equal field for field.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tortoise.context import TortoiseContext
from tortoise.expressions import F

from casegraph.database import statements
from casegraph.database.counters import EVENT_SEQUENCE
from casegraph.database.sql import Unsupported
from casegraph.domain.enums import CaseAction, CaseEventType, CaseStage, CaseStatus
from casegraph.services.event_log import append_drafted, append_event, draft_event
from casegraph.services.users import ensure_user
from models import Case, CaseAlert, CaseEvent, CaseStep, CaseTimer, Comment, Counter, User
from tests.helpers import World, counted_statements, insert_case

AT = datetime(2026, 11, 21, 14, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture(autouse=True)
async def users(db: TortoiseContext) -> None:
    for user_id in ("agent", "other_agent"):
        await ensure_user(user_id=user_id, now=AT)


def _fields(row: object) -> dict[str, object]:
    meta = row._meta  # type: ignore[attr-defined]
    return {name: getattr(row, name) for name in meta.fields_db_projection}


async def test_an_update_changes_the_row_only_at_the_expected_version(db: TortoiseContext, world: World) -> None:
    # given
    case = await insert_case(world, assigned_to=None)
    values = {
        "first_opened_at": AT,
        "assigned_to_id": "agent",
        "stage": CaseStage.INTAKE,
        "status": CaseStatus.OPEN,
        "version": case.version + 1,
        "updated_at": AT,
    }
    # when
    changed = await statements.update(Case, {"id": case.id, "version": case.version}, values)
    stale = await statements.update(Case, {"id": case.id, "version": case.version}, {**values, "title": "late"})
    # then
    row = await Case.get(id=case.id)
    assert (changed, stale) == (1, 0)
    assert (row.first_opened_at, row.assigned_to_id, row.status, row.version, row.title) == (
        AT,
        "agent",
        CaseStatus.OPEN,
        case.version + 1,
        case.title,
    )


async def test_the_rows_it_writes_read_back_as_tortoise_s_own_writes_do(db: TortoiseContext, world: World) -> None:
    # given: two users, one updated each way
    await User.filter(id="agent").update(last_assigned_at=AT, name="Agent")
    await statements.update(User, {"id": "other_agent"}, {"last_assigned_at": AT, "name": "Agent"})
    # when
    by_tortoise, by_statement = await User.get(id="agent"), await User.get(id="other_agent")
    fetched = await statements.fetch(User, {"id": "other_agent"})
    # then
    assert by_statement.last_assigned_at == by_tortoise.last_assigned_at == AT
    assert [_fields(row) for row in fetched] == [_fields(by_statement)]
    # the stored text sorts with Tortoise's (SQLite keeps times as text)
    assert await User.filter(last_assigned_at__gte=AT - timedelta(microseconds=1)).count() == 2


async def test_an_event_inserted_reads_back_whole(db: TortoiseContext, world: World) -> None:
    # given
    case = await insert_case(world)
    # when
    record = await append_event(
        case_id=case.id,
        actor_id="agent",
        event_type=CaseEventType.CASE_TRANSITIONED,
        action=CaseAction.ASSIGN_TO_ME,
        before=(CaseStage.INTAKE, CaseStatus.NEW),
        after=(CaseStage.INTAKE, CaseStatus.OPEN),
        version=2,
        summary={"assigneeId": "agent", "nested": {"list": [1, "two", None]}},
        now=AT,
        request_id="req-1",
    )
    # then
    row = await CaseEvent.get(sequence=record.sequence)
    assert (
        str(row.case_id),
        row.actor_id,
        row.type,
        row.action,
        row.from_status,
        row.to_status,
        row.version,
        row.summary,
        row.occurred_at,
        row.request_id,
    ) == (
        case.id,
        "agent",
        CaseEventType.CASE_TRANSITIONED,
        CaseAction.ASSIGN_TO_ME,
        CaseStatus.NEW,
        CaseStatus.OPEN,
        2,
        {"assigneeId": "agent", "nested": {"list": [1, "two", None]}},
        AT,
        "req-1",
    )


async def test_a_numbered_insert_takes_the_counter_s_next_value_and_its_first_use_creates_it(
    db: TortoiseContext, world: World
) -> None:
    # given: a case (its creation used the event counter) and a counter no one used yet
    case = await insert_case(world)
    counter = await Counter.get(name=EVENT_SEQUENCE)
    draft = draft_event(
        case_id=case.id,
        actor_id="agent",
        event_type=CaseEventType.CASE_UPDATED,
        action=CaseAction.UPDATE,
        before=(CaseStage.INTAKE, CaseStatus.NEW),
        after=(CaseStage.INTAKE, CaseStatus.NEW),
        version=2,
        summary={},
        now=AT,
    )
    comment = {"case_id": case.id, "author_id": "agent", "body": "Numbered.", "created_at": AT}
    # when
    event = await append_drafted(draft)
    taken = [
        await statements.insert_numbered(Comment, {"id": 900 + i, **comment}, key="event_sequence", counter="fresh")
        for i in range(2)
    ]
    # then
    assert event.sequence == counter.value + 1
    assert (await CaseEvent.get(sequence=event.sequence)).version == 2
    assert (await Counter.get(name=EVENT_SEQUENCE)).value == event.sequence
    assert taken == [1, 2]
    assert (await Counter.get(name="fresh")).value == 2
    assert [c.event_sequence for c in await Comment.filter(id__gte=900).order_by("id")] == [1, 2]


async def test_an_update_returning_gives_back_the_rows_a_fetch_then_reads(db: TortoiseContext, world: World) -> None:
    # when
    returned = await statements.update_returning(User, {"id": "agent"}, {"last_assigned_at": AT})
    missing = await statements.update_returning(User, {"id": "nobody"}, {"last_assigned_at": AT})
    # then
    fetched = await statements.fetch(User, {"id": "agent"})
    assert [_fields(row) for row in returned] == [_fields(row) for row in fetched]
    assert returned[0].last_assigned_at == AT
    assert missing == []


async def test_an_insert_with_a_generated_key_writes_what_create_writes(db: TortoiseContext, world: World) -> None:
    # given
    case = await insert_case(world)
    values: dict[str, Any] = {"case_id": case.id, "kind": "STAGE_DWELL", "due_at": AT, "fired_at": None}
    # when
    created = await CaseAlert.create(**values, key="one", outcome=None, created_at=AT)
    key = await statements.insert_generated(CaseAlert, {**values, "key": "two", "outcome": None, "created_at": AT})
    # then: the same row but for its key, and due times compare alike in SQL (SQLite keeps text)
    inserted = await CaseAlert.get(id=key)
    assert key != created.id
    assert {**_fields(inserted), "id": None, "key": None} == {
        **_fields(await CaseAlert.get(id=created.id)),
        "id": None,
        "key": None,
    }
    assert await CaseAlert.filter(due_at__lte=AT).count() == 2
    with pytest.raises(ValueError, match="no value for"):
        await statements.insert_generated(Comment, {"case_id": case.id, "body": "no author"})
    with pytest.raises(ValueError, match="generated"):
        await statements.insert_generated(
            CaseAlert, {**values, "key": "three", "outcome": None, "created_at": AT, "id": 10**6}
        )


async def test_fetch_returns_the_instances_a_filter_returns(db: TortoiseContext, world: World) -> None:
    # given: a case with two timers
    case = await insert_case(world)
    for kind in ("RESPONSE", "RESOLUTION"):
        await CaseTimer.create(
            case_id=case.id,
            kind=kind,
            target_minutes=60,
            elapsed_us=5,
            phase="RUNNING",
            running_since=AT,
            next_due_at=AT + timedelta(hours=1),
            started_at=AT,
        )
    # when
    fetched = await statements.fetch(CaseTimer, {"case_id": case.id})
    filtered = await CaseTimer.filter(case_id=case.id)
    # then
    assert sorted((_fields(r) for r in fetched), key=repr) == sorted((_fields(r) for r in filtered), key=repr)
    assert await statements.fetch_one(CaseTimer, {"id": fetched[0].id}) is not None
    assert await statements.fetch_one(User, {"id": "nobody"}) is None
    with pytest.raises(LookupError):
        await statements.fetch_one(CaseTimer, {"case_id": case.id})


async def test_select_returns_what_values_returns_and_sends_tortoise_s_sql(db: TortoiseContext, world: World) -> None:
    # given: a case with steps of two stages, done and open, required and not, out of order
    case = await insert_case(world)
    for position, stage, required, done_at in (
        (3, CaseStage.INTAKE, True, None),
        (1, CaseStage.INTAKE, True, None),
        (2, CaseStage.INTAKE, True, AT),
        (4, CaseStage.INTAKE, False, None),
        (5, CaseStage.REVIEW, True, None),
    ):
        await CaseStep.create(
            case_id=case.id,
            stage=stage,
            position=position,
            title=f"Step {position}",
            required=required,
            done_at=done_at,
            created_at=AT,
        )
    where = {"case_id": case.id, "stage": CaseStage.INTAKE, "required": True}
    fields = ("stage", "position", "title")
    # when
    with counted_statements() as by_tortoise:
        expected = await CaseStep.filter(**where, done_at__isnull=True).order_by("position").values(*fields)
    with counted_statements() as by_statement:
        selected = await statements.select(CaseStep, fields, where, null=("done_at",), order_by=("position",))
    # then
    assert selected == expected
    assert [row["position"] for row in selected] == [1, 3]
    assert isinstance(selected[0]["stage"], CaseStage)
    assert [s.split(":")[0] for s in by_statement] == [s.split(":")[0] for s in by_tortoise]


async def test_select_for_update_reads_the_rows_a_locking_filter_reads(
    db: TortoiseContext, world: World, backend: str
) -> None:
    # given: a parent with one child
    parent, child = await insert_case(world), await insert_case(world)
    await Case.filter(id=child.id).update(parent_id=parent.id)
    # when
    with counted_statements() as sent:
        locked = await statements.select(
            Case, ("number", "status", "deleted_at"), {"parent_id": parent.id}, for_update=True
        )
    # then
    assert locked == [{"number": child.number, "status": child.status, "deleted_at": None}]
    # PostgreSQL locks the rows; SQLite has no row locks, and Tortoise leaves the clause out there too
    assert sent[0].split(":")[0].endswith(" FOR UPDATE") == (backend == "postgres")


async def test_delete_removes_what_a_filtered_delete_removes(db: TortoiseContext, world: World) -> None:
    # given: two cases with alerts of three kinds each
    cases = [await insert_case(world), await insert_case(world)]
    for case in cases:
        for kind in ("STAGE_DWELL", "UNANSWERED_COMMENT", "AUTO_CLOSE"):
            await CaseAlert.create(case_id=case.id, kind=kind, key=f"{kind}:1", due_at=AT, created_at=AT)
    # when
    with counted_statements() as by_statement:
        deleted = await statements.delete(
            CaseAlert, {"case_id": cases[0].id}, any_of=("kind", ["STAGE_DWELL", "UNANSWERED_COMMENT"])
        )
    with counted_statements() as by_tortoise:
        await CaseAlert.filter(case_id=cases[1].id, kind__in=["STAGE_DWELL", "UNANSWERED_COMMENT"]).delete()
    # then
    assert deleted == 2
    for case in cases:
        assert [a.kind for a in await CaseAlert.filter(case_id=case.id)] == ["AUTO_CLOSE"]
    assert [s.split(":")[0] for s in by_statement] == [s.split(":")[0] for s in by_tortoise]
    with pytest.raises(ValueError, match="empty"):
        await statements.delete(CaseAlert, {"case_id": cases[0].id}, any_of=("kind", []))


async def test_what_it_cannot_say_is_refused_before_any_sql(db: TortoiseContext, world: World) -> None:
    case = await insert_case(world)
    with pytest.raises(Unsupported):
        await statements.update(Case, {"id": case.id}, {"reopen_count": F("reopen_count") + 1})
    with pytest.raises(Unsupported):
        await statements.update(Case, {"id": case.id}, {"no_such_column": 1})
    with pytest.raises(Unsupported):
        await statements.update(Case, {"id": case.id}, {"id": case.id})
    with pytest.raises(ValueError, match="no value for"):
        await statements.insert(CaseEvent, {"sequence": 10**9})
    assert (await Case.get(id=case.id)).reopen_count == 0
