"""``assignToMe`` through the ASGI application on a SQLite file, in process: latency and profile.

    python -m bench.profile_assign [--mutations 200] [--profile pyinstrument|cprofile]

Each mutation takes a fresh NEW case of the agent's group (filed beforehand through the service,
so it has its creation event and SLA timers); the document is the dashboard's mutation shape.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import statistics
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

from tortoise import Tortoise

from bench.profile_queue import call
from casegraph.app import create_app
from casegraph.auth import issue_token
from casegraph.db import migrate, tortoise_config
from casegraph.domain.enums import Role, Workflow
from casegraph.domain.relations import Actor
from casegraph.services import admin
from casegraph.services.case_creation import NewCase, create_case
from casegraph.services.publisher import NullPublisher
from casegraph.services.sla_config import set_sla_policy
from casegraph.services.users import Claims, build_actor, provision
from casegraph.settings import RateLimits, Settings
from tests.perf.documents import ASSIGN_TO_ME  # the benchmark's own document


async def file_cases(count: int) -> list[str]:
    now = datetime.now(UTC)
    root = Actor(user_id="admin", roles=frozenset({Role.ADMIN}))
    await admin.create_assignment_group(actor=root, code="ROADS", name="Roads", now=now)
    await admin.create_case_type(
        actor=root,
        code="POTHOLE",
        name="Pothole",
        workflow=Workflow.PUBLIC_SERVICE,
        assignment_group_code="ROADS",
        auto_assign=False,
        description=None,
        now=now,
    )
    for priority in range(1, 6):
        await set_sla_policy(
            actor=root,
            case_type_code="POTHOLE",
            priority=priority,
            response_minutes=60 * priority,
            resolution_minutes=480 * priority,
            now=now,
        )
    await admin.add_group_member(actor=root, group_code="ROADS", user_id="agent-1", is_manager=False, now=now)
    citizen_claims = Claims(sub="alice", roles=frozenset({Role.CONSTITUENT}), name="Alice")
    await provision(claims=citizen_claims, now=now)
    citizen = await build_actor(citizen_claims)
    ids = []
    for i in range(count):
        created = await create_case(
            actor=citizen,
            new=NewCase(case_type_code="POTHOLE", title=f"Pothole {i}", impact=2, urgency=2),
            now=datetime.now(UTC),
            publisher=NullPublisher(),
        )
        ids.append(created.case.id)
    return ids


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mutations", type=int, default=200)
    parser.add_argument("--profile", choices=("cprofile", "pyinstrument"))
    parser.add_argument("--rate-limits", action="store_true", help="the default rate limits (in memory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="casegraph-assign.") as tmp:
        url = f"sqlite://{tmp}/assign.sqlite3"
        await migrate(url)
        settings = Settings(
            jwt_secret="perf-secret-perf-secret-perf-secret-32",
            database_url=url,
            rate_limits=RateLimits() if args.rate_limits else RateLimits.off(),
            sla_interval=0,
            outbox_interval=0,
        )
        app = create_app(settings, manage_resources=False)
        await Tortoise.init(config=tortoise_config(url))
        warmup = 10
        case_ids = await file_cases(warmup + args.mutations)
        bearer = issue_token(settings, sub="agent-1", roles=[Role.AGENT], name="Agent One")
        profiler: Any = None
        seconds, cpu = [], []
        for index, case_id in enumerate(case_ids):
            if index == warmup and args.profile == "cprofile":
                profiler = cProfile.Profile()
                profiler.enable()
            elif index == warmup and args.profile == "pyinstrument":
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.0002, async_mode="enabled")
                profiler.start()
            body = json.dumps({"query": ASSIGN_TO_ME, "variables": {"caseId": case_id}}).encode()
            started, used = time.perf_counter(), time.process_time()
            status, answer = await call(app, body, bearer)
            elapsed, used = time.perf_counter() - started, time.process_time() - used
            assert status == 200 and b'"OPEN"' in answer, answer
            if index >= warmup:
                seconds.append(elapsed)
                cpu.append(used)
        if args.profile == "cprofile":
            profiler.disable()
            pstats.Stats(profiler).sort_stats(os.environ.get("PSORT", "cumulative")).print_stats(
                int(os.environ.get("PLINES", "50"))
            )
        elif args.profile == "pyinstrument":
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False))
        print(
            f"assignToMe: {len(seconds)} mutations, p50 {1000 * statistics.median(seconds):.2f} ms, "
            f"mean {1000 * statistics.fmean(seconds):.2f} ms, CPU p50 {1000 * statistics.median(cpu):.2f} ms"
        )
        await Tortoise.close_connections()


if __name__ == "__main__":
    asyncio.run(main())
