"""Several server processes evaluating SLAs on one database at once: each deadline fires once.

Real OS processes (not tasks of one event loop) run ``evaluate_due`` at the same instant against
a shared database — a file on SQLite, a fresh database on PostgreSQL — after a barrier, so they
really overlap. What they may not do is fire anything twice: the database decides.
"""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tortoise.context import TortoiseContext

from casegraph.database.counters import ensure_counters
from casegraph.db import tortoise_config
from casegraph.domain.enums import CaseAction
from casegraph.services import sla_config
from casegraph.services.case_actions import ActionRequest, perform
from casegraph.services.case_creation import NewCase, create_case
from casegraph.services.users import forget_provisioned
from models import CaseEvent, Notification
from tests.conftest import forget_backend_caches
from tests.helpers import FakeClock, RecordingPublisher, build_world

REPO_ROOT = Path(__file__).resolve().parents[1]
PROCESSES = 4
CASES = 5

WORKER = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from datetime import datetime
    from pathlib import Path
    from tortoise.context import TortoiseContext
    from casegraph.composition import install_case_extensions
    from casegraph.db import tortoise_config
    from casegraph.services.publisher import NullPublisher
    from casegraph.services.sla_evaluation import evaluate_due

    async def main(url, now, go):
        install_case_extensions()  # as the server's own evaluator has them
        async with TortoiseContext() as ctx:
            await ctx.init(config=tortoise_config(url))
            print("ready", flush=True)
            deadline = time.monotonic() + 60
            while not Path(go).exists() and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
            fired, alerts = [], 0
            for _ in range(3):
                result = await evaluate_due(now=datetime.fromisoformat(now), publisher=NullPublisher())
                fired += [event.sequence for event in result.events]
                alerts += result.alerts
            print(json.dumps({"fired": fired, "alerts": alerts}), flush=True)

    asyncio.run(main(*sys.argv[1:]))
    """
)


@pytest.fixture
async def shared_database(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A database other processes can open: a file on SQLite, a fresh one on PostgreSQL."""
    forget_backend_caches()
    if backend == "sqlite":
        yield f"sqlite://{tmp_path / 'sla.sqlite3'}"
        return
    from tests.conftest import _create_pg_database_named, _drop_pg_database, require_postgres

    require_postgres()
    name = f"casegraph_sla_{tmp_path.name[-20:].replace('-', '_').lower()}"
    url = await _create_pg_database_named(name)
    try:
        yield url
    finally:
        await _drop_pg_database(name)


async def run_workers(url: str, now: datetime, go: Path) -> list[dict[str, object]]:
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WORKER,
            url,
            now.isoformat(),
            str(go),
            cwd=REPO_ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        assert worker.stdout is not None
        line = await asyncio.wait_for(worker.stdout.readline(), timeout=60)
        assert line.strip() == b"ready", (line, await worker.stderr.read() if worker.stderr else b"")
    go.touch()  # the barrier: every process is connected and polls for this file
    results = []
    for worker in workers:
        out, err = await asyncio.wait_for(worker.communicate(), timeout=120)
        assert worker.returncode == 0, err.decode()
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    return results


async def test_several_server_processes_fire_each_deadline_exactly_once(shared_database: str, tmp_path: Path) -> None:
    # given: five cases far past every threshold and their INTAKE dwell limit, never evaluated
    clock = FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC), step=timedelta(seconds=1))
    publisher = RecordingPublisher()
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(shared_database))
        await ctx.generate_schemas(safe=True)
        await ensure_counters()
        world = await build_world(clock)
        await sla_config.set_sla_policy(
            actor=world.actor("admin"),
            case_type_code="POTHOLE",
            priority=3,
            response_minutes=60,
            resolution_minutes=240,
            now=clock(),
        )
        for _ in range(CASES):
            created = await create_case(
                actor=world.actor("requester"),
                new=NewCase(case_type_code="POTHOLE", title="Hole", impact=2, urgency=2),
                now=clock(),
                publisher=publisher,
            )
            await perform(
                actor=world.actor("agent"),
                request=ActionRequest(CaseAction.ASSIGN_TO_ME, created.case.id),
                now=clock(),
                publisher=publisher,
            )
    forget_provisioned()
    clock.advance(3 * timedelta(days=1))
    # when
    results = await run_workers(shared_database, clock(), tmp_path / "go")
    # then: 3 thresholds per case fired once in all, and one dwell alert per case
    fired = [sequence for result in results for sequence in result["fired"]]  # type: ignore[attr-defined]
    assert len(fired) == len(set(fired)) == 3 * CASES
    assert sum(int(result["alerts"]) for result in results) == CASES  # type: ignore[call-overload]
    forget_backend_caches()
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(shared_database))
        stored: list[Any] = await CaseEvent.filter(action=CaseAction.SLA_TIMER).values_list("sequence", flat=True)
        assert sorted(int(s) for s in stored) == sorted(fired)
        # 50 %: Dana; 75 % and 100 %: Dana and Maria; dwell: Dana
        assert await Notification.all().count() == CASES * (1 + 2 + 2 + 1)
