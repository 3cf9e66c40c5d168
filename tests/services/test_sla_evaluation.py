"""The SLA evaluator as a service: at most once, catch-up after downtime, races, the background task.

Cases are filed and moved through the real services (so the change hook keeps their timers);
time is a FakeClock and ``evaluate_due`` is called at its readings; nothing sleeps.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from casegraph.domain.commands import ProposeSolution, RequestInfo
from casegraph.domain.enums import CaseAction, CaseEventType, CaseStatus, ResolutionCode
from casegraph.services import sla_config
from casegraph.services.case_actions import ActionRequest, perform
from casegraph.services.case_creation import NewCase, create_case
from casegraph.services.sla_evaluation import evaluate_due
from casegraph.sla_scheduler import SlaScheduler
from models import CaseAlert, CaseEvent, CaseTimer, Notification
from tests.helpers import FakeClock, RecordingPublisher, World, case_row

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


async def taken_case(world: World, clock: FakeClock, publisher: RecordingPublisher, *, policy: bool = True) -> str:
    """A POTHOLE case of priority 3 (response 60, resolution 240 minutes) that Dana took."""
    if policy:
        await sla_config.set_sla_policy(
            actor=world.actor("admin"),
            case_type_code="POTHOLE",
            priority=3,
            response_minutes=60,
            resolution_minutes=240,
            now=clock(),
        )
    created = await create_case(
        actor=world.actor("requester"),
        new=NewCase(case_type_code="POTHOLE", title="Hole", impact=2, urgency=2),
        now=clock(),
        publisher=publisher,
    )
    await perform(
        actor=world.actor("agent"),
        request=ActionRequest(CaseAction.ASSIGN_TO_ME, created.case.id),
        now=clock(),
        publisher=publisher,
    )
    return created.case.id


async def sla_events(case_id: str) -> list[tuple[str, int, str]]:
    """(type, threshold, timer) of the case's SLA events in sequence order."""
    rows = await CaseEvent.filter(case_id=case_id, action=CaseAction.SLA_TIMER).order_by("sequence")
    return [(row.type.value, row.summary["threshold"], row.summary["timer"]) for row in rows]


async def test_running_the_evaluator_again_fires_nothing_twice(
    world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given
    case_id = await taken_case(world, clock, publisher)
    clock.advance(121 * MINUTE)
    now = clock()
    # when
    first = await evaluate_due(now=now, publisher=publisher)
    second = await evaluate_due(now=now, publisher=publisher)
    third = await evaluate_due(now=clock(), publisher=publisher)
    # then
    assert len(first.events) == 1 and second.events == [] and third.events == []
    assert await sla_events(case_id) == [("SLA_WARNING", 50, "RESOLUTION")]
    assert await Notification.filter(case_id=case_id).count() == 1


async def test_concurrent_evaluators_fire_each_threshold_once(
    world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: three cases past their breach, never evaluated
    cases = [await taken_case(world, clock, publisher, policy=index == 0) for index in range(3)]
    clock.advance(5 * 60 * MINUTE)
    now = clock()
    # when: four evaluators at once
    results = await asyncio.gather(*(evaluate_due(now=now, publisher=publisher) for _ in range(4)))
    # then: 3 thresholds × 3 cases, each exactly once, whoever fired it
    fired = [event for result in results for event in result.events]
    assert len(fired) == 9
    assert len({(e.case_id, e.summary["threshold"]) for e in fired}) == 9
    for case_id in cases:
        assert await sla_events(case_id) == [
            ("SLA_WARNING", 50, "RESOLUTION"),
            ("SLA_WARNING", 75, "RESOLUTION"),
            ("SLA_BREACHED", 100, "RESOLUTION"),
        ]
    assert sorted(e.sequence for e in publisher.events if e.action is CaseAction.SLA_TIMER) == sorted(
        e.sequence for e in fired
    )


async def test_a_restarted_server_catches_up_each_missed_threshold_once_in_order(
    world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: the server was down from the start; the case is far past every threshold
    case_id = await taken_case(world, clock, publisher)
    started = (await CaseTimer.get(case_id=case_id, kind="RESOLUTION")).running_since
    assert started is not None
    clock.advance(3 * DAY)
    # when
    caught_up = await evaluate_due(now=clock(), publisher=publisher)
    again = await evaluate_due(now=clock(), publisher=publisher)
    # then: 50, 75, 100 in order, each stamped with when it was actually due; and the dwell alert
    assert [(e.type, e.summary["threshold"]) for e in caught_up.events] == [
        (CaseEventType.SLA_WARNING, 50),
        (CaseEventType.SLA_WARNING, 75),
        (CaseEventType.SLA_BREACHED, 100),
    ]
    assert [e.summary["dueAt"] for e in caught_up.events] == [
        (started + minutes * MINUTE).isoformat() for minutes in (120, 180, 240)
    ]
    versions = [e.version for e in caught_up.events]
    assert versions == list(range(versions[0], versions[0] + 3))
    assert caught_up.alerts == 1  # two days in INTAKE
    assert again.events == [] and again.alerts == 0
    assert (await case_row(case_id)).escalated


async def test_an_agent_acting_between_passes_is_never_overwritten(
    world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: at 50 %, the evaluator and Dana's request for information race
    case_id = await taken_case(world, clock, publisher)
    clock.advance(121 * MINUTE)
    now = clock()
    ask = perform(
        actor=world.actor("agent"),
        request=ActionRequest(CaseAction.REQUEST_INFO, case_id, command=RequestInfo(question="Where exactly?")),
        now=now,
        publisher=publisher,
    )
    # when
    evaluation, asked = await asyncio.gather(evaluate_due(now=now, publisher=publisher), ask)
    # then: both recorded, versions consecutive, the case awaiting info with its clock paused
    case = await case_row(case_id)
    versions: list[Any] = await CaseEvent.filter(case_id=case_id).order_by("sequence").values_list("version", flat=True)
    assert len(evaluation.events) == 1 and asked.case.status is CaseStatus.AWAITING_INFO
    assert list(versions) == list(range(1, case.version + 1))
    assert case.status is CaseStatus.AWAITING_INFO
    assert (await CaseTimer.get(case_id=case_id, kind="RESOLUTION")).running_since is None


async def test_the_background_task_evaluates_at_start_and_stops_cleanly(
    world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: a breach missed while no server ran
    case_id = await taken_case(world, clock, publisher)
    clock.advance(5 * 60 * MINUTE)
    scheduler = SlaScheduler(interval=3600, clock=clock, publisher=lambda: publisher)
    # when: started, its first pass is immediate
    await scheduler.start()
    await asyncio.wait_for(scheduler.passed.wait(), timeout=30)
    await scheduler.stop()
    # then
    assert not scheduler.running and scheduler.passes == 1
    assert [t for t, _, _ in await sla_events(case_id)] == ["SLA_WARNING", "SLA_WARNING", "SLA_BREACHED"]


async def test_the_background_task_keeps_going_after_a_failing_pass(
    world: World, clock: FakeClock, publisher: RecordingPublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the first pass fails
    import casegraph.sla_scheduler as module

    calls: list[int] = []
    real = evaluate_due  # the scheduler's own reference, replaced below

    async def flaky(**kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database restarting")
        return await real(**kwargs)

    monkeypatch.setattr(module, "evaluate_due", flaky)
    case_id = await taken_case(world, clock, publisher)
    clock.advance(121 * MINUTE)
    scheduler = SlaScheduler(interval=0.001, clock=clock, publisher=lambda: publisher)
    # when
    await scheduler.start()
    while scheduler.passes < 2:
        scheduler.passed.clear()
        await asyncio.wait_for(scheduler.passed.wait(), timeout=30)
    await scheduler.stop()
    # then
    assert await sla_events(case_id) == [("SLA_WARNING", 50, "RESOLUTION")]


async def test_an_interval_of_zero_turns_the_background_task_off(clock: FakeClock) -> None:
    scheduler = SlaScheduler(interval=0, clock=clock, publisher=RecordingPublisher)
    await scheduler.start()
    assert not scheduler.running
    await scheduler.stop()


async def test_an_alert_that_no_longer_applies_when_due_is_skipped_not_sent(
    world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: an INTAKE dwell alert is pending, then an admin switches INTAKE alerts off
    case_id = await taken_case(world, clock, publisher, policy=False)
    await sla_config.set_sla_settings(
        actor=world.actor("admin"), case_type_code="POTHOLE", changes={"dwell_intake_minutes": 0}, now=clock()
    )
    # when
    evaluation = await evaluate_due(now=clock() + 3 * DAY, publisher=publisher)
    # then
    alert = await CaseAlert.get(case_id=case_id, kind="STAGE_DWELL")
    assert (evaluation.alerts, evaluation.skipped) == (0, 1)
    assert alert.outcome == "SKIPPED" and await Notification.filter(case_id=case_id).count() == 0


async def test_an_auto_close_refused_inside_its_transaction_is_skipped_not_retried(
    world: World, clock: FakeClock, publisher: RecordingPublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a change hook that refuses automatic closing (as open child cases do), and a case
    # resolved eleven days ago on a type that auto-closes
    from casegraph.domain.errors import transition_not_allowed
    from casegraph.services import extensions

    async def refuse(before: Any, after: Any, event: Any) -> None:
        if event.action is CaseAction.AUTO_CLOSE:
            raise transition_not_allowed("A child case is still open.")

    monkeypatch.setattr(extensions, "CHANGE_HOOKS", [*extensions.CHANGE_HOOKS, refuse])
    await sla_config.set_sla_settings(
        actor=world.actor("admin"), case_type_code="POTHOLE", changes={"auto_close_enabled": True}, now=clock()
    )
    case_id = await taken_case(world, clock, publisher, policy=False)
    await perform(
        actor=world.actor("agent"),
        request=ActionRequest(
            CaseAction.PROPOSE_SOLUTION,
            case_id,
            command=ProposeSolution(
                resolution_code=ResolutionCode.SOLVED,
                resolution_notes="Filled.",
            ),
        ),
        now=clock(),
        publisher=publisher,
    )
    clock.advance(11 * DAY)
    # when
    first = await evaluate_due(now=clock(), publisher=publisher)
    second = await evaluate_due(now=clock(), publisher=publisher)
    # then: the reminder went out in the same pass; the close did not happen and is not retried
    close = await CaseAlert.get(case_id=case_id, kind="AUTO_CLOSE")
    assert (await case_row(case_id)).status is CaseStatus.RESOLVED
    assert first.events == [] and first.alerts == 2 and first.skipped == 1  # reminder + DECISION dwell
    assert close.outcome == "SKIPPED"
    assert second.events == [] and second.alerts == 0 and second.skipped == 0


async def test_a_deleted_case_stops_counting_until_restored(
    world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: deleted 30 minutes in
    case_id = await taken_case(world, clock, publisher)
    clock.advance(30 * MINUTE)
    await perform(
        actor=world.actor("agent"), request=ActionRequest(CaseAction.DELETE, case_id), now=clock(), publisher=publisher
    )
    # when
    while_deleted = await evaluate_due(now=clock() + 30 * DAY, publisher=publisher)
    clock.advance(30 * DAY)
    await perform(
        actor=world.actor("admin"), request=ActionRequest(CaseAction.RESTORE, case_id), now=clock(), publisher=publisher
    )
    after = await evaluate_due(now=clock() + 91 * MINUTE, publisher=publisher)
    # then: 30 + 91 minutes counted, so 50 % (120) and nothing more
    assert while_deleted.events == [] and while_deleted.alerts == 0
    assert [e.summary["threshold"] for e in after.events] == [50]
    assert await CaseAlert.filter(case_id=case_id).count() == 0  # deleting dropped the dwell alert


async def test_a_case_nobody_took_alerts_the_groups_managers(
    world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: filed, never taken
    await create_case(
        actor=world.actor("requester"),
        new=NewCase(case_type_code="POTHOLE", title="Hole"),
        now=clock(),
        publisher=publisher,
    )
    # when
    evaluation = await evaluate_due(now=clock() + 2 * DAY + MINUTE, publisher=publisher)
    # then
    assert evaluation.alerts == 1
    notified: list[Any] = await Notification.filter(kind="STAGE_DWELL").values_list("user_id", flat=True)
    assert notified == ["maria"]


async def test_a_backlog_larger_than_a_batch_is_worked_off_in_one_pass(
    world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: five cases at 50 %
    for index in range(5):
        await taken_case(world, clock, publisher, policy=index == 0)
    clock.advance(121 * MINUTE)
    # when
    evaluation = await evaluate_due(now=clock(), publisher=publisher, batch=2)
    # then
    assert len(evaluation.events) == 5 and len({e.case_id for e in evaluation.events}) == 5
