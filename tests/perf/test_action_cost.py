"""Regression guard for a case action's cost (issue 8: ``assignToMe`` under 5 ms), cheap enough
for every CI run: no timings, only what does not depend on the machine.

- ``assignToMe`` sends exactly ``ASSIGN_STATEMENTS`` statements once its shapes have been seen
  (the actor's memberships, the case, its conditional update, the event's sequence and row — one
  statement on PostgreSQL, two on SQLite: ``statements.insert_numbered`` — the
  assignee's routing time, which returns the assignee's row the payload shows, the SLA settings,
  timers and the timer it stops, the active webhook endpoints) and none of them is built by pypika: each was rendered once
  (``casegraph/database/statements.py``, ``database/case_rows.py``, ``services/users.build_actor``);
- nothing in it reads the event log (an idle hub does not either: ``tests/events/test_hub_and_feed.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

import pytest

from casegraph.domain.enums import Role
from casegraph.domain.relations import Actor
from casegraph.services.sla_config import set_sla_policy
from casegraph.settings import Settings
from tests.helpers import GraphQLClient, World, counted_statements
from tests.perf.documents import ASSIGN_TO_ME, CREATE_CASE  # what bench/assign.py measures
from tests.perf.query_building import counted_query_building

ASSIGN_STATEMENTS: Final = {"sqlite": 10, "postgres": 9}


async def test_assign_to_me_sends_its_fixed_statements_and_builds_none(
    client: GraphQLClient, world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    # given: a case type with SLA targets, cases filed by a constituent, one action seen already
    admin = Actor(user_id="admin", roles=frozenset({Role.ADMIN}))
    await set_sla_policy(
        actor=admin,
        case_type_code="POTHOLE",
        priority=3,
        response_minutes=60,
        resolution_minutes=600,
        now=datetime(2026, 11, 2, tzinfo=UTC),
    )
    constituent = world.token(settings, "requester")
    cases = [
        (await client.data(CREATE_CASE, {"title": f"Pothole {i}"}, token=constituent))["createCase"]["case"]["id"]
        for i in range(2)
    ]
    agent = world.token(settings, "agent")
    await client.data(ASSIGN_TO_ME, {"caseId": cases[0]}, token=agent)
    # when
    with counted_statements() as statements, counted_query_building(monkeypatch) as built:
        answer = await client.data(ASSIGN_TO_ME, {"caseId": cases[1]}, token=agent)
    # then
    assert answer["assignToMe"]["case"] is not None, answer
    assert answer["assignToMe"]["case"]["status"] == "OPEN" and answer["assignToMe"]["errors"] == []
    assert built == []
    assert len(statements) == ASSIGN_STATEMENTS[backend], "\n".join(statements)
    assert not any('FROM "case_events"' in statement for statement in statements)
