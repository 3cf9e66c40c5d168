"""Which cases an analytics request covers, decided once per request before any aggregate runs.

Who sees what: an ``ADMIN`` every group; a ``MANAGER`` or ``AGENT`` the groups they are members
of, and naming any other group in the filter is PERMISSION_DENIED (an unknown code too, so the
answer does not tell which groups exist). Other roles are refused. Drafts and soft-deleted cases
never count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from casegraph.domain.enums import CaseStatus, Role
from casegraph.domain.errors import permission_denied, validation_failed
from casegraph.domain.relations import Actor
from casegraph.domain.validation import clean_text
from casegraph.services.analytics_sql import OPEN, SUBMITTED_AT, Statement
from models import AssignmentGroup, CaseType

MAX_CODES = 100


@dataclass(frozen=True)
class AnalyticsFilter:
    start: datetime | None = None
    end: datetime | None = None
    group_codes: Sequence[str] | None = None
    case_type_codes: Sequence[str] | None = None


@dataclass(frozen=True)
class Scope:
    """``group_ids`` None: every group (an ADMIN without a group filter); likewise case types."""

    group_ids: tuple[int, ...] | None
    case_type_ids: tuple[int, ...] | None
    start: datetime | None
    end: datetime | None
    now: datetime

    def cases(self, stmt: Statement, alias: str = "c") -> str:
        """The WHERE conditions selecting the scope's cases (table alias ``alias``)."""
        parts = [f"{alias}.deleted_at IS NULL", f"{alias}.status <> '{CaseStatus.DRAFT.value}'"]
        if self.group_ids is not None:
            parts.append(f"{alias}.assignment_group_id IN {stmt.values(self.group_ids)}")
        if self.case_type_ids is not None:
            parts.append(f"{alias}.case_type_id IN {stmt.values(self.case_type_ids)}")
        return " AND ".join(parts)

    def case_of(self, stmt: Statement, row: str, columns: str = "c.id") -> str:
        """A join from each row of the period (alias ``row``: an event, a timer, a survey) to its
        case in scope (alias ``c``, with ``columns``), looked up by key row by row.

        The period's rows are the fewer; the scope's cases grow with the table. A plan kept for any
        group (PostgreSQL's generic plans) guesses a group's share of the cases and, at a million
        cases, hashes every case of the group to join them (a week's backlog of one group cost
        seven times its 10,000-case figure). A lateral subquery with ``OFFSET 0`` cannot be merged
        into the join, so PostgreSQL looks each row's case up by its key; SQLite keeps a CROSS
        JOIN's order, the period's rows outside.
        """
        conditions = f"c.id = {row}.case_id AND {self.cases(stmt)}"
        if stmt.sqlite:
            return f"CROSS JOIN cases c ON {conditions}"
        return f"CROSS JOIN LATERAL (SELECT {columns} FROM cases c WHERE {conditions} OFFSET 0) c"

    def open_in_period(self, stmt: Statement) -> str:
        """Cases (alias ``c``) open now that were submitted in the range (open cases, workload).

        Given a range, SQLite must read it through the submission index: without statistics it
        would rather take the status list (an equality, so it guesses fewer rows than a range)
        and read every open case of the years. A unary ``+`` keeps a term out of its index
        choice; PostgreSQL weighs both with its statistics and needs no hint.
        """
        status = "c.status"
        if stmt.sqlite and (self.start is not None or self.end is not None):
            status = f"+{status}"
        return f"{status} IN {OPEN} AND {self.within(stmt, SUBMITTED_AT)}"

    def within(self, stmt: Statement, column: str) -> str:
        """``from <= column < to`` for the bounds given (TRUE when none is)."""
        parts = []
        if self.start is not None:
            parts.append(f"{column} >= {stmt.time(self.start)}")
        if self.end is not None:
            parts.append(f"{column} < {stmt.time(self.end)}")
        return " AND ".join(parts) if parts else "1 = 1"


async def analytics_scope(*, actor: Actor, flt: AnalyticsFilter, now: datetime) -> Scope:
    """Authorize the actor and resolve the filter's codes (at most two short queries)."""
    admin = actor.has(Role.ADMIN)
    if not (admin or actor.has(Role.MANAGER) or actor.has(Role.AGENT)):
        raise permission_denied("Only agents, managers and administrators see analytics.")
    if flt.start is not None and flt.end is not None and flt.start >= flt.end:
        raise validation_failed("filter.from", "from must be before to.")
    group_codes = _codes("filter.groupCodes", flt.group_codes)
    group_ids: tuple[int, ...] | None = None if admin else tuple(sorted(actor.group_ids))
    if group_codes:
        found = await _ids(AssignmentGroup, group_codes)
        if not admin and (len(found) < len(group_codes) or not set(found.values()) <= actor.group_ids):
            raise permission_denied("You see the analytics of your own groups only.", "filter.groupCodes")
        _require_all("filter.groupCodes", "assignment group", group_codes, found)
        group_ids = tuple(sorted(found.values()))
    case_type_ids: tuple[int, ...] | None = None
    case_type_codes = _codes("filter.caseTypeCodes", flt.case_type_codes)
    if case_type_codes:
        found = await _ids(CaseType, case_type_codes)
        _require_all("filter.caseTypeCodes", "case type", case_type_codes, found)
        case_type_ids = tuple(sorted(found.values()))
    return Scope(group_ids=group_ids, case_type_ids=case_type_ids, start=flt.start, end=flt.end, now=now)


def _codes(field: str, given: Sequence[str] | None) -> list[str]:
    """Trimmed, without repeats; null and an empty list both mean no restriction."""
    if not given:
        return []
    if len(given) > MAX_CODES:
        raise validation_failed(field, f"At most {MAX_CODES} codes.")
    codes = [clean_text(field, code, required=True, limit=64) for code in given]
    return sorted({code for code in codes if code is not None})


async def _ids(model: Any, codes: list[str]) -> dict[str, int]:
    rows = await model.filter(code__in=codes).values_list("code", "id")
    return {str(code): int(pk) for code, pk in rows}


def _require_all(field: str, what: str, codes: list[str], found: dict[str, int]) -> None:
    missing = [code for code in codes if code not in found]
    if missing:
        raise validation_failed(field, f"No {what} has the code {missing[0]}.")
