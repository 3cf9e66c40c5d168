"""What one week of analytics costs at 10,000 and at 1,000,000 cases (``--only analytics``).

    python -m bench.analytics [--sizes 10000,1000000] [--repeats 15]

Each size is a fresh database of ``bench.scale`` on a private PostgreSQL (the copies above 10,000
cases are finished cases further back in time, as a city's history is). For the last week of
the data set's event log, every analytics aggregate runs ``--repeats`` times in this process
through casegraph's own services and connections (generic plans, as served), for an
administrator over every group and for one group. Printed: the rows the week holds at each size
(events, submissions, timers started: the copies' histories, two weeks apart, overlap the last
week too, so it holds more at a million cases), p50 per call, and each growth ratio (largest
size over smallest): a cost bounded by the week grows as the week's rows do, not as the table.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from tortoise.context import TortoiseContext

from bench.queue import DEFAULT_SIZES, parse_sizes
from bench.scale import fresh_sized_database
from bench.services import PrivatePostgres, private_postgres
from casegraph.db import tortoise_config
from casegraph.services import analytics as counts
from casegraph.services import analytics_times as times
from casegraph.services.analytics_scope import Scope
from models import AssignmentGroup, Case, CaseEvent, CaseTimer

WEEK: Final = timedelta(weeks=1)
AGGREGATES: Final[dict[str, Callable[[Scope], Awaitable[object]]]] = {
    "openCases": lambda s: counts.open_cases(s, [counts.OpenCaseDimension.STATUS]),
    "backlog": lambda s: counts.backlog(s, counts.BacklogInterval.DAY),
    "slaCompliance": counts.sla_compliance,
    "reopenRate": counts.reopen_rate,
    "satisfaction": counts.satisfaction,
    "firstResponseTime": times.first_response_time,
    "resolutionTime": times.resolution_time,
    "agentWorkload": times.agent_workload,
}


@dataclass
class AnalyticsReport:
    """p50 milliseconds per (scope, aggregate) per size, and the rows the week holds per size."""

    p50_ms: dict[int, dict[str, float]] = field(default_factory=dict)
    week_rows: dict[int, dict[str, int]] = field(default_factory=dict)

    def table(self) -> str:
        sizes = sorted(self.p50_ms)
        header = "| analytics, last week | " + " | ".join(f"at {n:,}" for n in sizes) + " | growth |"
        lines = [header, "|" + "---|" * (len(sizes) + 2)]
        # What the week holds: a cost bounded by the period grows as these do, not as the table.
        for key in self.week_rows.get(sizes[0], {}):
            counted = [self.week_rows[n][key] for n in sizes]
            lines.append(f"| {key} | " + " | ".join(f"{c:,}" for c in counted) + f" | {_growth(counted)} |")
        for key in self.p50_ms[sizes[0]]:
            figures = [self.p50_ms[n][key] for n in sizes]
            lines.append(f"| {key}, p50 | " + " | ".join(f"{f:.2f} ms" for f in figures) + f" | {_growth(figures)} |")
        return "\n".join(lines)


def _growth(figures: list[float] | list[int]) -> str:
    return f"{figures[-1] / figures[0]:.2f}×" if figures[0] else "–"


async def _week_rows(start: datetime, end: datetime) -> dict[str, int]:
    """The rows of the week the aggregates read: events, submissions, timers started."""
    return {
        "events in the week": await CaseEvent.filter(occurred_at__gte=start, occurred_at__lt=end).count(),
        "cases submitted in the week": await Case.filter(
            submitted_at__gte=start, submitted_at__lt=end, deleted_at__isnull=True
        ).count(),
        "timers started in the week": await CaseTimer.filter(started_at__gte=start, started_at__lt=end).count(),
    }


async def _measure(url: str, repeats: int) -> tuple[dict[str, float], dict[str, int]]:
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        newest = await CaseEvent.all().order_by("-occurred_at").first()
        group = await AssignmentGroup.all().order_by("id").first()
        if newest is None or group is None:
            raise RuntimeError("the data set has no events or no groups")
        end: datetime = newest.occurred_at
        scopes = {
            "admin": Scope(group_ids=None, case_type_ids=None, start=end - WEEK, end=end, now=end),
            "one group": Scope(group_ids=(group.id,), case_type_ids=None, start=end - WEEK, end=end, now=end),
        }
        figures = {}
        for scope_name, scope in scopes.items():
            for name, aggregate in AGGREGATES.items():
                await aggregate(scope)  # the statement prepared and its pages cached
                samples = []
                for _ in range(repeats):
                    started = time.perf_counter()
                    await aggregate(scope)
                    samples.append((time.perf_counter() - started) * 1000)
                figures[f"{name} ({scope_name})"] = statistics.median(samples)
        return figures, await _week_rows(end - WEEK, end)


def run_analytics(pg: PrivatePostgres, sizes: tuple[int, ...], repeats: int) -> AnalyticsReport:
    report = AnalyticsReport()
    for cases in sizes:
        loaded = time.monotonic()
        data = asyncio.run(fresh_sized_database(pg, cases, database=f"casegraph_analytics_{cases}"))
        print(f"analytics: {cases:,} cases loaded in {time.monotonic() - loaded:.0f} s", flush=True)
        report.p50_ms[cases], report.week_rows[cases] = asyncio.run(_measure(data.url, repeats))
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=parse_sizes, default=DEFAULT_SIZES, help="e.g. 10000,1000000 or 10k")
    parser.add_argument("--repeats", type=int, default=15, help="measured calls per aggregate and scope")
    args = parser.parse_args()
    with private_postgres() as pg:
        report = run_analytics(pg, tuple(args.sizes), args.repeats)
    print(report.table())


if __name__ == "__main__":
    main()
