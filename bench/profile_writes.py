"""CPU per action mutation through the ASGI application on PostgreSQL, in process: figures and profiles.

    python -m bench.profile_writes [--cases 10000 | --database-url URL] [--mutations 200]
        [--only assignToMe|updateCase|proposeSolution] [--profile cprofile] [--broadcast-url URL]

The write benchmark's mutations (``bench.writes``: ``assignToMe``, ``updateCase`` with a comment,
``proposeSolution``), each measured on its own: one agent takes every one of its new cases, then
comments on each, then resolves each, so each batch holds one kind only. Requests go straight into
the Starlette app with the server's production settings (JSON logs at WARNING, metrics on, the
live-event publisher started), on uvloop as the server runs; only uvicorn's HTTP parsing is left out, which keeps the figure
steady on a shared machine. The figure is ``time.process_time`` per mutation over batches of
``BATCH`` (the least batch is the steadiest; the median is shown too); ``--profile cprofile``
prints each mutation's profile by own time and by cumulative time.

Without ``--database-url`` a private PostgreSQL is started and loaded with ``--cases`` cases
(``bench.scale``); the agent's cases are copied anew for each run (``bench.writes_cases``), so a
loaded database can be used again.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import pstats
import statistics
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Final

import asyncpg
import uvloop
from tortoise import Tortoise

from bench.casegraph_server import SECRET, token
from bench.dataset_world import BENCH_AGENT_ID
from bench.profile_queue import call
from bench.scale import fresh_sized_database
from bench.services import private_postgres
from bench.writes import DOCUMENTS, MUTATIONS
from bench.writes_cases import agents, provision
from casegraph._compat.tortoise_statement_log import counted_statements
from casegraph.app import create_app
from casegraph.auth import TokenVerifier
from casegraph.db import tortoise_config
from casegraph.domain.enums import Role
from casegraph.events.live import LiveEvents
from casegraph.observability.logs import configure_logging
from casegraph.runtime import Runtime
from casegraph.settings import RateLimits, Settings

BATCH: Final = 25
WARMUP: Final = 10  # mutations of each kind before the measured ones: caches, prepared statements


@dataclass(frozen=True)
class MutationFigures:
    mutation: str
    mutations: int
    least_ms: float
    median_ms: float
    wall_ms: float
    statements: tuple[str, ...]

    def line(self) -> str:
        return (
            f"{self.mutation:>16}: {self.mutations} mutations, CPU {self.least_ms:.3f} ms least batch, "
            f"{self.median_ms:.3f} ms median batch; {self.wall_ms:.3f} ms wall; {len(self.statements)} statements"
        )


@contextlib.asynccontextmanager
async def _database(args: argparse.Namespace) -> AsyncIterator[str]:
    if args.database_url:
        yield args.database_url
        return
    with private_postgres() as pg:
        print(f"loading {args.cases:,} cases into PostgreSQL {pg.version()} …", flush=True)
        yield (await fresh_sized_database(pg, args.cases)).url


async def _agent_cases(url: str, count: int) -> tuple[str, str, list[str]]:
    """One group agent (not the benchmark's own) and ``count`` new cases of its group."""
    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        [agent] = await agents(connection, 1, exclude=[BENCH_AGENT_ID])
        cases = await provision(connection, [agent], count)
    finally:
        await connection.close()
    return agent.user_id, agent.name, cases[agent.user_id]


def _body(mutation: str, case_id: str) -> bytes:
    variables: dict[str, Any] = {"caseId": case_id}
    if mutation == "updateCase":
        variables["body"] = "On it."
    return json.dumps({"query": DOCUMENTS[mutation], "variables": variables}).encode()


async def _send(app: Any, mutation: str, case_id: str, bearer: str) -> None:
    status, answer = await call(app, _body(mutation, case_id), bearer)
    payload = json.loads(answer)["data"][mutation] if status == 200 else None
    if payload is None or payload["errors"] or payload["event"] is None:
        raise RuntimeError(f"{mutation} on {case_id} refused: HTTP {status} {answer[:500]!r}")


async def _measure(
    app: Any, mutation: str, cases: list[str], bearer: str, profile: str | None
) -> tuple[MutationFigures, Any]:
    for case_id in cases[:WARMUP]:
        await _send(app, mutation, case_id, bearer)
    with counted_statements() as statements:
        await _send(app, mutation, cases[WARMUP], bearer)
    measured = cases[WARMUP + 1 :]
    profiler: Any = None
    if profile == "cprofile":
        profiler = cProfile.Profile()
        profiler.enable()
    elif profile == "pyinstrument":
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002, async_mode="enabled")
        profiler.start()
    batches: list[float] = []
    started = time.perf_counter()
    for first in range(0, len(measured), BATCH):
        batch = measured[first : first + BATCH]
        cpu = time.process_time()
        for case_id in batch:
            await _send(app, mutation, case_id, bearer)
        batches.append((time.process_time() - cpu) / len(batch))
    wall = time.perf_counter() - started
    if profile == "cprofile":
        profiler.disable()
    elif profile == "pyinstrument":
        profiler.stop()
    figures = MutationFigures(
        mutation=mutation,
        mutations=len(measured),
        least_ms=1000 * min(batches),
        median_ms=1000 * statistics.median(batches),
        wall_ms=1000 * wall / len(measured),
        statements=tuple(statements),
    )
    return figures, profiler


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000, help="size of the private database's data set")
    parser.add_argument("--database-url", help="an already loaded casegraph database instead of a private one")
    parser.add_argument("--mutations", type=int, default=200, help="measured mutations of each kind")
    parser.add_argument("--only", choices=MUTATIONS, help="profile this mutation only (the others still run)")
    parser.add_argument("--profile", choices=("cprofile", "pyinstrument"))
    parser.add_argument("--profile-out", help="with cprofile: also dump each profile to PREFIX.<mutation>.pstats")
    parser.add_argument("--lines", type=int, default=40, help="rows of each cProfile listing")
    parser.add_argument("--show-sql", action="store_true", help="print each mutation's statements")
    parser.add_argument("--broadcast-url", default="memory://", help="the live-event channel (redis://… as deployed)")
    args = parser.parse_args()
    async with _database(args) as url:
        user_id, name, cases = await _agent_cases(url, WARMUP + 1 + args.mutations)
        settings = Settings(
            env="production",
            jwt_secret=SECRET,
            database_url=url,
            broadcast_url=args.broadcast_url,
            rate_limits=RateLimits.off(),
            log_level="WARNING",
            metrics_token="casegraph-bench-metrics-token",
            sla_interval=0,
            outbox_interval=0,
        )
        configure_logging(settings)
        await Tortoise.init(config=tortoise_config(url))
        runtime = Runtime(settings=settings, verifier=TokenVerifier(settings))
        live = LiveEvents(settings.broadcast_url)
        await live.start()
        runtime.live = live
        runtime.publisher = live
        app = create_app(settings, manage_resources=False, runtime=runtime)
        bearer = token(user_id, Role.AGENT, name=name)
        results = []
        try:
            for mutation in MUTATIONS:
                profile = args.profile if args.only in (None, mutation) else None
                figures, profiler = await _measure(app, mutation, cases, bearer, profile)
                results.append(figures)
                if profile == "cprofile" and args.profile_out:
                    profiler.dump_stats(f"{args.profile_out}.{mutation}.pstats")
                if profile == "cprofile":
                    print(f"==== {mutation}")
                    pstats.Stats(profiler).sort_stats("tottime").print_stats(args.lines)
                    pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.lines)
                elif profile == "pyinstrument":
                    print(f"==== {mutation}")
                    print(profiler.output_text(unicode=False, color=False, show_all=False))
        finally:
            await live.stop()
            await Tortoise.close_connections()
        for figures in results:
            print(figures.line())
            if args.show_sql:
                print("".join(f"    {' '.join(statement.split())[:400]}\n" for statement in figures.statements))


if __name__ == "__main__":
    # uvloop, as ``casegraph serve`` runs (uvicorn picks it when installed).
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())
