"""Desk analytics that time: first response, resolution, and per-agent workload and performance.

Definitions (wall-clock time, not SLA working time; the SLA timers keep the latter):

- **submitted**: ``submitted_at`` (``created_at`` for rows written before that column existed).
- **first response**: the case first reaching ``OPEN`` (``first_opened_at``: accepted by its
  assignee or taken by an agent). It is the moment lifecycle.md's SLA response target measures
  ("submitted → first OPEN") and it is recorded once, so it cannot be gamed by later activity.
  Cases never opened (still ``NEW``, or closed or cancelled straight from it) have no first
  response and are left out. Counted in the range by when the response happened.
- **resolution**: for a case now ``RESOLVED`` or ``CLOSED``, the last time it left the open set
  for ``RESOLVED`` or ``CLOSED`` (so a reopened case counts its final resolution, and a case
  closed without a proposed solution counts its closing; cancelled cases are not resolutions).
  Taken from the event log, because ``resolved_at`` alone cannot tell an accepted solution from
  a later close after a rejection. Counted in the range by when the resolution happened.

Percentiles use the nearest-rank method: p is the value at rank ⌈p·n/100⌉ of the n durations in
ascending order, always one of the observed durations. ``ROW_NUMBER``/``COUNT`` window functions
compute it in the same statement on SQLite (≥ 3.25) and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from casegraph.services.analytics_scope import Scope
from casegraph.services.analytics_sql import MICROSECONDS, OPEN, RESOLVING, SUBMITTED_AT, Statement

PERCENTILES: Final = (50, 90, 95)


@dataclass(frozen=True)
class DurationStats:
    """Seconds, to the millisecond; None when there is nothing to measure."""

    count: int
    mean: float | None
    minimum: float | None
    maximum: float | None
    percentiles: dict[int, float | None]


def _seconds(micros: int | float | Decimal | None) -> float | None:
    return None if micros is None else round(float(micros) / MICROSECONDS, 3)


async def _stats(stmt: Statement, durations: str) -> DurationStats:
    ranked = f"SELECT d, ROW_NUMBER() OVER (ORDER BY d) AS rn, COUNT(*) OVER () AS total FROM ({durations}) durations"
    picks = "".join(f", MAX(CASE WHEN rn = ({p} * total + 99) / 100 THEN d END) AS p{p}" for p in PERCENTILES)
    rows = await stmt.fetch(
        f"SELECT COUNT(*) AS n, AVG(d) AS mean, MIN(d) AS low, MAX(d) AS high{picks} FROM ({ranked}) ranked"
    )
    row = rows[0]
    return DurationStats(
        count=int(row["n"]),
        mean=_seconds(row["mean"]),
        minimum=_seconds(row["low"]),
        maximum=_seconds(row["high"]),
        percentiles={p: _seconds(row[f"p{p}"]) for p in PERCENTILES},
    )


async def first_response_time(scope: Scope) -> DurationStats:
    """Submitted → first OPEN, of the cases whose first response falls in the range."""
    stmt = Statement()
    durations = (
        f"SELECT {stmt.epoch_us('c.first_opened_at')} - {stmt.epoch_us(SUBMITTED_AT)} AS d FROM cases c"
        f" WHERE {scope.cases(stmt)} AND c.first_opened_at IS NOT NULL AND {scope.within(stmt, 'c.first_opened_at')}"
    )
    return await _stats(stmt, durations)


def _resolutions(stmt: Statement, scope: Scope) -> str:
    """One row per resolved case in the scope and range: case_id, agent_id (assignee), d (µs).

    A case's final resolution falls in [from, to) when one of its resolutions does and none is
    at or after ``to``: so only the range's resolutions are read (an index range of
    ``occurred_at``), each case's later ones looked up by case, and the latest read in range is
    the final one.
    """
    later = ""
    if scope.end is not None:
        later = (
            f" AND NOT EXISTS (SELECT 1 FROM case_events l WHERE l.case_id = c.id"
            f" AND {_resolving('l')} AND l.occurred_at >= {stmt.time(scope.end)})"
        )
    # Each resolution's case looked up by key (Scope.case_of), its columns grouped by with it.
    columns = "c.id, c.assigned_to_id, c.status, c.submitted_at, c.created_at"
    return (
        f"SELECT c.id AS case_id, c.assigned_to_id AS agent_id,"
        f" MAX({stmt.epoch_us('e.occurred_at')}) - {stmt.epoch_us(SUBMITTED_AT)} AS d"
        f" FROM case_events e {scope.case_of(stmt, 'e', columns)}"
        f" WHERE c.status IN {RESOLVING} AND {_resolving('e')} AND {scope.within(stmt, 'e.occurred_at')}{later}"
        f" GROUP BY c.id, c.assigned_to_id, c.submitted_at, c.created_at"
    )


def _resolving(alias: str) -> str:
    """An event of the case leaving the open set for RESOLVED or CLOSED."""
    return f"{alias}.from_status IN {OPEN} AND {alias}.to_status IN {RESOLVING}"


async def resolution_time(scope: Scope) -> DurationStats:
    """Submitted → final resolution, of the cases resolved in the range."""
    stmt = Statement()
    return await _stats(stmt, _resolutions(stmt, scope))


@dataclass(frozen=True)
class AgentWorkload:
    """One agent: cases assigned and open now, resolutions and CSAT of their cases in the range."""

    agent_id: str
    open_cases: int
    resolved_cases: int
    mean_resolution: float | None
    surveys: int
    rating_sum: int

    @property
    def average_rating(self) -> float | None:
        return round(self.rating_sum / self.surveys, 2) if self.surveys else None


async def agent_workload(scope: Scope) -> list[AgentWorkload]:
    """Every member of the scope's groups (idle ones too), and anyone else assigned cases in it.

    A case counts for its current assignee. Most open cases first.
    """
    stmt = Statement()
    members = "SELECT m.user_id AS agent_id FROM group_memberships m"
    if scope.group_ids is not None:
        members += f" WHERE m.group_id IN {stmt.values(scope.group_ids)}"
    rows = await stmt.fetch(
        "WITH open_load AS (SELECT c.assigned_to_id AS agent_id, COUNT(*) AS open_cases FROM cases c"
        f" WHERE {scope.cases(stmt)} AND c.assigned_to_id IS NOT NULL AND {scope.open_in_period(stmt)}"
        " GROUP BY c.assigned_to_id),"
        " resolutions AS (SELECT agent_id, COUNT(*) AS resolved, AVG(d) AS mean_us"
        f" FROM ({_resolutions(stmt, scope)}) r WHERE agent_id IS NOT NULL GROUP BY agent_id),"
        " ratings AS (SELECT c.assigned_to_id AS agent_id, COUNT(*) AS surveys, SUM(s.rating) AS rating_sum"
        f" FROM surveys s {scope.case_of(stmt, 's', 'c.assigned_to_id')}"
        f" WHERE c.assigned_to_id IS NOT NULL AND {scope.within(stmt, 's.submitted_at')} GROUP BY c.assigned_to_id),"
        f" agents AS ({members} UNION SELECT agent_id FROM open_load UNION SELECT agent_id FROM resolutions"
        " UNION SELECT agent_id FROM ratings)"
        " SELECT a.agent_id, o.open_cases, r.resolved, r.mean_us, v.surveys, v.rating_sum FROM agents a"
        " LEFT JOIN open_load o ON o.agent_id = a.agent_id LEFT JOIN resolutions r ON r.agent_id = a.agent_id"
        " LEFT JOIN ratings v ON v.agent_id = a.agent_id"
    )
    found = [
        AgentWorkload(
            agent_id=str(row["agent_id"]),
            open_cases=_count(row["open_cases"]),
            resolved_cases=_count(row["resolved"]),
            mean_resolution=_seconds(row["mean_us"]),
            surveys=_count(row["surveys"]),
            rating_sum=_count(row["rating_sum"]),
        )
        for row in rows
    ]
    return sorted(found, key=lambda w: (-w.open_cases, -w.resolved_cases, w.agent_id))


def _count(value: Any) -> int:
    return int(value) if value is not None else 0
