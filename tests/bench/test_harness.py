"""The benchmark's data set still fits casegraph's schema, and the API reads back what it wrote.

``make bench`` loads its data set with COPY straight into the tables, bypassing the services;
this keeps that loader (and the benchmark's queue query) in step with the schema as it evolves.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import pytest
from tortoise.context import TortoiseContext

from bench.dataset import TABLES, DatasetSpec, GeneratedDataset, generate, load_dataset
from bench.dataset_world import BENCH_AGENT_NAME
from bench.load import parse as parse_wrk
from bench.queue_queries import CASEGRAPH_QUEUE, OPEN_STATUSES, casegraph_rows
from casegraph.domain.enums import Role
from tests.helpers import GraphQLClient

SPEC = DatasetSpec(cases=120, seed=3, now=datetime(2026, 11, 2, 9, 0, tzinfo=UTC))


def expected_queue(data: GeneratedDataset) -> list[dict[str, Any]]:
    """The bench agent's open cases as the loader wrote them, newest update first, in
    ``casegraph_rows``' shape (the agent is in two groups and neither requests nor is
    assigned cases elsewhere)."""
    names = {user["id"]: user["name"] for user in data.records("users")}
    groups = {g["id"]: g["code"] for g in data.records("assignment_groups")}
    types = {t["id"]: t["code"] for t in data.records("case_types")}
    tasks: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for task in sorted(data.records("case_tasks"), key=lambda t: t["id"]):
        tasks[task["case_id"]].append(task)
    timers: dict[Any, list[tuple[str, str]]] = defaultdict(list)
    for timer in data.records("case_timers"):
        timers[timer["case_id"]].append((timer["kind"], timer["phase"]))
    visible = [
        case
        for case in data.records("cases")
        if case["assignment_group_id"] in data.bench_group_ids
        and case["status"] in OPEN_STATUSES
        and case["deleted_at"] is None
    ]
    visible.sort(key=lambda c: (c["updated_at"], str(c["id"])), reverse=True)
    return [
        {
            "number": case["number"],
            "status": case["status"],
            "version": case["version"],
            "updatedAt": case["updated_at"],
            "assignedTo": case["assigned_to_id"] and (case["assigned_to_id"], names[case["assigned_to_id"]]),
            "group": groups[case["assignment_group_id"]],
            "caseType": types[case["case_type_id"]],
            "tasks": [
                (str(t["id"]), t["state"], t["assignee_id"] and (t["assignee_id"], names[t["assignee_id"]]))
                for t in tasks[case["id"]]
            ],
            "timers": sorted(timers[case["id"]], key=lambda kind_phase: kind_phase[0] != "RESPONSE"),
        }
        for case in visible
    ]


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"])
async def test_the_loaded_data_set_is_what_the_cases_query_returns(
    db: TortoiseContext, pg_database_url: str, client: GraphQLClient
) -> None:
    # given
    data = await load_dataset(pg_database_url, SPEC)

    # when
    counts = {
        table: (await db.db().execute_query_dict(f"SELECT count(*) AS n FROM {table}"))[0]["n"] for table, _ in TABLES
    }
    token = client.token(data.bench_agent_id, Role.AGENT, name=BENCH_AGENT_NAME)
    answer = await client.data(CASEGRAPH_QUEUE, {"filter": {"status": list(OPEN_STATUSES)}, "first": 100}, token=token)

    # then
    assert counts == data.counts()
    assert (counts["cases"], counts["case_tasks"]) == (120, 360)
    expected = expected_queue(data)
    assert 10 < len(expected) < 100
    assert answer["cases"]["totalCount"] == len(expected)
    rows = casegraph_rows({"data": answer})
    assert [
        {
            "number": row["number"],
            "status": row["status"],
            "version": row["version"],
            "updatedAt": row["updatedAt"],
            "assignedTo": row["assignedTo"],
            "group": row["group"][0],
            "caseType": row["caseType"][0],
            "tasks": [(task_id, state, assignee) for task_id, _, state, _, assignee in row["tasks"]],
            "timers": row["timers"],
        }
        for row in rows
    ] == expected


def test_the_data_set_is_the_same_for_the_same_seed() -> None:
    assert generate(SPEC).rows == generate(SPEC).rows


WRK_REPORT = """Running 20s test @ http://127.0.0.1:41234/graphql
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   241.10ms   80.52ms   1.02s    71.20%
    Req/Sec   125.01     30.12   190.00     68.00%
  Latency Distribution
     50%  241.10ms
     75%  290.00ms
     90%  350.00ms
     99%    1.05s
  2493 requests in 20.05s, 137.13MB read
  Non-2xx or 3xx responses: 3
Requests/sec:    124.34
Transfer/sec:      6.84MB
"""


def test_a_wrk_report_is_read_into_throughput_latency_and_errors() -> None:
    result = parse_wrk(WRK_REPORT)
    assert (result.requests, result.seconds, result.p50_ms, result.p99_ms, result.non_2xx) == (
        2493,
        20.05,
        241.1,
        1050.0,
        3,
    )
    assert round(result.requests_per_second, 1) == 124.3
