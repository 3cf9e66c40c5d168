"""The dialect layer of analytics SQL: exact epoch microseconds from stored times on both backends,
placeholders numbered in text order, and backlog buckets that put an event on a boundary in the
bucket it opens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from tortoise.context import TortoiseContext

from casegraph.database.counters import next_value
from casegraph.domain.enums import CaseStage, CaseStatus
from casegraph.services.analytics import BacklogInterval, backlog
from casegraph.services.analytics_scope import Scope
from casegraph.services.analytics_sql import Statement, epoch_us
from models import Case, CaseEvent
from tests.helpers import World, insert_case

T0 = datetime(2026, 11, 2, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


async def test_stored_times_read_back_as_exact_epoch_microseconds(world: World) -> None:
    # given times with and without a fraction, one written with another offset
    moments = [
        T0,
        T0 + timedelta(seconds=1, microseconds=1),
        T0 - MICROSECOND,
        datetime(2026, 11, 2, 11, 0, 0, 999999, tzinfo=timezone(timedelta(hours=2))),
    ]
    case = await insert_case(world)
    for moment in moments:
        await Case.filter(id=case.id).update(updated_at=moment)
        stmt = Statement()
        # when
        rows = await stmt.fetch(
            f"SELECT {stmt.epoch_us('c.updated_at')} AS us FROM cases c WHERE c.id = {stmt.value(case.id)}"
        )
        # then
        assert int(rows[0]["us"]) == epoch_us(moment), moment


async def test_markers_become_placeholders_in_text_order_and_may_repeat(db: TortoiseContext) -> None:
    # given
    stmt = Statement()
    later, earlier = stmt.value("b"), stmt.value("a")
    # when
    text, params = stmt.render(f"SELECT {earlier}, {later}, {earlier}")
    # then
    if stmt.sqlite:
        assert (text, params) == ("SELECT ?, ?, ?", ["a", "b", "a"])
    else:
        assert (text, params) == ("SELECT $1, $2, $1", ["a", "b"])
    assert stmt.values([]) == "(NULL)"


async def test_an_event_on_a_bucket_boundary_counts_in_the_bucket_it_opens(world: World) -> None:
    # given cases submitted 1 µs before midnight, at midnight, and 1 µs before the range ends
    for moment in (T0 + timedelta(days=1) - MICROSECOND, T0 + timedelta(days=1), T0 + timedelta(days=2) - MICROSECOND):
        case = await insert_case(world)
        await CaseEvent.create(
            sequence=await next_value("event_sequence"),
            case_id=case.id,
            actor_id=world.sub("agent"),
            type="CASE_TRANSITIONED",
            action="PROPOSE_SOLUTION",
            from_stage=CaseStage.INTAKE,
            from_status=CaseStatus.NEW,
            to_stage=CaseStage.DECISION,
            to_status=CaseStatus.RESOLVED,
            version=2,
            summary={},
            occurred_at=moment,
        )
        # as every recorded transition does, in the same transaction as its event
        await Case.filter(id=case.id).update(status=CaseStatus.RESOLVED, stage=CaseStage.DECISION)
    scope = Scope(group_ids=None, case_type_ids=None, start=T0, end=T0 + timedelta(days=2), now=T0)
    # when
    buckets = await backlog(scope, BacklogInterval.DAY)
    # then the CASE_CREATED events (written at the fixture clock's time, on day 0) open all three
    assert [(b.opened, b.resolved, b.open_at_end) for b in buckets] == [(3, 1, 2), (0, 2, 0)]
