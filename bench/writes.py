"""Action mutations from concurrent agents on PostgreSQL, against the database's own limit.

    python -m bench.writes [--cases 10000] [--database-url URL] [--agents 32] [--duration 15] [--warmup 3]

Starts a private PostgreSQL (pg_stat_statements preloaded) and Redis, loads the data set
(``bench.dataset``; or, with ``--database-url``, uses a database someone loaded already, at any
size), copies new cases for each agent (``bench.writes_cases``) and starts ``casegraph serve``
(one worker, production settings). Then, on the same database, one after the other:

1. **the physical limit**: a minimal asyncpg client, one connection per agent, each looping over
   the same statements in one transaction that a case action needs at least — the case's
   conditional update (``… WHERE id = $1 AND version = $2``), the event-log append (the
   event-sequence counter) and the event's insert — with no HTTP, GraphQL or rules;
2. **casegraph**: each agent, on one keep-alive connection, takes its next new case
   (``assignToMe``), comments on it (``updateCase`` with a comment) and resolves it
   (``proposeSolution``), as fast as the answers come.

For each: writes per second, p50/p99 latency, server and PostgreSQL CPU per write; while it
runs, ``pg_stat_activity`` and ``pg_locks`` are sampled (which wait events the backends are in,
how many are idle inside a transaction, how many lock requests wait); and before the load, each
mutation's statements are counted by pg_stat_statements. After the run the event log is checked
(``writes_cases.check_event_log``): nothing lost, nothing extra, no gap, no reordering.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http.client import HTTPConnection
from pathlib import Path
from typing import Any, Final

import asyncpg
import uvloop

from bench import report, sql_counts
from bench.casegraph_server import casegraph_server, token
from bench.dataset_world import BENCH_AGENT_ID
from bench.processes import ServerProcess
from bench.procstat import CpuSample
from bench.scale import sized_database
from bench.services import private_postgres, private_redis
from bench.writes_cases import Agent, EventLogCheck, agents, check_event_log, event_sequence, provision
from casegraph.domain.enums import Role
from tests.perf.documents import ASSIGN_TO_ME, COMMENT_ON_CASE, PROPOSE_SOLUTION

MUTATIONS: Final = ("assignToMe", "updateCase", "proposeSolution")
DOCUMENTS: Final = {"assignToMe": ASSIGN_TO_ME, "updateCase": COMMENT_ON_CASE, "proposeSolution": PROPOSE_SOLUTION}
# Each new case takes three mutations; the agents get cases for this many writes per second.
PROVISIONED_RATE: Final = 900.0
PEER_CASES: Final = 4  # cases per agent the physical-limit client cycles over
COUNTED_MUTATIONS: Final = 20  # of each kind, for the statement counts
SAMPLE_SECONDS: Final = 0.05

PEER_UPDATE: Final = (
    'UPDATE "cases" SET "version" = "version" + 1, "updated_at" = $3 WHERE "id" = $1 AND "version" = $2'
    ' RETURNING "stage", "status"'
)
PEER_SEQUENCE: Final = 'UPDATE "counters" SET "value" = "value" + 1 WHERE "name" = \'event_sequence\' RETURNING "value"'
PEER_INSERT: Final = (
    'INSERT INTO "case_events" ("sequence", "case_id", "actor_id", "type", "action", "from_stage", "from_status",'
    ' "to_stage", "to_status", "version", "summary", "request_id", "occurred_at")'
    " VALUES ($1, $2, $3, 'CASE_UPDATED', 'UPDATE', $4, $5, $4, $5, $6, '{\"comment\": true}', NULL, $7)"
)


@dataclass(frozen=True)
class WritesOptions:
    cases: int = 10_000
    duration: float = 15.0
    warmup: float = 3.0
    agents: int = 32
    workers: int = 1  # casegraph server processes
    database_url: str | None = None  # an already loaded database, else a private one with ``cases``


@dataclass(frozen=True)
class LoadFigures:
    name: str
    writes: int
    writes_per_second: float
    p50_ms: float
    p99_ms: float
    failures: int
    cpu_ms_per_write: float | None
    db_cpu_ms_per_write: float | None
    # Share of the samples of active or in-transaction backends, by what they were doing.
    activity: dict[str, float]
    waiting_lock_requests: float  # ungranted pg_locks rows, mean over the samples


@dataclass
class WritesReport:
    options: WritesOptions
    database_cases: int = 0
    work_cases: int = 0
    statements: dict[str, float] = field(default_factory=dict)
    statement_shapes: dict[str, str] = field(default_factory=dict)
    loads: dict[str, LoadFigures] = field(default_factory=dict)
    checks: dict[str, EventLogCheck] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        ours, limit = self.loads.get("casegraph"), self.loads.get("physical limit")
        if ours is None or limit is None or limit.writes_per_second == 0:
            return None
        return ours.writes_per_second / limit.writes_per_second

    def to_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "ratio": self.ratio,
            "checks": {k: {**asdict(v), "ok": v.ok} for k, v in self.checks.items()},
        }


def _percentile(ordered: Sequence[float], share: float) -> float:
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else float("nan")


def _pg(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


@dataclass
class Window:
    """The measured interval; a write counts if it both started and finished inside it."""

    start: float
    end: float
    latencies: list[float] = field(default_factory=list)
    failures: int = 0

    def record(self, started: float, finished: float, ok: bool) -> None:
        if started >= self.start and finished <= self.end:
            if ok:
                self.latencies.append(finished - started)
            else:
                self.failures += 1


class _Sampler:
    """What the benchmark database's other backends are doing, every ``SAMPLE_SECONDS``."""

    def __init__(self) -> None:
        self.activity: Counter[str] = Counter()
        self.samples = 0
        self.waiting_locks = 0

    async def run(self, connection: asyncpg.Connection, stop: asyncio.Event) -> None:
        while not stop.is_set():
            rows = await connection.fetch(
                "SELECT state, wait_event_type, wait_event FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND state IN ('active', 'idle in transaction')"
            )
            for row in rows:
                if row["state"] == "idle in transaction":
                    self.activity["idle in transaction (waiting on the client)"] += 1
                elif row["wait_event_type"] is None:
                    self.activity["running"] += 1
                else:
                    self.activity[f"{row['wait_event_type']}:{row['wait_event']}"] += 1
            self.waiting_locks += await connection.fetchval("SELECT count(*) FROM pg_locks WHERE NOT granted")
            self.samples += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), SAMPLE_SECONDS)

    def shares(self) -> dict[str, float]:
        total = sum(self.activity.values()) or 1
        return {name: count / total for name, count in self.activity.most_common()}


@contextlib.asynccontextmanager
async def _sampling(url: str) -> AsyncIterator[_Sampler]:
    sampler, stop = _Sampler(), asyncio.Event()
    connection = await asyncpg.connect(_pg(url))
    task = asyncio.create_task(sampler.run(connection, stop))
    try:
        yield sampler
    finally:
        stop.set()
        await task
        await connection.close()


class _Http:
    """One keep-alive HTTP/1.1 connection, as little client as a benchmark can have: the
    client shares the 2 cores with the server it measures."""

    def __init__(self, host: str, port: int, authorization: str) -> None:
        self.host, self.port, self.authorization = host, port, authorization
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        body = json.dumps({"query": query, "variables": variables}).encode()
        self.writer.write(
            b"POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAuthorization: %s\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (self.host.encode(), self.authorization.encode(), len(body), body)
        )
        status = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        answer = await self.reader.readexactly(length)
        if b" 200 " not in status:
            raise RuntimeError(f"HTTP {status.decode().strip()}: {answer[:300]!r}")
        data: dict[str, Any] = json.loads(answer)
        return data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()


def _event_of(answer: dict[str, Any], mutation: str, case_id: str) -> tuple[str, int] | None:
    """The (case, version) of the event a mutation recorded; None if it was refused."""
    if answer.get("errors"):
        return None
    payload = answer["data"][mutation]
    if payload["errors"] or payload["event"] is None:
        return None
    return case_id, int(payload["event"]["version"])


async def _agent_loop(
    server_url: str, agent: Agent, cases: Sequence[str], window: Window, written: list[tuple[str, int]]
) -> int:
    """Take, comment on and resolve cases until the window closes; the cases it ran out of (0 or 1)."""
    host, port = server_url.removeprefix("http://").split(":")
    http = _Http(host, int(port), f"Bearer {token(agent.user_id, Role.AGENT, name=agent.name)}")
    try:
        for case_id in cases:
            for mutation, variables in (
                ("assignToMe", {"caseId": case_id}),
                ("updateCase", {"caseId": case_id, "body": f"On it ({agent.user_id})."}),
                ("proposeSolution", {"caseId": case_id}),
            ):
                if time.monotonic() >= window.end:
                    return 0
                started = time.monotonic()
                answer = await http.post(DOCUMENTS[mutation], variables)
                event = _event_of(answer, mutation, case_id)
                window.record(started, time.monotonic(), event is not None)
                if event is None:
                    raise RuntimeError(f"{agent.user_id}: {mutation} on {case_id} refused: {answer}")
                written.append(event)
        return 1
    finally:
        await http.close()


async def peer_loop(
    url: str, agent: Agent, cases: Sequence[str], window: Window, written: list[tuple[str, int]]
) -> None:
    connection = await asyncpg.connect(_pg(url))
    try:
        versions = {
            str(row["id"]): int(row["version"])
            for row in await connection.fetch("SELECT id, version FROM cases WHERE id = ANY($1::uuid[])", list(cases))
        }
        turn = 0
        while time.monotonic() < window.end:
            case_id = cases[turn % len(cases)]
            turn += 1
            started = time.monotonic()
            now = datetime.now(UTC)
            async with connection.transaction():
                row = await connection.fetchrow(PEER_UPDATE, case_id, versions[case_id], now)
                if row is None:
                    raise RuntimeError(f"peer: {case_id} moved under it")
                sequence = await connection.fetchval(PEER_SEQUENCE)
                await connection.execute(
                    PEER_INSERT,
                    sequence,
                    case_id,
                    agent.user_id,
                    row["stage"],
                    row["status"],
                    versions[case_id] + 1,
                    now,
                )
            versions[case_id] += 1
            window.record(started, time.monotonic(), True)
            written.append((case_id, versions[case_id]))
    finally:
        await connection.close()


async def _measure(
    name: str,
    url: str,
    options: WritesOptions,
    loops: Callable[[Window], Sequence[Awaitable[Any]]],
    *,
    server: ServerProcess | None,
    postmaster: int | None,
) -> tuple[LoadFigures, list[Any]]:
    begin = time.monotonic()
    window = Window(start=begin + options.warmup, end=begin + options.warmup + options.duration)
    tasks = [asyncio.ensure_future(loop) for loop in loops(window)]
    await asyncio.sleep(max(0.0, window.start - time.monotonic()))
    server_before = CpuSample.of_tree(server.pid) if server else None
    db_before = CpuSample.of_tree(postmaster) if postmaster else None
    async with _sampling(url) as sampler:
        # CPU at the window's end, before the clients close: a backend that exited takes its
        # CPU time out of the postmaster's tree.
        await asyncio.sleep(max(0.0, window.end - time.monotonic()))
        server_cpu = CpuSample.of_tree(server.pid).since(server_before) if server and server_before else None
        db_cpu = CpuSample.of_tree(postmaster).since(db_before) if postmaster and db_before else None
        results = await asyncio.gather(*tasks)
    writes = len(window.latencies)
    ordered = sorted(s * 1000 for s in window.latencies)
    per = max(writes, 1)
    return (
        LoadFigures(
            name=name,
            writes=writes,
            writes_per_second=writes / options.duration,
            p50_ms=_percentile(ordered, 0.50),
            p99_ms=_percentile(ordered, 0.99),
            failures=window.failures,
            cpu_ms_per_write=server_cpu * 1000 / per if server_cpu is not None else None,
            db_cpu_ms_per_write=db_cpu * 1000 / per if db_cpu is not None else None,
            activity=sampler.shares(),
            waiting_lock_requests=sampler.waiting_locks / max(sampler.samples, 1),
        ),
        list(results),
    )


def _count_statements(url: str, server_url: str, agent: Agent, cases: list[str], result: WritesReport) -> None:
    """Each mutation's statements, one at a time on the agent's first cases (used up here)."""
    host, port = server_url.removeprefix("http://").split(":")
    headers = {
        "Authorization": f"Bearer {token(agent.user_id, Role.AGENT, name=agent.name)}",
        "Content-Type": "application/json",
    }
    connection = HTTPConnection(host, int(port))
    background = sql_counts.background_rate(url, seconds=3.0)
    taken = cases[: COUNTED_MUTATIONS + 1]
    del cases[: COUNTED_MUTATIONS + 1]
    try:
        for mutation in MUTATIONS:
            pending = iter(taken)

            def send(mutation: str = mutation, pending: Iterator[str] = pending) -> None:
                case_id = next(pending)
                variables = {"caseId": case_id, "body": "Counted."} if mutation == "updateCase" else {"caseId": case_id}
                connection.request(
                    "POST",
                    "/graphql",
                    body=json.dumps({"query": DOCUMENTS[mutation], "variables": variables}),
                    headers=headers,
                )
                answer = json.loads(connection.getresponse().read())
                if _event_of(answer, mutation, case_id) is None:
                    raise RuntimeError(f"{mutation} refused while counting: {answer}")

            counted = sql_counts.count_statements(url, send, requests=COUNTED_MUTATIONS, background=background)
            result.statements[mutation] = counted.per_request
            result.statement_shapes[mutation] = counted.describe()
    finally:
        connection.close()


async def _prepare(url: str, options: WritesOptions, result: WritesReport) -> tuple[list[Agent], dict[str, list[str]]]:
    connection = await asyncpg.connect(_pg(url))
    try:
        await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        result.database_cases = int(await connection.fetchval("SELECT count(*) FROM cases"))
        chosen = await agents(connection, options.agents, exclude=[BENCH_AGENT_ID])
        writes = PROVISIONED_RATE * (options.warmup + options.duration)
        per_agent = math.ceil(writes / len(MUTATIONS) / len(chosen)) + PEER_CASES + COUNTED_MUTATIONS + 1
        cases = await provision(connection, chosen, per_agent)
        result.work_cases = sum(len(c) for c in cases.values())
    finally:
        await connection.close()
    return chosen, cases


async def _run_loads(
    url: str,
    server: ServerProcess,
    postmaster: int | None,
    options: WritesOptions,
    result: WritesReport,
    chosen: list[Agent],
    cases: dict[str, list[str]],
) -> None:
    peer_cases = {a.user_id: cases[a.user_id][-PEER_CASES:] for a in chosen}
    own_cases = {a.user_id: cases[a.user_id][:-PEER_CASES] for a in chosen}
    connection = await asyncpg.connect(_pg(url))
    try:
        for name, loop in (("physical limit", peer_loop), ("casegraph", _agent_loop)):
            print(
                f"measuring {name}: {len(chosen)} agents, {options.warmup:g} s warm-up + {options.duration:g} s …",
                flush=True,
            )
            start = await event_sequence(connection)
            written: list[tuple[str, int]] = []
            target = url if loop is peer_loop else server.url
            chosen_cases = peer_cases if loop is peer_loop else own_cases

            def loops(
                window: Window,
                loop: Any = loop,
                target: str = target,
                chosen_cases: Any = chosen_cases,
                written: list[tuple[str, int]] = written,
            ) -> list[Awaitable[Any]]:
                return [loop(target, agent, chosen_cases[agent.user_id], window, written) for agent in chosen]

            figures, outcomes = await _measure(
                name, url, options, loops, server=server if loop is _agent_loop else None, postmaster=postmaster
            )
            result.loads[name] = figures
            if loop is _agent_loop and any(outcomes):
                result.notes.append(f"{sum(outcomes)} agents ran out of new cases before the end of the run")
            # The server publishes after commit; give the last answers' transactions time to settle.
            await asyncio.sleep(0.5)
            result.checks[name] = await check_event_log(connection, after=start, expected=written)
    finally:
        await connection.close()


def run_writes(options: WritesOptions) -> WritesReport:
    result = WritesReport(options=options)
    with contextlib.ExitStack() as stack:
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="casegraph-bench-logs.")))
        postmaster: int | None = None
        if options.database_url is None:
            pg = stack.enter_context(private_postgres())
            print(f"loading {options.cases:,} cases into PostgreSQL {pg.version()} …", flush=True)
            url = sized_database(pg, options.cases).url
            postmaster = pg.server_pids()[0]
        else:
            url = options.database_url
            result.notes.append("an existing database: no PostgreSQL CPU figures")
        redis = stack.enter_context(private_redis())
        chosen, cases = asyncio.run(_prepare(url, options, result))
        print(
            f"{result.work_cases:,} new cases copied for {len(chosen)} agents ({result.database_cases:,} cases in all)"
        )
        server = stack.enter_context(
            casegraph_server(
                database_url=url,
                broadcast_url=redis.url if redis else "memory://",
                log_dir=logs,
                workers=options.workers,
            )
        )
        first = chosen[0]
        _count_statements(url, server.url, first, cases[first.user_id], result)
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(_run_loads(url, server, postmaster, options, result, chosen, cases))
    return result


def writes_table(writes: WritesReport) -> str:
    header = [
        "writes (32 agents, PostgreSQL)",
        "writes/s",
        "p50 (ms)",
        "p99 (ms)",
        "server CPU/write (ms)",
        "PostgreSQL CPU/write (ms)",
        "lock waits",
        "idle in tx",
        "event log",
    ]
    rows = []
    for name, load in writes.loads.items():
        lock = sum(share for state, share in load.activity.items() if state.startswith("Lock:"))
        idle = sum(share for state, share in load.activity.items() if state.startswith("idle in transaction"))
        check = writes.checks.get(name)
        rows.append(
            [
                name,
                f"{load.writes_per_second:,.0f}",
                f"{load.p50_ms:,.1f}",
                f"{load.p99_ms:,.1f}",
                "–" if load.cpu_ms_per_write is None else f"{load.cpu_ms_per_write:,.2f}",
                "–" if load.db_cpu_ms_per_write is None else f"{load.db_cpu_ms_per_write:,.2f}",
                f"{lock:.0%}",
                f"{idle:.0%}",
                "–" if check is None else ("ok" if check.ok else "BROKEN"),
            ]
        )
    lines = [report.table(header, rows)]
    if writes.ratio is not None:
        lines.append(f"casegraph / physical limit: {writes.ratio:.2f}× (target ≥ 0.5×, p99 < 100 ms)")
    if writes.statements:
        lines.append("statements per mutation: " + ", ".join(f"{m} {n:.1f}" for m, n in writes.statements.items()))
    for name, load in writes.loads.items():
        states = ", ".join(f"{state} {share:.0%}" for state, share in list(load.activity.items())[:6])
        lines.append(f"{name} backends: {states}; ungranted locks {load.waiting_lock_requests:.1f} on average")
    for name, check in writes.checks.items():
        if not check.ok:
            lines.append(f"{name} event log: {check}")
    lines.extend(f"note: {note}" for note in writes.notes)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000, help="size of the private database's data set")
    parser.add_argument("--database-url", help="an already loaded casegraph database instead of a private one")
    parser.add_argument("--agents", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="casegraph server processes (serve --workers)")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of measured load for each")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of unmeasured load before each")
    parser.add_argument("--show-sql", action="store_true", help="print each mutation's statements")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    args = parser.parse_args()
    writes = run_writes(
        WritesOptions(
            cases=args.cases,
            duration=args.duration,
            warmup=args.warmup,
            agents=args.agents,
            workers=args.workers,
            database_url=args.database_url,
        )
    )
    print(writes_table(writes))
    if args.show_sql:
        for mutation, shapes in writes.statement_shapes.items():
            print(f"{mutation}:\n{shapes}")
    if args.json:
        args.json.write_text(json.dumps(writes.to_json(), indent=2, default=str))


if __name__ == "__main__":
    main()
