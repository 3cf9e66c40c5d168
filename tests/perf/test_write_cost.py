"""Statement counts of the action mutations the write benchmark sends (bench/writes.py), cheap
enough for every CI run: no timings, only what does not depend on the machine.

Under concurrency every writer waits on the event-sequence counter's row lock, held from the
counter's bump to commit (``casegraph/database/counters.py``), so what counts most is how many
round trips a mutation makes while it holds it. On PostgreSQL the bump and the event's insert are
one statement (``statements.insert_numbered``); SQLite, which cannot UPDATE inside WITH and
serializes its writers anyway, sends the two. And the event is appended last
(``case_changes.commit_change``): after it, only the writes that name the event — nothing is
read while the lock is held. And none of their statements is built by pypika per request: each
is rendered once (``casegraph/database/statements.py``), since building one costs the server more
CPU than sending it. ``assignToMe``'s count has its own guard in test_action_cost.py.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final

import pytest

from casegraph.domain.enums import Role
from casegraph.domain.relations import Actor
from casegraph.services.sla_config import set_sla_policy
from casegraph.settings import Settings
from tests.helpers import GraphQLClient, World, counted_statements
from tests.perf.documents import ASSIGN_TO_ME, COMMENT_ON_CASE, CREATE_CASE, PROPOSE_SOLUTION
from tests.perf.query_building import counted_query_building

COMMENT_STATEMENTS: Final = {"sqlite": 9, "postgres": 8}
# A proposal mails the requester (issue 17): their address read before the sequence, the mail
# written after it.
PROPOSE_STATEMENTS: Final = {"sqlite": 15, "postgres": 14}
BARE_COUNTER_BUMP: Final = 'UPDATE "counters"'
EVENT_INSERT: Final = 'INSERT INTO "case_events"'


STATEMENT: Final = re.compile(r'^(SELECT|INSERT|UPDATE|DELETE)\b.*?(?:FROM|INTO|UPDATE) "(\w+)"', re.DOTALL)


def after_the_event(statements: list[str]) -> list[str]:
    """What was sent after the statement that appended the event, as "VERB table"."""
    [appended] = [i for i, statement in enumerate(statements) if EVENT_INSERT in statement]
    shapes = []
    for statement in statements[appended + 1 :]:
        found = STATEMENT.match(statement)
        assert found is not None, statement
        shapes.append(f"{found[1]} {found[2]}")
    return shapes


async def _assigned_cases(client: GraphQLClient, world: World, settings: Settings, count: int) -> list[str]:
    """``count`` cases filed by a constituent and taken by the agent, under an SLA policy."""
    admin = Actor(user_id="admin", roles=frozenset({Role.ADMIN}))
    await set_sla_policy(
        actor=admin,
        case_type_code="POTHOLE",
        priority=3,
        response_minutes=60,
        resolution_minutes=600,
        now=datetime(2026, 11, 2, tzinfo=UTC),
    )
    constituent, agent = world.token(settings, "requester"), world.token(settings, "agent")
    cases = []
    for i in range(count):
        answer = await client.data(CREATE_CASE, {"title": f"Pothole {i}"}, token=constituent)
        case_id = answer["createCase"]["case"]["id"]
        assigned = await client.data(ASSIGN_TO_ME, {"caseId": case_id}, token=agent)
        assert assigned["assignToMe"]["errors"] == [], assigned
        cases.append(case_id)
    return cases


async def test_a_comment_sends_its_fixed_statements_and_builds_none(
    client: GraphQLClient, world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    # given: two taken cases, one comment seen already
    cases = await _assigned_cases(client, world, settings, 2)
    agent = world.token(settings, "agent")
    await client.data(COMMENT_ON_CASE, {"caseId": cases[0], "body": "On it."}, token=agent)
    # when
    with counted_statements() as statements, counted_query_building(monkeypatch) as built:
        answer = await client.data(COMMENT_ON_CASE, {"caseId": cases[1], "body": "On it."}, token=agent)
    # then
    assert answer["updateCase"]["errors"] == [] and answer["updateCase"]["event"] is not None, answer
    assert built == []
    assert len(statements) == COMMENT_STATEMENTS[backend], "\n".join(statements)
    # the comment names the event; the answered comment's alert was keyed by an event
    assert after_the_event(statements) == ["INSERT comments", "DELETE case_alerts"]
    if backend == "postgres":
        assert not any(statement.startswith(BARE_COUNTER_BUMP) for statement in statements)


async def test_a_proposed_solution_sends_its_fixed_statements_and_builds_none(
    client: GraphQLClient, world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    # given: two taken cases, one solution proposed already
    cases = await _assigned_cases(client, world, settings, 2)
    agent = world.token(settings, "agent")
    await client.data(PROPOSE_SOLUTION, {"caseId": cases[0]}, token=agent)
    # when
    with counted_statements() as statements, counted_query_building(monkeypatch) as built:
        answer = await client.data(PROPOSE_SOLUTION, {"caseId": cases[1]}, token=agent)
    # then
    assert answer["proposeSolution"]["errors"] == [] and answer["proposeSolution"]["case"]["status"] == "RESOLVED", (
        answer
    )
    assert built == []
    assert len(statements) == PROPOSE_STATEMENTS[backend], "\n".join(statements)
    # the stage-dwell alert is keyed by the event; the old ones go; the requester's mail names it
    assert after_the_event(statements) == ["DELETE case_alerts", "INSERT case_alerts", "INSERT mail_deliveries"]
    if backend == "postgres":
        assert not any(statement.startswith(BARE_COUNTER_BUMP) for statement in statements)


async def test_an_assignment_appends_its_event_last_in_one_statement_on_postgres(
    client: GraphQLClient, world: World, settings: Settings, backend: str
) -> None:
    # given
    constituent, agent = world.token(settings, "requester"), world.token(settings, "agent")
    filed = await client.data(CREATE_CASE, {"title": "Pothole"}, token=constituent)
    # when
    with counted_statements() as statements:
        answer = await client.data(ASSIGN_TO_ME, {"caseId": filed["createCase"]["case"]["id"]}, token=agent)
    # then
    assert answer["assignToMe"]["errors"] == [], answer
    bumps = [s for s in statements if '"counters"' in s]
    assert len(bumps) == 1, "\n".join(statements)
    if backend == "postgres":
        assert bumps[0].startswith('WITH "next" AS (INSERT INTO "counters"') and 'INSERT INTO "case_events"' in bumps[0]
    else:
        assert bumps[0].startswith(BARE_COUNTER_BUMP)
    # nothing names the event, and the payload's assignee is the row the assignment's write
    # returned: nothing is sent after it
    assert after_the_event(statements) == []
    assert any(s.startswith('UPDATE "users"') and " RETURNING " in s for s in statements), "\n".join(statements)
    agent_person = world.people["agent"]
    assert answer["assignToMe"]["case"]["assignedTo"] == {"id": agent_person.sub, "name": agent_person.name}
