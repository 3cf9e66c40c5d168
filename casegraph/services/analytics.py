"""Desk analytics that count: open cases, backlog over time, SLA compliance, reopen rate, CSAT.

Each aggregate is one SQL statement whatever the number of cases, over the cases of a ``Scope``
(``services/analytics_scope.py``); durations and agent workload are in ``analytics_times.py``.
Rows are shaped for charts: keys plus values, in a stable order.

What the date range (``from`` inclusive, ``to`` exclusive) applies to, per aggregate:
open cases and workload — submission time (of cases open now); backlog — the buckets; SLA
compliance — when the timer started (submission); reopen rate — the resolution; satisfaction —
the survey's submission.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Final

from casegraph.domain.enums import CaseStage, CaseStatus
from casegraph.domain.errors import validation_failed
from casegraph.domain.sla import TimerKind
from casegraph.services.analytics_scope import Scope
from casegraph.services.analytics_sql import (
    ENDED,
    MICROSECONDS,
    OPEN,
    RESOLVING,
    Statement,
    epoch_us,
    micros,
)
from casegraph.services.survey_results import RATINGS

MAX_BUCKETS: Final = 366
DEFAULT_BUCKETS: Final = 30
_LATER: Final = -1  # the bucket of the moves at or after `to`
# No move lies beyond the latest. Said in the statement, it closes the range: a plan kept for any
# `from` (PostgreSQL's generic plans) guesses a third of the log for an open-ended range, and
# would then join every case to it, but a small slice for a closed one.
_LAST_MOVE: Final = "(SELECT MAX(m.occurred_at) FROM case_events m)"


class OpenCaseDimension(str, Enum):
    STAGE = "STAGE"
    STATUS = "STATUS"
    GROUP = "GROUP"
    PRIORITY = "PRIORITY"
    CASE_TYPE = "CASE_TYPE"


class BacklogInterval(str, Enum):
    DAY = "DAY"
    WEEK = "WEEK"


INTERVALS: Final = {BacklogInterval.DAY: timedelta(days=1), BacklogInterval.WEEK: timedelta(weeks=1)}
_COLUMNS: Final = {
    OpenCaseDimension.STAGE: "stage",
    OpenCaseDimension.STATUS: "status",
    OpenCaseDimension.GROUP: "assignment_group_id",
    OpenCaseDimension.PRIORITY: "priority",
    OpenCaseDimension.CASE_TYPE: "case_type_id",
}


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True)
class OpenCaseCount:
    """One row per combination of the dimensions asked for; the others stay None."""

    count: int
    stage: CaseStage | None = None
    status: CaseStatus | None = None
    group_id: int | None = None
    priority: int | None = None
    case_type_id: int | None = None


async def open_cases(scope: Scope, by: list[OpenCaseDimension]) -> list[OpenCaseCount]:
    """Cases open now, counted per combination of ``by`` (no dimension: one total row)."""
    dimensions = [d for d in OpenCaseDimension if d in by]
    columns = [f"c.{_COLUMNS[d]}" for d in dimensions]
    stmt = Statement()
    grouping = f" GROUP BY {', '.join(columns)}" if columns else ""
    rows = await stmt.fetch(
        f"SELECT {''.join(f'{column} AS {column[2:]}, ' for column in columns)}COUNT(*) AS n FROM cases c"
        f" WHERE {scope.cases(stmt)} AND {scope.open_in_period(stmt)}{grouping}"
    )
    found = [
        OpenCaseCount(
            count=int(row["n"]),
            stage=CaseStage(row["stage"]) if "stage" in row else None,
            status=CaseStatus(row["status"]) if "status" in row else None,
            group_id=row.get("assignment_group_id"),
            priority=row.get("priority"),
            case_type_id=row.get("case_type_id"),
        )
        for row in rows
    ]
    stages, statuses = list(CaseStage), list(CaseStatus)
    return sorted(
        found,
        key=lambda r: (
            stages.index(r.stage) if r.stage else -1,
            statuses.index(r.status) if r.status else -1,
            r.group_id or 0,
            r.priority or 0,
            r.case_type_id or 0,
        ),
    )


@dataclass(frozen=True)
class BacklogBucket:
    """Moves in and out of the open set during [start, end), and how many stayed open at ``end``."""

    start: datetime
    end: datetime
    opened: int
    reopened: int
    resolved: int
    cancelled: int
    open_at_end: int


async def backlog(scope: Scope, interval: BacklogInterval) -> list[BacklogBucket]:
    """Per interval from ``from`` (default: 30 intervals before ``to``) to ``to`` (default: now).

    Counted from the event log, so a case resolved and reopened counts where each happened;
    ``open_at_end`` carries the balance of every earlier move forward.
    """
    length = INTERVALS[interval]
    end = scope.end or scope.now
    start = scope.start or end - DEFAULT_BUCKETS * length
    if start >= end:
        raise validation_failed("filter.from", "from must be before to.")
    count, rest = divmod(end - start, length)
    count += bool(rest)  # the last bucket is cut short at `to`
    if count > MAX_BUCKETS:
        raise validation_failed(
            "filter.from", f"At most {MAX_BUCKETS} buckets: narrow the range or widen the interval."
        )
    stmt = Statement()
    at = stmt.epoch_us("e.occurred_at")
    start_us, end_us = stmt.value(epoch_us(start)), stmt.value(epoch_us(end))
    entered = f"e.to_status IN {OPEN} AND (e.from_status IS NULL OR e.from_status NOT IN {OPEN})"
    left = f"e.from_status IN {OPEN} AND e.to_status NOT IN {OPEN}"
    # Moves from `from` on only (an index range of occurred_at): the balance before `from` is what
    # is open now less every move since, so no request reads the years of history before it.
    rows = await stmt.fetch(
        "SELECT bucket,"
        " SUM(CASE WHEN entered = 1 AND (from_status IS NULL OR from_status = 'DRAFT') THEN 1 ELSE 0 END) AS opened,"
        f" SUM(CASE WHEN entered = 1 AND from_status IN {ENDED} THEN 1 ELSE 0 END) AS reopened,"
        f" SUM(CASE WHEN entered = 0 AND to_status IN {RESOLVING} THEN 1 ELSE 0 END) AS resolved,"
        f" SUM(CASE WHEN entered = 0 AND to_status = '{CaseStatus.CANCELLED.value}' THEN 1 ELSE 0 END) AS cancelled"
        " FROM (SELECT e.from_status, e.to_status,"
        f" CASE WHEN {entered} THEN 1 ELSE 0 END AS entered,"
        f" CASE WHEN {at} >= {end_us} THEN {_LATER} ELSE ({at} - {start_us}) / {stmt.value(micros(length))} END AS bucket"
        f" FROM case_events e {scope.case_of(stmt, 'e')}"
        f" WHERE e.occurred_at >= {stmt.time(start)} AND e.occurred_at <= {_LAST_MOVE}"
        f" AND (({entered}) OR ({left}))) moves"
        " GROUP BY bucket"
    )
    moves = {int(row["bucket"]): row for row in rows}
    balance = await _open_now(scope) - sum(_net(row) for row in moves.values())
    buckets = []
    for index in range(count):
        row = moves.get(index)
        balance += _net(row)
        buckets.append(
            BacklogBucket(
                start=start + index * length,
                end=min(start + (index + 1) * length, end),
                opened=_int(row, "opened"),
                reopened=_int(row, "reopened"),
                resolved=_int(row, "resolved"),
                cancelled=_int(row, "cancelled"),
                open_at_end=balance,
            )
        )
    return buckets


async def _open_now(scope: Scope) -> int:
    """The scope's cases open now, whenever submitted: the balance of every move ever recorded
    (each case's first event leaves no status, and each next one starts where the last ended)."""
    stmt = Statement()
    rows = await stmt.fetch(f"SELECT COUNT(*) AS n FROM cases c WHERE {scope.cases(stmt)} AND c.status IN {OPEN}")
    return _int(rows[0], "n")


def _net(row: dict[str, Any] | None) -> int:
    return _int(row, "opened") + _int(row, "reopened") - _int(row, "resolved") - _int(row, "cancelled")


def _int(row: dict[str, Any] | None, key: str) -> int:
    return int(row[key] or 0) if row is not None else 0


@dataclass(frozen=True)
class SlaCompliance:
    """Timers of one case type, priority and kind: met (stopped within target), breached, running."""

    case_type_id: int | None
    priority: int
    kind: TimerKind
    met: int
    breached: int
    in_progress: int

    @property
    def compliance_rate(self) -> float | None:
        """Met over decided (met + breached); timers still running are not decided yet."""
        return ratio(self.met, self.met + self.breached)


async def sla_compliance(scope: Scope) -> list[SlaCompliance]:
    """Per case type, priority and timer kind, of the timers started in the range.

    Breached: the evaluator recorded the breach, or the counted time already reached the target
    (a timer stopped past its target before the evaluator came round).
    """
    stmt = Statement()
    breached = f"(t.breached_at IS NOT NULL OR t.elapsed_us >= CAST(t.target_minutes AS BIGINT) * {60 * MICROSECONDS})"
    rows = await stmt.fetch(
        "SELECT c.case_type_id, c.priority, t.kind,"
        f" SUM(CASE WHEN {breached} THEN 1 ELSE 0 END) AS breached,"
        f" SUM(CASE WHEN NOT {breached} AND t.phase = 'STOPPED' THEN 1 ELSE 0 END) AS met,"
        f" SUM(CASE WHEN NOT {breached} AND t.phase <> 'STOPPED' THEN 1 ELSE 0 END) AS in_progress"
        f" FROM case_timers t {scope.case_of(stmt, 't', 'c.case_type_id, c.priority')}"
        f" WHERE {scope.within(stmt, 't.started_at')}"
        " GROUP BY c.case_type_id, c.priority, t.kind"
    )
    found = [
        SlaCompliance(
            case_type_id=row["case_type_id"],
            priority=int(row["priority"]),
            kind=TimerKind(row["kind"]),
            met=int(row["met"]),
            breached=int(row["breached"]),
            in_progress=int(row["in_progress"]),
        )
        for row in rows
    ]
    kinds = list(TimerKind)
    return sorted(found, key=lambda r: (r.case_type_id or 0, r.priority, kinds.index(r.kind)))


@dataclass(frozen=True)
class ReopenRate:
    resolved_cases: int
    reopened_cases: int

    @property
    def rate(self) -> float | None:
        return ratio(self.reopened_cases, self.resolved_cases)


async def reopen_rate(scope: Scope) -> ReopenRate:
    """Of the cases resolved (an open case moved to RESOLVED) in the range, those ever reopened."""
    stmt = Statement()
    rows = await stmt.fetch(
        "SELECT COUNT(*) AS resolved, SUM(CASE WHEN c.reopen_count > 0 THEN 1 ELSE 0 END) AS reopened"
        # From the range's resolutions to their cases (an index range of occurred_at, then the
        # cases by key), not from every case in scope to its events.
        f" FROM cases c WHERE {scope.cases(stmt)} AND c.id IN (SELECT e.case_id FROM case_events e"
        f" WHERE e.from_status IN {OPEN} AND e.to_status = '{CaseStatus.RESOLVED.value}'"
        f" AND {scope.within(stmt, 'e.occurred_at')})"
    )
    return ReopenRate(resolved_cases=_int(rows[0], "resolved"), reopened_cases=_int(rows[0], "reopened"))


@dataclass(frozen=True)
class Satisfaction:
    distribution: dict[int, int]

    @property
    def count(self) -> int:
        return sum(self.distribution.values())

    @property
    def average(self) -> float | None:
        total = sum(rating * n for rating, n in self.distribution.items())
        return round(total / self.count, 2) if self.count else None


async def satisfaction(scope: Scope) -> Satisfaction:
    """Surveys submitted in the range, per rating 1 to 5 (zeros included)."""
    stmt = Statement()
    rows = await stmt.fetch(
        f"SELECT s.rating, COUNT(*) AS n FROM surveys s {scope.case_of(stmt, 's')}"
        f" WHERE {scope.within(stmt, 's.submitted_at')} GROUP BY s.rating"
    )
    counts = {int(row["rating"]): int(row["n"]) for row in rows}
    return Satisfaction({rating: counts.get(rating, 0) for rating in RATINGS})
