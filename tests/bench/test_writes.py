"""The write benchmark's own pieces (bench/writes.py, bench/writes_cases.py) against a real data set.

The benchmark's verdict rests on them: the cases it copies must be ones its agents may take,
comment on and resolve; the physical-limit client must write what casegraph writes; and the
event-log check must tell a sound log from one with a lost, extra or out-of-order event.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import asyncpg
import pytest
from tortoise.context import TortoiseContext

from bench.dataset import EVENT_COLUMNS, DatasetSpec, load_dataset
from bench.dataset_world import BENCH_AGENT_ID
from bench.writes import DOCUMENTS, MUTATIONS, Window, peer_loop
from bench.writes_cases import agents, check_event_log, event_sequence, provision
from casegraph.domain.enums import Role
from tests.helpers import GraphQLClient

COPIED = ",".join(EVENT_COLUMNS)
SPEC = DatasetSpec(cases=200, seed=5, now=datetime(2026, 11, 2, 9, 0, tzinfo=UTC))

pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("backend", ["postgres"])]


def _asyncpg_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def test_each_agent_can_take_comment_on_and_resolve_its_copied_cases(
    db: TortoiseContext, pg_database_url: str, client: GraphQLClient
) -> None:
    # given: the data set, two agents and two copied cases each
    await load_dataset(pg_database_url, SPEC)
    connection = await asyncpg.connect(_asyncpg_url(pg_database_url))
    try:
        chosen = await agents(connection, 2, exclude=[BENCH_AGENT_ID])
        cases = await provision(connection, chosen, 2)
        start = await event_sequence(connection)
        written: list[tuple[str, int]] = []
        # when: each agent runs the benchmark's three mutations on each of its cases
        for agent in chosen:
            token = client.token(agent.user_id, Role.AGENT, name=agent.name)
            for case_id in cases[agent.user_id]:
                for mutation in MUTATIONS:
                    variables = (
                        {"caseId": case_id, "body": "On it."} if mutation == "updateCase" else {"caseId": case_id}
                    )
                    payload = (await client.data(DOCUMENTS[mutation], variables, token=token))[mutation]
                    assert payload["errors"] == [], (mutation, payload)
                    written.append((case_id, int(payload["event"]["version"])))
        check = await check_event_log(connection, after=start, expected=written)
        # then: fresh copies in the agents' groups, and a sound event log of exactly those writes
        assert [len(cases[a.user_id]) for a in chosen] == [2, 2]
        assert len({c for ids in cases.values() for c in ids}) == 4
        assert check.ok, check
        assert check.events == len(written) == 4 * len(MUTATIONS)
    finally:
        await connection.close()


async def test_the_physical_limit_client_writes_a_log_that_passes_the_check(
    db: TortoiseContext, pg_database_url: str
) -> None:
    # given
    await load_dataset(pg_database_url, SPEC)
    connection = await asyncpg.connect(_asyncpg_url(pg_database_url))
    try:
        [agent] = await agents(connection, 1, exclude=[BENCH_AGENT_ID])
        cases = await provision(connection, [agent], 2)
        start = await event_sequence(connection)
        written: list[tuple[str, int]] = []
        begin = time.monotonic()
        # when: it runs until its (short) window closes
        await peer_loop(pg_database_url, agent, cases[agent.user_id], Window(begin, begin + 0.2), written)
        check = await check_event_log(connection, after=start, expected=written)
        # then
        assert written
        assert check.ok, check
        assert check.events == len(written)
    finally:
        await connection.close()


async def test_the_event_log_check_finds_lost_extra_and_out_of_order_events(
    db: TortoiseContext, pg_database_url: str, client: GraphQLClient
) -> None:
    # given: three events written on one copied case
    await load_dataset(pg_database_url, SPEC)
    connection = await asyncpg.connect(_asyncpg_url(pg_database_url))
    try:
        [agent] = await agents(connection, 1, exclude=[BENCH_AGENT_ID])
        [case_id] = (await provision(connection, [agent], 1))[agent.user_id]
        start = await event_sequence(connection)
        token = client.token(agent.user_id, Role.AGENT, name=agent.name)
        written = []
        for mutation in MUTATIONS:
            variables = {"caseId": case_id, "body": "On it."} if mutation == "updateCase" else {"caseId": case_id}
            payload = (await client.data(DOCUMENTS[mutation], variables, token=token))[mutation]
            written.append((case_id, int(payload["event"]["version"])))
        assert (await check_event_log(connection, after=start, expected=written)).ok
        # when: a success with no event, an event with no success, then an event two sequences
        # and two versions on (a hole in the log and in the case's history)
        claimed_but_lost = await check_event_log(connection, after=start, expected=[*written, (case_id, 99)])
        unclaimed = await check_event_log(connection, after=start, expected=written[:-1])
        last_sequence, last_version = await event_sequence(connection), written[-1][1]
        await connection.execute(
            f"INSERT INTO case_events ({COPIED}) SELECT {COPIED.replace('sequence', '$2').replace('version', '$3')}"
            " FROM case_events WHERE sequence = $1",
            last_sequence,
            last_sequence + 2,
            last_version + 2,
        )
        await connection.execute("UPDATE counters SET value = $1 WHERE name = 'event_sequence'", last_sequence + 2)
        holed = await check_event_log(connection, after=start, expected=[*written, (case_id, last_version + 2)])
        # then
        assert (claimed_but_lost.missing_events, claimed_but_lost.ok) == (1, False)
        assert (unclaimed.unexpected_events, unclaimed.ok) == (1, False)
        assert holed.duplicate_or_missing_sequences == 1
        assert holed.cases_with_broken_versions == 1
        assert not holed.ok
    finally:
        await connection.close()
