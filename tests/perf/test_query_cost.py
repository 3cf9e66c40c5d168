"""Regression guards for the agents' queue query (issue 8), cheap enough for every CI run.

No timings: what is counted does not depend on the machine.

- SQL statements per request: the same for 5, 50 and 100 cases, and exactly ``QUEUE_STATEMENTS``
  (the actor's memberships, the viewer, the page with its total and every row's relations);
- the dashboard's own queue document (read from ``casegraph/web/static/agent/queries.js``) and
  the benchmark's extended one take the compiled path;
- Python function calls per additional case: small on the compiled path, and a fraction of what
  the normal execution spends per case (a relative measure, so it holds on any machine);
- Python function calls per additional group of the agent, for a page asked again: a few (the
  membership read), not a page branch built per group and status each time.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, Final

import pytest

from casegraph.fastpath.executor import EXECUTIONS, PLANS
from casegraph.settings import Settings
from models import AssignmentGroup, GroupMembership
from tests.fastpath.test_compiled_queries import token
from tests.helpers import FakeClock, GraphQLClient, counted_statements
from tests.perf.queue_dataset import QueueDataset, load_queue_dataset
from tests.perf.queue_query import QUEUE_QUERY

NOW: Final = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
# The actor's group memberships (authentication), `me` with its groups, and the page.
QUEUE_STATEMENTS: Final = 3
# Python calls the compiled path may make per additional case of a page (measured: ~40 on
# PostgreSQL, ~55 on SQLite, whose times are text; the normal execution makes ~2,700). A resolver
# or a loader per case would blow through it.
CALLS_PER_CASE: Final = 100
# Python calls a repeated page may cost per group of the agent beyond the first: reading and
# holding the membership (measured: 5–6). Building the group's branches again, as every request
# did before the page's statement was kept, cost ~1,150.
CALLS_PER_GROUP: Final = 60
QUERIES_JS: Final = Path(__file__).parents[2] / "casegraph" / "web" / "static" / "agent" / "queries.js"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def queue(db: Any, clock: FakeClock) -> QueueDataset:
    return await load_queue_dataset(cases=200, now=NOW)


@contextmanager
def counted_calls() -> Iterator[list[int]]:
    """Python and C function calls made in this thread while the block runs."""
    count = [0]

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event in ("call", "c_call"):
            count[0] += 1

    sys.setprofile(profile)
    try:
        yield count
    finally:
        sys.setprofile(None)


async def queue_page(client: GraphQLClient, bearer: str, first: int, query: str = QUEUE_QUERY) -> dict[str, Any]:
    body = await client.data(query, {"first": first}, token=bearer)
    return body


def dashboard_queue_query() -> str:
    """QUEUE_QUERY of the agent dashboard, with its fragment, as the page sends it."""
    source = QUERIES_JS.read_text()
    row = re.search(r"export const QUEUE_ROW = `(.*?)`;", source, re.S)
    query = re.search(r"export const QUEUE_QUERY = `(.*?)`;", source, re.S)
    assert row is not None and query is not None, "queries.js no longer defines QUEUE_ROW and QUEUE_QUERY"
    return query.group(1).replace("${QUEUE_ROW}", row.group(1))


async def test_the_queue_query_costs_the_same_statements_for_5_50_and_100_cases(
    client: GraphQLClient, queue: QueueDataset, settings: Settings
) -> None:
    # given: an agent of two groups, whose token was seen already (a first request provisions)
    bearer = token(settings, "agent")
    await queue_page(client, bearer, 1)
    counts = {}
    for first in (5, 50, 100):
        # when
        with counted_statements() as statements:
            page = await queue_page(client, bearer, first)
        # then
        assert len(page["cases"]["edges"]) == first
        counts[first] = len(statements)
    assert counts == {5: QUEUE_STATEMENTS, 50: QUEUE_STATEMENTS, 100: QUEUE_STATEMENTS}, counts


@pytest.mark.parametrize("document", ["dashboard", "benchmark"])
async def test_the_dashboards_and_the_benchmarks_queue_queries_take_the_compiled_path(
    client: GraphQLClient, queue: QueueDataset, settings: Settings, document: str
) -> None:
    query = dashboard_queue_query() if document == "dashboard" else QUEUE_QUERY
    before = EXECUTIONS["compiled"]
    # when
    body = await client.execute(
        query, {"first": 50, "filter": {"status": ["NEW", "OPEN"]}}, token=token(settings, "agent")
    )
    # then
    assert "errors" not in body
    assert EXECUTIONS["compiled"] == before + 1


async def test_each_additional_case_costs_the_compiled_path_few_calls_and_far_fewer_than_resolvers(
    client: GraphQLClient, queue: QueueDataset, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    bearer = token(settings, "admin")
    for first in (10, 100):
        await queue_page(client, bearer, first)  # plans, statements and builders are made once

    async def calls(first: int) -> int:
        with counted_calls() as count:
            await queue_page(client, bearer, first)
        return count[0]

    # when
    compiled = (await calls(100) - await calls(10)) / 90
    with monkeypatch.context() as patched:
        patched.setattr(PLANS, "get", lambda executor: None)
        normal = (await calls(100) - await calls(10)) / 90
    # then
    assert compiled <= CALLS_PER_CASE, compiled
    assert compiled * 10 <= normal, (compiled, normal)


async def test_a_repeated_page_costs_an_agent_of_many_groups_little_more_than_an_agent_of_few(
    client: GraphQLClient, queue: QueueDataset, settings: Settings
) -> None:
    # given: an agent of two groups, whose page was asked for once already
    bearer = token(settings, "agent")
    await queue_page(client, bearer, 50)

    async def calls() -> int:
        await queue_page(client, bearer, 50)  # the page's statement is made once per actor
        with counted_calls() as count:
            await queue_page(client, bearer, 50)
        return count[0]

    few = await calls()
    # when: the agent joins twenty more groups (each with every status a page branch of its own)
    added = 20
    for number in range(added):
        group = await AssignmentGroup.create(code=f"QA_EXTRA_{number}", name=f"Extra {number}", created_at=NOW)
        await GroupMembership.create(
            group_id=group.id, user_id=queue.people["agent"].sub, is_manager=False, created_at=NOW
        )
    many = await calls()
    # then
    assert (many - few) / added <= CALLS_PER_GROUP, (few, many)
