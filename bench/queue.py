"""The agents' queue query, casegraph against PostGraphile v5, side by side on one database.

    python -m bench.queue [--cases 10000] [--duration 20] [--warmup 5] [--json FILE]

Starts a private PostgreSQL 15 (pg_stat_statements preloaded) and Redis, applies casegraph's
migrations, loads the data set (``bench.dataset``), starts ``casegraph serve`` (one worker,
production settings) and PostGraphile (one Node process) against the same database, checks that
both answer the queue query with the same cases in the same order, then measures each in turn
with wrk at 32 connections: requests/s, p50/p99 latency, server CPU per request (the server's
process tree), PostgreSQL CPU per request, peak RSS, SQL statements per request. Everything it
started is stopped on the way out, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import asyncpg
import httpx

from bench import load, postgraphile_server, report, sql_counts
from bench.casegraph_server import casegraph_server, token
from bench.dataset import DatasetSpec, GeneratedDataset, load_dataset
from bench.dataset_world import BENCH_AGENT_ID, BENCH_AGENT_NAME
from bench.machine import describe
from bench.processes import ServerProcess
from bench.procstat import CpuSample
from bench.queue_queries import (
    PAGE,
    assert_same_queue,
    casegraph_body,
    field_count,
    postgraphile_body,
    total_count,
)
from bench.services import PrivatePostgres, ServiceUnavailable, create_bench_database, private_postgres, private_redis
from casegraph.db import migrate
from casegraph.domain.enums import Role

PAGE_SIZES: Final = (10, 50, 100)
TASK_INDEX: Final = "bench_case_tasks_case_id"


@dataclass(frozen=True)
class QueueOptions:
    cases: int = 10_000
    duration: float = 20.0
    warmup: float = 5.0
    connections: int = 32
    statement_requests: int = 100
    show_sql: bool = False


@dataclass(frozen=True)
class ServerFigures:
    name: str
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    cpu_ms_per_request: float
    db_cpu_ms_per_request: float
    peak_rss_mib: float
    statements_per_request: float
    fields: int
    errors: int


@dataclass
class QueueReport:
    options: QueueOptions
    rows: dict[str, int] = field(default_factory=dict)
    queue_total: int = 0
    fields: dict[str, int] = field(default_factory=dict)
    statements_by_first: dict[str, dict[int, float]] = field(default_factory=dict)
    servers: dict[str, ServerFigures] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Target:
    """One server as the load sees it: where to POST what, with which header."""

    server: ServerProcess
    body: Callable[[int], dict[str, Any]]
    authorization: str | None

    @property
    def graphql_url(self) -> str:
        return f"{self.server.url}/graphql"

    def post(self, http: httpx.Client, first: int = PAGE) -> dict[str, Any]:
        headers = {"Authorization": self.authorization} if self.authorization else {}
        response = http.post(self.graphql_url, json=self.body(first), headers=headers)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        if answer.get("errors"):
            raise RuntimeError(f"{self.server.name} answered with errors: {answer['errors']}")
        return answer


def _sender(target: _Target, http: httpx.Client, first: int) -> Callable[[], None]:
    def send() -> None:
        target.post(http, first)

    return send


async def _ensure_task_index(database_url: str) -> bool:
    """An index on case_tasks(case_id) unless the schema has one; True if this added it.

    casegraph's migrations have none (its tasks loader then scans the table once per request);
    PostGraphile v5 would read each case's tasks with a scan of its own. Any deployment of
    either would add it, so both servers get it here.
    """
    connection = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        indexed = await connection.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a"
            " ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
            " WHERE i.indrelid = 'case_tasks'::regclass AND a.attname = 'case_id')"
        )
        if not indexed:
            await connection.execute(f"CREATE INDEX {TASK_INDEX} ON case_tasks (case_id)")
        return not indexed
    finally:
        await connection.close()


def prepare_database(pg: PrivatePostgres, cases: int, notes: list[str]) -> GeneratedDataset:
    asyncio.run(create_bench_database(pg))
    asyncio.run(migrate(pg.url))
    if asyncio.run(_ensure_task_index(pg.url)):
        notes.append("casegraph's migrations have no index on case_tasks.case_id: the bench adds one for both servers")
    return asyncio.run(load_dataset(pg.url, DatasetSpec(cases=cases)))


def _compare(targets: list[_Target], http: httpx.Client, result: QueueReport) -> None:
    """Both servers list the same cases in the same order; records the field counts."""
    answers = {target.server.name: target.post(http) for target in targets}
    if "PostGraphile" in answers:
        assert_same_queue(answers["casegraph"], answers["PostGraphile"])
        print(
            f"both servers list the same {PAGE} cases in the same order "
            f"(of {total_count(answers['casegraph']):,} the agent may see)"
        )
    result.queue_total = total_count(answers["casegraph"])
    result.fields = {name: field_count(answer["data"]) for name, answer in answers.items()}
    print("fields per response: " + ", ".join(f"{n} {c:,}" for n, c in result.fields.items()))


def _count_statements(
    targets: list[_Target], http: httpx.Client, pg: PrivatePostgres, options: QueueOptions, result: QueueReport
) -> None:
    # Both servers idle first: what they run on their own is taken out of the counts.
    background = sql_counts.background_rate(pg.url)
    for target in targets:
        counts = {
            first: sql_counts.count_statements(
                pg.url, _sender(target, http, first), requests=options.statement_requests, background=background
            )
            for first in PAGE_SIZES
        }
        result.statements_by_first[target.server.name] = {first: c.per_request for first, c in counts.items()}
        if options.show_sql:
            print(f"{target.server.name}, first: {PAGE}, statements per request:\n{counts[PAGE].describe()}")


def _measure(
    target: _Target, *, wrk: str, pg: PrivatePostgres, options: QueueOptions, fields: int, statements: float
) -> ServerFigures:
    body = json.dumps(target.body(PAGE)).encode()

    def run(seconds: float) -> load.WrkResult:
        return load.run_wrk(
            wrk,
            url=target.graphql_url,
            body=body,
            authorization=target.authorization,
            seconds=seconds,
            connections=options.connections,
        )

    if options.warmup > 0:
        run(options.warmup)
    postmaster = pg.server_pids()[0]
    server_before, db_before = CpuSample.of_tree(target.server.pid), CpuSample.of_tree(postmaster)
    result = run(options.duration)
    server_cpu = CpuSample.of_tree(target.server.pid).since(server_before)
    db_cpu = CpuSample.of_tree(postmaster).since(db_before)
    requests = max(result.requests, 1)
    return ServerFigures(
        name=target.server.name,
        requests=result.requests,
        requests_per_second=result.requests_per_second,
        p50_ms=result.p50_ms,
        p99_ms=result.p99_ms,
        cpu_ms_per_request=server_cpu * 1000 / requests,
        db_cpu_ms_per_request=db_cpu * 1000 / requests,
        peak_rss_mib=target.server.peak_rss_kib() / 1024,
        statements_per_request=statements,
        fields=fields,
        errors=result.non_2xx + result.socket_errors,
    )


@contextlib.contextmanager
def _maybe_postgraphile(available: bool, database_url: str, log_dir: Path) -> Iterator[ServerProcess | None]:
    if not available:
        yield None
        return
    with postgraphile_server.postgraphile_server(database_url=database_url, log_dir=log_dir) as server:
        yield server


def run_queue(options: QueueOptions) -> QueueReport:
    result = QueueReport(options=options)
    wrk: str | None = None
    try:
        wrk = load.ensure_wrk()
        result.versions["wrk"] = load.version(wrk)
    except load.WrkUnavailable as missing:
        result.notes.append(f"{missing}: no throughput or latency figures, SQL counts only")
    try:
        postgraphile_server.ensure_installed()
        result.versions["node"] = postgraphile_server.node_version()
        result.versions["postgraphile"] = postgraphile_server.postgraphile_version()
        with_postgraphile = True
    except ServiceUnavailable as missing:
        with_postgraphile = False
        result.notes.append(f"{missing}: casegraph measured alone")
    with (
        private_postgres() as pg,
        private_redis() as redis,
        tempfile.TemporaryDirectory(prefix="casegraph-bench-logs.") as logs,
    ):
        result.versions["postgresql"] = pg.version()
        print(f"loading {options.cases:,} cases into PostgreSQL {result.versions['postgresql']} …", flush=True)
        data = prepare_database(pg, options.cases, result.notes)
        result.rows = data.counts()
        broadcast = redis.url if redis is not None else "memory://"
        with (
            casegraph_server(database_url=pg.url, broadcast_url=broadcast, log_dir=Path(logs)) as cg,
            _maybe_postgraphile(with_postgraphile, pg.url, Path(logs)) as pgl,
        ):
            targets = [
                _Target(cg, casegraph_body, f"Bearer {token(BENCH_AGENT_ID, Role.AGENT, name=BENCH_AGENT_NAME)}")
            ]
            if pgl is not None:
                targets.append(
                    _Target(
                        pgl,
                        lambda first: postgraphile_body(
                            agent_id=data.bench_agent_id, group_ids=data.bench_group_ids, first=first
                        ),
                        None,
                    )
                )
            with httpx.Client(timeout=60) as http:
                _compare(targets, http, result)
                _count_statements(targets, http, pg, options, result)
            if wrk is not None:
                for target in targets:
                    print(
                        f"measuring {target.server.name}: wrk {options.connections} connections, "
                        f"{options.warmup:g} s warm-up + {options.duration:g} s …",
                        flush=True,
                    )
                    result.servers[target.server.name] = _measure(
                        target,
                        wrk=wrk,
                        pg=pg,
                        options=options,
                        fields=result.fields[target.server.name],
                        statements=result.statements_by_first[target.server.name][PAGE],
                    )
                with httpx.Client(timeout=60) as http:
                    _compare(targets, http, result)  # the same answers after the load: nothing changed
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of measured load per server")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of unmeasured load before each")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    parser.add_argument("--show-sql", action="store_true", help="print each server's SQL statements per request")
    args = parser.parse_args()
    queue = run_queue(
        QueueOptions(cases=args.cases, duration=args.duration, warmup=args.warmup, show_sql=args.show_sql)
    )
    print(report.queue_table(queue))
    print(report.machine_lines(describe(queue.versions)))
    if args.json:
        args.json.write_text(json.dumps(queue.to_json(), indent=2, default=str))


if __name__ == "__main__":
    main()
