"""An idempotency claim is a lease its holder renews (issue 14, section 7).

A running request keeps its claim alive; one that was taken over while it could not renew (a
database outage, a stalled process) does not commit its change beside the taker's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from casegraph.domain.commands import UpdateCase
from casegraph.domain.enums import CaseAction, ErrorCode
from casegraph.domain.errors import DomainError
from casegraph.services import idempotency
from casegraph.services.case_actions import ActionRequest, perform
from casegraph.services.case_changes import ActionResult
from casegraph.services.idempotency import input_fingerprint, run_idempotent
from models import IdempotencyRecord
from tests.helpers import RecordingPublisher, World, event_count, insert_case

TIMEOUT = 10.0
Store = Callable[[ActionResult], Awaitable[None]]


async def test_a_running_request_renews_its_claim(
    world: World, publisher: RecordingPublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a change that is still running after several renewal periods
    monkeypatch.setattr(idempotency, "RENEW_EVERY", 0.01)
    case = await insert_case(world)
    now = world.clock()
    renewed = asyncio.Event()

    async def run(store: Store | None) -> ActionResult:
        claim = await IdempotencyRecord.get(key="slow")
        # when: it waits until its claim's heartbeat has moved on
        async with asyncio.timeout(TIMEOUT):
            while (await IdempotencyRecord.get(id=claim.id)).created_at == claim.created_at:
                await asyncio.sleep(0.01)
        renewed.set()
        return await perform(
            actor=world.actor("agent"),
            request=ActionRequest(CaseAction.UPDATE, case.id, command=UpdateCase(comment="Still on it.")),
            now=now,
            publisher=publisher,
            on_success=store,
        )

    result = await run_idempotent(
        user_id=world.sub("agent"),
        key="slow",
        operation="updateCase",
        input_hash=input_fingerprint("updateCase", {}),
        now=now,
        run=run,
    )
    # then: the heartbeat moved forward while it ran, and the response was stored at the end
    assert renewed.is_set()
    stored = await IdempotencyRecord.get(key="slow")
    assert stored.response is not None and stored.response["event"] == result.event.sequence


async def test_a_holder_whose_claim_was_taken_over_does_not_commit_its_change(
    world: World, publisher: RecordingPublisher
) -> None:
    # given: a request whose claim lapses and is taken over by a repeat before it stores
    case = await insert_case(world)
    now = world.clock()
    events_before = await event_count(case.id)
    input_hash = input_fingerprint("updateCase", {})

    async def run(store: Store | None) -> ActionResult:
        mine = await IdempotencyRecord.get(key="lapsed")
        await IdempotencyRecord.filter(id=mine.id).delete()
        await IdempotencyRecord.create(
            user_id=mine.user_id, key=mine.key, operation=mine.operation, input_hash=mine.input_hash, created_at=now
        )
        return await perform(
            actor=world.actor("agent"),
            request=ActionRequest(CaseAction.UPDATE, case.id, command=UpdateCase(comment="Twice?")),
            now=now,
            publisher=publisher,
            on_success=store,
        )

    # when: it finishes its change
    with pytest.raises(DomainError) as refused:
        await run_idempotent(
            user_id=world.sub("agent"), key="lapsed", operation="updateCase", input_hash=input_hash, now=now, run=run
        )

    # then: it is refused, its change rolled back, and the taker's claim is left to the taker
    assert refused.value.code is ErrorCode.VERSION_CONFLICT
    assert await event_count(case.id) == events_before
    assert publisher.events == []
    taker = await IdempotencyRecord.get(key="lapsed")
    assert taker.response is None
