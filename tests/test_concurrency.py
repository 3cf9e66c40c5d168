"""Racing writers (lifecycle.md *Every action, every time* and the two paragraphs after it).

Two actions racing on the same case: exactly one wins; the other gets ``VERSION_CONFLICT`` (when it
sent ``expectedVersion``) or is judged against the winner's result. Event sequences follow commit
order: no event is lost, duplicated or reordered.

The requests go concurrently (``asyncio.gather``) through the ASGI app. On PostgreSQL this module
opens the database with a pool as large as the crowd, so the writers really hold connections and
transactions at the same time; a test checks that the pool did grow.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from tortoise.context import TortoiseContext

from casegraph.auth import issue_token
from casegraph.database.counters import ensure_counters
from casegraph.db import tortoise_config
from casegraph.domain.enums import CaseStatus, Role
from casegraph.services import admin
from casegraph.services.users import forget_provisioned
from casegraph.settings import Settings
from models import CaseEvent, Comment
from tests.conftest import CLEAR_TABLES_SQL, forget_backend_caches
from tests.helpers import GraphQLClient, RecordingPublisher, World, case_row, event_count, insert_case

CROWD = 20
# Beyond the service's retry budget (MAX_ATTEMPTS = 20 in casegraph/services/case_actions.py).
BIG_CROWD = 30
POOL_SIZE = BIG_CROWD + 2

ASSIGN_TO_ME = """
mutation Take($input: AssignToMeInput!) {
  assignToMe(input: $input) {
    case { version status assignedTo { id } }
    event { sequence version action }
    errors { code field }
  }
}
"""

UPDATE_CASE = """
mutation Update($input: UpdateCaseInput!) {
  updateCase(input: $input) {
    case { id version }
    event { sequence version action type }
    errors { code field }
  }
}
"""

CREATE_CASE = """
mutation Create($input: CreateCaseInput!) {
  createCase(input: $input) {
    case { id version }
    event { sequence version action type }
    errors { code field }
  }
}
"""


@pytest.fixture
async def db(backend: str, request: pytest.FixtureRequest) -> AsyncIterator[TortoiseContext]:
    """As conftest's ``db``, but on PostgreSQL with a pool large enough for the whole crowd.

    Tortoise's asyncpg pool defaults to at most 5 connections, which would queue the racers in
    the pool instead of in the database.
    """
    forget_backend_caches()
    if backend == "postgres":
        url = request.getfixturevalue("pg_database_url")
        async with TortoiseContext() as ctx:
            await ctx.init(config=tortoise_config(f"{url}?minsize=1&maxsize={POOL_SIZE}"))
            await ctx.db().execute_script(CLEAR_TABLES_SQL)
            await ensure_counters()
            yield ctx
    else:
        async with TortoiseContext() as ctx:
            await ctx.init(config=tortoise_config("sqlite://:memory:"))
            await ctx.generate_schemas(safe=False)
            await ensure_counters()
            yield ctx
    forget_provisioned()


async def add_agents(world: World, count: int, *, group: str = "ROADS") -> list[str]:
    """More agents in ``group``, added by the administrator; returns their ids."""
    subs = [f"{group.lower()}-agent-{index:02d}" for index in range(count)]
    for sub in subs:
        await admin.add_group_member(
            actor=world.actor("admin"), group_code=group, user_id=sub, is_manager=False, now=world.clock()
        )
    return subs


def agent_token(settings: Settings, sub: str) -> str:
    return issue_token(settings, sub=sub, roles=[Role.AGENT], name=sub.title(), email=f"{sub}@example.org")


async def gather_payloads(
    client: GraphQLClient, mutation: str, name: str, calls: list[tuple[dict[str, Any], str]]
) -> list[dict[str, Any]]:
    """Send every (input, token) at once; each must be a clean GraphQL response."""
    bodies = await asyncio.gather(*(client.execute(mutation, {"input": data}, token=token) for data, token in calls))
    for body in bodies:
        assert not body.get("errors"), body["errors"]
    return [body["data"][name] for body in bodies]


async def open_connections(ctx: TortoiseContext, backend: str) -> int:
    """Server-side sessions on our test database (PostgreSQL); 1 for SQLite's single connection."""
    if backend != "postgres":
        return 1
    rows = await ctx.db().execute_query_dict(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database()"
    )
    return int(rows[0]["n"])


async def all_sequences() -> list[int]:
    """Every stored event's sequence, ascending."""
    rows: list[Any] = await CaseEvent.all().order_by("sequence").values_list("sequence", flat=True)
    return [int(sequence) for sequence in rows]


async def case_events(case_id: str) -> list[tuple[int, int]]:
    """(sequence, version) of the case's events in sequence order."""
    rows = await CaseEvent.filter(case_id=case_id).order_by("sequence").values_list("sequence", "version")
    return [(int(s), int(v)) for s, v in rows]


# --- one NEW case, twenty agents --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("send_expected_version", "losers_code"),
    [
        pytest.param(False, "TRANSITION_NOT_ALLOWED", id="without-expected-version"),
        pytest.param(True, "VERSION_CONFLICT", id="with-expected-version"),
    ],
)
async def test_twenty_agents_racing_to_take_a_new_case_leave_exactly_one_winner(
    client: GraphQLClient,
    world: World,
    settings: Settings,
    publisher: RecordingPublisher,
    db: TortoiseContext,
    backend: str,
    send_expected_version: bool,
    losers_code: str,
) -> None:
    # given
    case = await insert_case(world, assigned_to=None)
    agents = await add_agents(world, CROWD)
    data: dict[str, Any] = {"caseId": case.id, **({"expectedVersion": 1} if send_expected_version else {})}
    events_before = await event_count()
    # when
    payloads = await gather_payloads(
        client, ASSIGN_TO_ME, "assignToMe", [(data, agent_token(settings, sub)) for sub in agents]
    )
    # then: one winner, every other racer refused with the code the spec names
    winners = [p for p in payloads if not p["errors"]]
    assert len(winners) == 1, payloads
    refusals = sorted(error["code"] for p in payloads if p["errors"] for error in p["errors"])
    assert refusals == [losers_code] * (CROWD - 1)
    assert all(p["case"] is None and p["event"] is None for p in payloads if p["errors"])
    # and: the case moved exactly once, to the winner, with one new event
    winner = winners[0]
    winner_id = winner["case"]["assignedTo"]["id"]
    assert winner_id in agents
    assert winner["case"] == {"version": 2, "status": "OPEN", "assignedTo": {"id": winner_id}}
    assert winner["event"]["version"] == 2 and winner["event"]["action"] == "ASSIGN_TO_ME"
    row = await case_row(case.id)
    assert (row.status, row.version, row.assigned_to_id) == (CaseStatus.OPEN, 2, winner_id)
    assert await event_count() == events_before + 1
    assert [version for _, version in await case_events(case.id)] == [1, 2]
    assert [(e.case_id, e.version) for e in publisher.events] == [(case.id, 2)]
    if backend == "postgres":
        assert await open_connections(db, backend) > 2, "the racers never held connections at the same time"


async def test_a_racer_that_sends_the_current_version_after_the_race_is_judged_on_the_new_state(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: the race is over
    case = await insert_case(world, assigned_to=None)
    agents = await add_agents(world, 2)
    await gather_payloads(client, ASSIGN_TO_ME, "assignToMe", [({"caseId": case.id}, agent_token(settings, agents[0]))])
    # when: a late racer sends the version it now sees
    [late] = await gather_payloads(
        client,
        ASSIGN_TO_ME,
        "assignToMe",
        [({"caseId": case.id, "expectedVersion": 2}, agent_token(settings, agents[1]))],
    )
    # then
    assert [e["code"] for e in late["errors"]] == ["TRANSITION_NOT_ALLOWED"]
    assert (await case_row(case.id)).version == 2
    assert await event_count(case.id) == 2


# --- many comments on one case ---------------------------------------------------------------------


@pytest.mark.parametrize("crowd", [CROWD, BIG_CROWD])
async def test_concurrent_comments_without_expected_version_all_land_in_order(
    client: GraphQLClient,
    world: World,
    settings: Settings,
    publisher: RecordingPublisher,
    db: TortoiseContext,
    backend: str,
    crowd: int,
) -> None:
    # given: a case of ROADS, commented on by the group's agents at once
    case = await insert_case(world, assigned_to="agent")
    agents = await add_agents(world, crowd - 1)
    tokens = [world.token(settings, "agent"), *(agent_token(settings, sub) for sub in agents)]
    calls = [({"caseId": case.id, "comment": f"Comment number {index}"}, token) for index, token in enumerate(tokens)]
    # when
    payloads = await gather_payloads(client, UPDATE_CASE, "updateCase", calls)
    # then: every comment succeeded (none sent a version, so none may get VERSION_CONFLICT)
    assert [p["errors"] for p in payloads] == [[]] * crowd
    versions = sorted(p["case"]["version"] for p in payloads)
    assert versions == list(range(2, crowd + 2))
    assert sorted(p["event"]["version"] for p in payloads) == versions
    assert {p["event"]["action"] for p in payloads} == {"UPDATE"}
    # and: the case and its history agree, one event per comment, versions in sequence order
    assert (await case_row(case.id)).version == crowd + 1
    history = await case_events(case.id)
    assert [version for _, version in history] == list(range(1, crowd + 2))
    assert await Comment.filter(case_id=case.id).count() == crowd
    bodies: list[Any] = await Comment.filter(case_id=case.id).values_list("body", flat=True)
    assert sorted(bodies) == sorted(f"Comment number {index}" for index in range(crowd))
    # and: each payload's event is the stored event at that version
    by_version = {version: sequence for sequence, version in history}
    assert {p["event"]["version"]: p["event"]["sequence"] for p in payloads} == {
        v: s for v, s in by_version.items() if v > 1
    }
    assert sorted(e.version for e in publisher.events) == versions
    if backend == "postgres":
        assert await open_connections(db, backend) > 2, "the writers never held connections at the same time"


# --- actions on different cases --------------------------------------------------------------------


async def test_concurrent_actions_on_different_cases_get_unique_gapless_sequences(
    client: GraphQLClient, world: World, settings: Settings, publisher: RecordingPublisher
) -> None:
    # given: a case per agent, and constituents filing new ones at the same time
    agents = await add_agents(world, CROWD // 2)
    cases = [await insert_case(world, assigned_to=None) for _ in agents]
    take = [({"caseId": c.id}, agent_token(settings, sub)) for c, sub in zip(cases, agents, strict=True)]
    comment = [
        ({"caseId": c.id, "workNote": f"Looked at {c.number}"}, agent_token(settings, sub))
        for c, sub in zip(cases, agents, strict=True)
    ]
    file = [
        ({"caseTypeCode": "QUESTION", "title": f"Question {index}"}, world.token(settings, who))
        for index, who in enumerate(["requester", "other_constituent"] * 4)
    ]
    sequences_before = await all_sequences()
    # when
    taken, commented, filed = await asyncio.gather(
        gather_payloads(client, ASSIGN_TO_ME, "assignToMe", take),
        gather_payloads(client, UPDATE_CASE, "updateCase", comment),
        gather_payloads(client, CREATE_CASE, "createCase", file),
    )
    # then: everything succeeded
    payloads = [*taken, *commented, *filed]
    assert [p["errors"] for p in payloads] == [[]] * len(payloads)
    # and: every new event has its own sequence, above every older one, with no gap
    returned = sorted(p["event"]["sequence"] for p in payloads)
    assert len(set(returned)) == len(returned)
    stored = await all_sequences()
    assert len(stored) == len(sequences_before) + len(payloads)
    assert stored == list(range(stored[0], stored[0] + len(stored)))
    assert returned == stored[len(sequences_before) :]
    assert min(returned) > max(sequences_before)
    # and: within each case, versions follow sequences
    for case in cases:
        history = await case_events(case.id)
        assert [version for _, version in history] == list(range(1, len(history) + 1))
        assert len(history) == 3
    assert sorted(e.sequence for e in publisher.events) == returned


async def test_a_reader_polling_during_concurrent_writes_never_finds_a_new_event_below_one_it_saw(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    agents = await add_agents(world, CROWD)
    case = await insert_case(world, assigned_to="agent")
    other_cases = [await insert_case(world, assigned_to=None) for _ in range(CROWD // 2)]
    calls_comment = [
        ({"caseId": case.id, "comment": f"c{index}"}, agent_token(settings, sub)) for index, sub in enumerate(agents)
    ]
    calls_take = [({"caseId": c.id}, agent_token(settings, sub)) for c, sub in zip(other_cases, agents, strict=False)]
    done = asyncio.Event()
    late_arrivals: list[tuple[int, int]] = []
    polls = 0

    async def reader() -> None:
        nonlocal polls
        seen = set(await all_sequences())
        while True:
            finished = done.is_set()
            now = set(await all_sequences())
            polls += 1
            highest = max(seen)
            late_arrivals.extend((sequence, highest) for sequence in now - seen if sequence < highest)
            seen |= now
            if finished:
                return
            await asyncio.sleep(0)

    async def writers() -> list[list[dict[str, Any]]]:
        try:
            return list(
                await asyncio.gather(
                    gather_payloads(client, UPDATE_CASE, "updateCase", calls_comment),
                    gather_payloads(client, ASSIGN_TO_ME, "assignToMe", calls_take),
                )
            )
        finally:
            done.set()

    # when
    written, _ = await asyncio.gather(writers(), reader())
    # then
    assert all(p["errors"] == [] for batch in written for p in batch)
    assert late_arrivals == []
    assert polls >= 2
    assert (await case_row(case.id)).version == CROWD + 1
