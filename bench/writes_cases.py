"""The write benchmark's own cases, and the checks of the event log after it ran.

Each agent acts on cases of its own group that are new and unassigned: ``provision`` copies the
data set's new cases of that group (row, event log, SLA timers) in SQL, with fresh ids, case
numbers from the case-number counter and event sequences from the event-sequence counter, as
casegraph would have filed them. Copies, not generated rows: whatever loaded the database (10,000
cases or a million), the agents work on cases shaped like the rest. The copies are listed in
``bench_work_cases`` (agent, turn), a table of the benchmark's own.

``check_event_log`` then reads back what the run wrote: every sequence unique and gap-free from
where the run started to the counter's value, each touched case's versions contiguous and its
row at its last event's version, and exactly the events of the mutations that succeeded.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Final

import asyncpg

from bench.dataset import CASE_COLUMNS, EVENT_COLUMNS, TIMER_COLUMNS
from casegraph.database.counters import CASE_NUMBER, EVENT_SEQUENCE

WORK_TABLE: Final = "bench_work_cases"
# A case is new, unassigned and not deleted: what assignToMe accepts from a group agent.
NEW_CASE: Final = "c.stage = 'INTAKE' AND c.status = 'NEW' AND c.assigned_to_id IS NULL AND c.deleted_at IS NULL"


@dataclass(frozen=True)
class Agent:
    user_id: str
    name: str
    group_id: int


@dataclass(frozen=True)
class EventLogCheck:
    events: int
    first_sequence: int
    last_sequence: int
    counter: int
    duplicate_or_missing_sequences: int
    cases_with_broken_versions: int
    cases_behind_their_events: int
    missing_events: int
    unexpected_events: int

    @property
    def ok(self) -> bool:
        return (
            self.duplicate_or_missing_sequences == 0
            and self.cases_with_broken_versions == 0
            and self.cases_behind_their_events == 0
            and self.missing_events == 0
            and self.unexpected_events == 0
            and self.counter == self.last_sequence
        )


async def agents(connection: asyncpg.Connection, count: int, *, exclude: Collection[str] = ()) -> list[Agent]:
    """``count`` agents, each a non-manager member of one group, spread over the groups in turn."""
    rows = await connection.fetch(
        """
        SELECT user_id, name, group_id FROM (
            SELECT m.user_id, u.name, m.group_id,
                   row_number() OVER (PARTITION BY m.user_id ORDER BY m.group_id) AS membership,
                   row_number() OVER (PARTITION BY m.group_id ORDER BY m.user_id) AS turn
            FROM group_memberships m JOIN users u ON u.id = m.user_id
            WHERE NOT m.is_manager AND NOT (m.user_id = ANY($2::text[]))
              AND EXISTS (SELECT 1 FROM cases c WHERE c.assignment_group_id = m.group_id AND """
        + NEW_CASE
        + """)
        ) AS members
        WHERE membership = 1
        ORDER BY turn, group_id
        LIMIT $1
        """,
        count,
        list(exclude),
    )
    if len(rows) < count:
        raise RuntimeError(f"the data set has {len(rows)} agents with new cases in their group, not {count}")
    return [Agent(row["user_id"], row["name"], row["group_id"]) for row in rows]


async def provision(connection: asyncpg.Connection, agents: Sequence[Agent], per_agent: int) -> dict[str, list[str]]:
    """``per_agent`` new cases of each agent's group, copied from the data set's; their ids by agent, in turn."""
    copied_cases = ",".join(f'"{c}"' for c in CASE_COLUMNS if c not in ("id", "number"))
    from_cases = ",".join(f'c."{c}"' for c in CASE_COLUMNS if c not in ("id", "number"))
    event_columns = [c for c in EVENT_COLUMNS if c not in ("sequence", "case_id")]
    timer_columns = [c for c in TIMER_COLUMNS if c not in ("id", "case_id")]
    async with connection.transaction():
        await connection.execute(
            f"CREATE TABLE IF NOT EXISTS {WORK_TABLE} (case_id uuid PRIMARY KEY, source_id uuid NOT NULL,"
            " agent_id text NOT NULL, slot int NOT NULL, turn int NOT NULL)"
        )
        await connection.execute(f"TRUNCATE {WORK_TABLE}")
        await connection.execute(
            f"""
            INSERT INTO {WORK_TABLE} (case_id, source_id, agent_id, slot, turn)
            WITH sources AS (
                SELECT c.id, c.assignment_group_id AS group_id,
                       row_number() OVER (PARTITION BY c.assignment_group_id ORDER BY c.number) AS k,
                       count(*) OVER (PARTITION BY c.assignment_group_id) AS n
                FROM cases c WHERE {NEW_CASE}
            )
            SELECT gen_random_uuid(), s.id, a.agent_id, a.slot, g.turn
            FROM unnest($1::text[], $2::int[]) WITH ORDINALITY AS a(agent_id, group_id, slot)
            CROSS JOIN generate_series(1, $3) AS g(turn)
            JOIN sources s ON s.group_id = a.group_id
            -- Agents of one group start at different sources, so copies differ from agent to agent.
            WHERE s.k = ((g.turn - 1 + a.slot * 7) % s.n) + 1
            """,
            [a.user_id for a in agents],
            [a.group_id for a in agents],
            per_agent,
        )
        numbers = await connection.fetchval("SELECT value FROM counters WHERE name = $1", CASE_NUMBER)
        await connection.execute(
            f"""
            INSERT INTO cases ("id", "number", {copied_cases})
            SELECT w.case_id, 'CS' || lpad((($1::bigint) + row_number() OVER (ORDER BY w.slot, w.turn))::text, 7, '0'),
                   {from_cases}
            FROM {WORK_TABLE} w JOIN cases c ON c.id = w.source_id
            """,
            numbers,
        )
        await connection.execute(
            f"UPDATE counters SET value = value + (SELECT count(*) FROM {WORK_TABLE}) WHERE name = $1", CASE_NUMBER
        )
        sequence = await connection.fetchval("SELECT value FROM counters WHERE name = $1 FOR UPDATE", EVENT_SEQUENCE)
        await connection.execute(
            f"""
            INSERT INTO case_events ("sequence", "case_id", {",".join(f'"{c}"' for c in event_columns)})
            SELECT $1::bigint + row_number() OVER (ORDER BY w.slot, w.turn, e.sequence), w.case_id,
                   {",".join(f'e."{c}"' for c in event_columns)}
            FROM {WORK_TABLE} w JOIN case_events e ON e.case_id = w.source_id
            """,
            sequence,
        )
        await connection.execute(
            "UPDATE counters SET value = (SELECT max(sequence) FROM case_events) WHERE name = $1", EVENT_SEQUENCE
        )
        await connection.execute(
            f"""
            INSERT INTO case_timers ("case_id", {",".join(f'"{c}"' for c in timer_columns)})
            SELECT w.case_id, {",".join(f't."{c}"' for c in timer_columns)}
            FROM {WORK_TABLE} w JOIN case_timers t ON t.case_id = w.source_id
            """
        )
        rows = await connection.fetch(f"SELECT agent_id, case_id::text AS id FROM {WORK_TABLE} ORDER BY slot, turn")
    await connection.execute(f"ANALYZE cases; ANALYZE case_events; ANALYZE case_timers; ANALYZE {WORK_TABLE}")
    by_agent: dict[str, list[str]] = {a.user_id: [] for a in agents}
    for row in rows:
        by_agent[row["agent_id"]].append(row["id"])
    return by_agent


async def event_sequence(connection: asyncpg.Connection) -> int:
    return int(await connection.fetchval("SELECT value FROM counters WHERE name = $1", EVENT_SEQUENCE))


async def check_event_log(
    connection: asyncpg.Connection, *, after: int, expected: Collection[tuple[str, int]]
) -> EventLogCheck:
    """The events above sequence ``after``: gap-free, contiguous per case, exactly ``expected``
    (case id, version) — one per mutation that succeeded."""
    counter = await event_sequence(connection)
    summary = await connection.fetchrow(
        "SELECT count(*) AS events, count(DISTINCT sequence) AS distinct_sequences,"
        " coalesce(min(sequence), $1 + 1) AS first, coalesce(max(sequence), $1) AS last"
        " FROM case_events WHERE sequence > $1",
        after,
    )
    events, first, last = int(summary["events"]), int(summary["first"]), int(summary["last"])
    # Unique and gap-free: as many distinct sequences as events, filling (after, last] exactly.
    gaps = (last - after) - int(summary["distinct_sequences"]) + (events - int(summary["distinct_sequences"]))
    broken = await connection.fetchval(
        """
        SELECT count(*) FROM (
            SELECT case_id FROM (
                SELECT case_id, version,
                       row_number() OVER (PARTITION BY case_id ORDER BY version) AS by_version,
                       row_number() OVER (PARTITION BY case_id ORDER BY sequence) AS by_sequence
                FROM case_events
                WHERE case_id IN (SELECT case_id FROM case_events WHERE sequence > $1)
            ) AS ordered
            GROUP BY case_id
            -- versions 1, 2, … without a hole or a repeat, in the order of the sequence
            HAVING min(version) <> 1 OR max(version) <> count(*) OR count(DISTINCT version) <> count(*)
                OR bool_or(by_version <> by_sequence)
        ) AS broken
        """,
        after,
    )
    behind = await connection.fetchval(
        """
        SELECT count(*) FROM cases c
        JOIN (SELECT case_id, max(version) AS version FROM case_events WHERE sequence > $1 GROUP BY case_id) e
          ON e.case_id = c.id
        WHERE c.version <> e.version
        """,
        after,
    )
    written = {
        (str(row["case_id"]), int(row["version"]))
        for row in await connection.fetch("SELECT case_id, version FROM case_events WHERE sequence > $1", after)
    }
    wanted = set(expected)
    return EventLogCheck(
        events=events,
        first_sequence=first,
        last_sequence=last,
        counter=counter,
        duplicate_or_missing_sequences=gaps,
        cases_with_broken_versions=int(broken),
        cases_behind_their_events=int(behind),
        missing_events=len(wanted - written),
        unexpected_events=len(written - wanted),
    )
