"""The agents' queue, casegraph against PostGraphile v5, side by side on one database, at each size.

    python -m bench.queue [--sizes 10000,1000000] [--duration 10] [--warmup 3] [--json FILE]

Starts a private PostgreSQL 15 (pg_stat_statements preloaded) and Redis. For each size it loads
a fresh database (``bench.scale``: the generated data set, its finished cases copied in SQL above
10,000), starts ``casegraph serve`` (one worker, production settings) and PostGraphile (one Node
process) against it, and asks two shapes (``bench.queue_queries``: the dashboard's query and a
plain page of 50 by update time) as two viewers (an agent whose groups hold every case, one in a
small group): casegraph with the viewer's token, PostGraphile with the viewer's visibility stated
in its filter and, for the viewer who may see everything, also with no visibility filter. Every
pair must answer the same page (``assert_same_queue``) before and after the load. Then wrk at 32
connections measures each target in turn: requests/s, p50/p99 latency, server CPU per request
(the server's process tree), PostgreSQL CPU per request, peak RSS, SQL statements per request
(counted at the first size: they do not depend on the table's size). Everything it started is
stopped on the way out, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import asyncpg
import httpx

from bench import load, postgraphile_server, report, sql_counts
from bench.casegraph_server import casegraph_server, token
from bench.dataset_world import VIEWERS, Viewer
from bench.machine import describe
from bench.processes import ServerProcess
from bench.procstat import CpuSample
from bench.queue_queries import (
    DASHBOARD,
    PAGE,
    SHAPES,
    Mismatch,
    Shape,
    assert_same_queue,
    casegraph_body,
    field_count,
    page_numbers,
    postgraphile_body,
    total_count,
)
from bench.scale import SizedDataset, fresh_sized_database
from bench.services import PrivatePostgres, ServiceUnavailable, private_postgres, private_redis
from casegraph.domain.enums import Role

PAGE_SIZES: Final = (10, 50, 100)
TASK_INDEX: Final = "bench_case_tasks_case_id"
CASEGRAPH: Final = "casegraph"
POSTGRAPHILE: Final = "PostGraphile"
POSTGRAPHILE_OPEN: Final = "PostGraphile, no visibility"
DEFAULT_SIZES: Final = (10_000, 1_000_000)
QUICK_SIZES: Final = (10_000, 50_000)  # the same open cases at both: the pages are comparable


def parse_sizes(text: str) -> tuple[int, ...]:
    """``10000,1000000`` (or ``10k,1M``): the data-set sizes, each at least one case, in order given."""
    sizes = []
    for part in text.split(","):
        word = part.strip().lower().replace("_", "")
        scale = {"k": 1_000, "m": 1_000_000}.get(word[-1:], 1)
        digits = word[:-1] if scale > 1 else word
        if not digits.isdigit() or int(digits) * scale < 1:
            raise ValueError(f"not a number of cases: {part.strip()!r} (e.g. 10000,1000000 or 10k,1M)")
        sizes.append(int(digits) * scale)
    if len(set(sizes)) != len(sizes):
        raise ValueError(f"a size is given twice: {text}")
    return tuple(sizes)


@dataclass(frozen=True)
class QueueOptions:
    sizes: tuple[int, ...] = DEFAULT_SIZES
    duration: float = 10.0
    warmup: float = 3.0
    connections: int = 32
    statement_requests: int = 30
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


@dataclass(frozen=True)
class Measurement:
    """One server answering one shape for one viewer at one size."""

    cases: int
    shape: str
    viewer: str
    figures: ServerFigures

    @property
    def server(self) -> str:
        return self.figures.name


@dataclass
class SizeReport:
    cases: int
    rows: dict[str, int] = field(default_factory=dict)
    visible_open: dict[str, int] = field(default_factory=dict)  # viewer → the dashboard's totalCount
    pages: dict[str, list[str]] = field(default_factory=dict)  # "shape / viewer" → case numbers
    load_seconds: float = 0.0


@dataclass
class QueueReport:
    options: QueueOptions
    sizes: list[SizeReport] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    # The dashboard as the viewer who sees every group, per server and `first` (at the first size).
    statements_by_first: dict[str, dict[int, float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def figures(self, cases: int, shape: str, viewer: str, server: str) -> ServerFigures | None:
        for m in self.measurements:
            if (m.cases, m.shape, m.viewer, m.server) == (cases, shape, viewer, server):
                return m.figures
        return None


@dataclass
class _Target:
    """One server as the load sees it: where to POST what, with which header."""

    server: ServerProcess
    name: str
    shape: Shape
    viewer: Viewer
    body: Callable[[int], dict[str, Any]]
    authorization: str | None

    @property
    def graphql_url(self) -> str:
        return f"{self.server.url}/graphql"

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.shape.name, self.viewer.id, self.name)

    def post(self, http: httpx.Client, first: int = PAGE) -> dict[str, Any]:
        headers = {"Authorization": self.authorization} if self.authorization else {}
        response = http.post(self.graphql_url, json=self.body(first), headers=headers)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        if answer.get("errors"):
            raise RuntimeError(f"{self.name} answered with errors: {answer['errors']}")
        return answer


def _sender(target: _Target, http: httpx.Client, first: int) -> Callable[[], None]:
    def send() -> None:
        target.post(http, first)

    return send


async def _ensure_task_index(database_url: str) -> bool:
    """An index on case_tasks(case_id) unless the schema has one; True if this added it.

    PostGraphile v5 would read each case's tasks with a scan of its own without one; any
    deployment would add it, so both servers get it here.
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
            await connection.execute("ANALYZE case_tasks")
        return not indexed
    finally:
        await connection.close()


def prepare_database(pg: PrivatePostgres, cases: int, notes: list[str]) -> SizedDataset:
    data = asyncio.run(fresh_sized_database(pg, cases, database=f"casegraph_bench_{cases}"))
    if asyncio.run(_ensure_task_index(data.url)):
        notes.append("casegraph's migrations have no index on case_tasks.case_id: the bench adds one for both servers")
    return data


def _targets(cg: ServerProcess, pgl: ServerProcess | None, data: SizedDataset) -> list[_Target]:
    """Per shape and viewer: casegraph, PostGraphile with visibility, and (for a viewer who may
    see every group) PostGraphile without it."""
    targets = []
    for shape in SHAPES:
        for viewer in VIEWERS:
            bearer = f"Bearer {token(viewer.id, Role.AGENT, name=viewer.name)}"
            targets.append(
                _Target(cg, CASEGRAPH, shape, viewer, functools.partial(casegraph_body, shape=shape), bearer)
            )
            if pgl is None:
                continue
            visible = functools.partial(
                postgraphile_body, agent_id=viewer.id, group_ids=data.base.viewer_group_ids(viewer), shape=shape
            )
            targets.append(_Target(pgl, POSTGRAPHILE, shape, viewer, visible, None))
            if viewer.sees_every_group:
                unfiltered = functools.partial(postgraphile_body, agent_id=None, shape=shape)
                targets.append(_Target(pgl, POSTGRAPHILE_OPEN, shape, viewer, unfiltered, None))
    return targets


def _compare(targets: Sequence[_Target], http: httpx.Client, size: SizeReport) -> dict[tuple[str, str, str], int]:
    """Every PostGraphile target lists the same page as casegraph for the same shape and viewer;
    records casegraph's pages and counts; returns the fields per response of each target."""
    answers = {target.key: target.post(http) for target in targets}
    fields = {key: field_count(answer["data"]) for key, answer in answers.items()}
    for (shape, viewer, name), answer in answers.items():
        if name == CASEGRAPH:
            size.pages[f"{shape} / {viewer}"] = page_numbers(answer)
            if shape == DASHBOARD.name:
                size.visible_open[viewer] = total_count(answer)
            continue
        try:
            assert_same_queue(answers[(shape, viewer, CASEGRAPH)], answer)
        except Mismatch as mismatch:
            raise Mismatch(f"{size.cases:,} cases, {shape}, {viewer}, {name}: {mismatch}") from None
    print(
        f"{size.cases:,} cases: every server lists the same {PAGE} cases in the same order for each shape and viewer",
        flush=True,
    )
    return fields


def _count_statements(
    targets: Sequence[_Target], http: httpx.Client, pg_url: str, options: QueueOptions, result: QueueReport
) -> dict[tuple[str, str, str], float]:
    # Every server idle first: what they run on their own is taken out of the counts.
    background = sql_counts.background_rate(pg_url)
    counted: dict[tuple[str, str, str], float] = {}
    for target in targets:
        firsts = PAGE_SIZES if target.shape is DASHBOARD and target.viewer.sees_every_group else (PAGE,)
        counts = {
            first: sql_counts.count_statements(
                pg_url, _sender(target, http, first), requests=options.statement_requests, background=background
            )
            for first in firsts
        }
        counted[target.key] = counts[PAGE].per_request
        if len(firsts) > 1:
            result.statements_by_first[target.name] = {first: c.per_request for first, c in counts.items()}
        if options.show_sql:
            print(f"{' / '.join(target.key)}, first: {PAGE}, statements per request:\n{counts[PAGE].describe()}")
    return counted


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
        name=target.name,
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


def _run_size(
    cases: int,
    *,
    pg: PrivatePostgres,
    broadcast: str,
    logs: Path,
    wrk: str | None,
    with_postgraphile: bool,
    options: QueueOptions,
    result: QueueReport,
    statements: dict[tuple[str, str, str], float],
) -> None:
    size = SizeReport(cases=cases)
    result.sizes.append(size)
    print(f"loading {cases:,} cases into PostgreSQL {result.versions['postgresql']} …", flush=True)
    started = time.monotonic()
    data = prepare_database(pg, cases, result.notes)
    size.load_seconds = time.monotonic() - started
    size.rows = data.rows
    print(f"loaded in {size.load_seconds:.0f} s: {data.rows}", flush=True)
    with (
        casegraph_server(database_url=data.url, broadcast_url=broadcast, log_dir=logs) as cg,
        _maybe_postgraphile(with_postgraphile, data.url, logs) as pgl,
    ):
        targets = _targets(cg, pgl, data)
        with httpx.Client(timeout=120) as http:
            fields = _compare(targets, http, size)
            if not statements:
                statements.update(_count_statements(targets, http, data.url, options, result))
        if wrk is not None:
            for target in targets:
                print(
                    f"measuring {cases:,} cases, {target.shape.name}, {target.viewer.id}, {target.name}: "
                    f"wrk {options.connections} connections, {options.warmup:g} s warm-up + {options.duration:g} s …",
                    flush=True,
                )
                figures = _measure(
                    target,
                    wrk=wrk,
                    pg=pg,
                    options=options,
                    fields=fields[target.key],
                    statements=statements.get(target.key, float("nan")),
                )
                result.measurements.append(Measurement(cases, target.shape.name, target.viewer.id, figures))
            with httpx.Client(timeout=120) as http:
                _compare(targets, http, size)  # the same answers after the load: nothing changed


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
    statements: dict[tuple[str, str, str], float] = {}
    with (
        private_postgres() as pg,
        private_redis() as redis,
        tempfile.TemporaryDirectory(prefix="casegraph-bench-logs.") as logs,
    ):
        result.versions["postgresql"] = pg.version()
        broadcast = redis.url if redis is not None else "memory://"
        for cases in options.sizes:
            _run_size(
                cases,
                pg=pg,
                broadcast=broadcast,
                logs=Path(logs),
                wrk=wrk,
                with_postgraphile=with_postgraphile,
                options=options,
                result=result,
                statements=statements,
            )
    first = result.sizes[0] if result.sizes else None
    for size in result.sizes[1:]:
        if first is not None and size.pages != first.pages:
            result.notes.append(f"the pages at {size.cases:,} cases differ from those at {first.cases:,}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=parse_sizes, default=DEFAULT_SIZES, help="cases per data set, e.g. 10k,1M")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of measured load per target")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of unmeasured load before each")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    parser.add_argument("--show-sql", action="store_true", help="print each target's SQL statements per request")
    args = parser.parse_args()
    queue = run_queue(
        QueueOptions(sizes=args.sizes, duration=args.duration, warmup=args.warmup, show_sql=args.show_sql)
    )
    print(report.queue_table(queue))
    print(report.machine_lines(describe(queue.versions)))
    if args.json:
        args.json.write_text(json.dumps(queue.to_json(), indent=2, default=str))


if __name__ == "__main__":
    main()
