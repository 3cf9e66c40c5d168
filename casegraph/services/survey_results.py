"""Satisfaction survey results: counts, average and distribution per case type, agent and period.

Computed in the database: one grouped query per breakdown (by rating, by agent, by case type),
each returning at most a handful of rows per group, and a keyset-paginated list.

Who sees what: an ``ADMIN`` every survey; a ``MANAGER`` the surveys of cases of the groups they
manage and of cases assigned to them; an ``AGENT`` only the surveys of cases assigned to them
(asking for another agent's is PERMISSION_DENIED). Other roles are refused. The agent a survey
counts for is the case's assignee, which no longer changes once the case is closed.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from tortoise.expressions import Q
from tortoise.functions import Count, Sum
from tortoise.queryset import QuerySet

from casegraph.domain.enums import Role
from casegraph.domain.errors import permission_denied, validation_failed
from casegraph.domain.relations import Actor
from casegraph.domain.validation import clean_text, lookup_key
from casegraph.services.case_queries import cursor_instant, page_size
from casegraph.services.column_limits import max_length, max_value
from models import AssignmentGroup, CaseType, Survey

RATINGS: Final = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class SurveyFilter:
    case_type_code: str | None = None
    agent_id: str | None = None
    group_code: str | None = None
    submitted_from: datetime | None = None
    submitted_to: datetime | None = None


@dataclass(frozen=True)
class Stats:
    count: int
    rating_sum: int

    @property
    def average(self) -> float | None:
        return round(self.rating_sum / self.count, 2) if self.count else None


@dataclass(frozen=True)
class Breakdown:
    key: Any
    stats: Stats


@dataclass(frozen=True)
class SurveyPage:
    surveys: list[Survey]
    cursors: list[str]
    has_next: bool
    has_previous: bool


async def scoped_surveys(*, actor: Actor, flt: SurveyFilter) -> QuerySet[Survey]:
    """The surveys the actor may see that match the filter (of cases not deleted)."""
    query = Survey.filter(case__deleted_at__isnull=True)
    agent_id = clean_text("filter.agentId", flt.agent_id, required=False, limit=255)
    if actor.has(Role.ADMIN):
        pass
    elif actor.has(Role.MANAGER):
        scope = [Q(case__assigned_to_id=actor.user_id)]
        if actor.managed_group_ids:
            scope.append(Q(case__assignment_group_id__in=sorted(actor.managed_group_ids)))
        query = query.filter(Q(*scope, join_type=Q.OR))
    elif actor.has(Role.AGENT):
        if agent_id is not None and agent_id != actor.user_id:
            raise permission_denied("Agents see only the results of their own cases.", "filter.agentId")
        query = query.filter(case__assigned_to_id=actor.user_id)
    else:
        raise permission_denied("Only managers, administrators and agents (their own) see survey results.")
    if flt.submitted_from and flt.submitted_to and flt.submitted_from > flt.submitted_to:
        raise validation_failed("filter.from", "from must not be after to.")
    if agent_id is not None:
        query = query.filter(case__assigned_to_id=agent_id)
    if flt.case_type_code is not None:
        ids = await _ids_with_code(CaseType, flt.case_type_code)
        query = query.filter(case__case_type_id__in=ids) if ids else query.filter(id__isnull=True)
    if flt.group_code is not None:
        ids = await _ids_with_code(AssignmentGroup, flt.group_code)
        query = query.filter(case__assignment_group_id__in=ids) if ids else query.filter(id__isnull=True)
    if flt.submitted_from is not None:
        query = query.filter(submitted_at__gte=flt.submitted_from)
    if flt.submitted_to is not None:
        query = query.filter(submitted_at__lt=flt.submitted_to)
    return query


async def _ids_with_code(model: type[CaseType] | type[AssignmentGroup], code: str) -> list[int]:
    """The id of the row with this code, if any (none for a code no row can have)."""
    key = lookup_key(code.strip(), max_length(model, "code"))
    if key is None:
        return []
    return [int(row["id"]) for row in await model.filter(code=key).values("id")]


async def distribution(query: QuerySet[Survey]) -> dict[int, int]:
    """How many surveys gave each rating, 1 to 5 (zeros included)."""
    rows = await query.annotate(n=Count("id")).group_by("rating").values("rating", "n")
    counts = {int(row["rating"]): int(row["n"]) for row in rows}
    return {rating: counts.get(rating, 0) for rating in RATINGS}


def totals(counts: dict[int, int]) -> Stats:
    return Stats(count=sum(counts.values()), rating_sum=sum(r * n for r, n in counts.items()))


async def breakdown(query: QuerySet[Survey], by: str) -> list[Breakdown]:
    """Count and average per value of ``by`` (``case__assigned_to_id``, ``case__case_type_id``)."""
    rows = await query.annotate(n=Count("id"), total=Sum("rating")).group_by(by).values(by, "n", "total")
    found = [Breakdown(row[by], Stats(int(row["n"]), int(row["total"] or 0))) for row in rows]
    return sorted(found, key=lambda b: (-b.stats.count, str(b.key)))


async def survey_page(query: QuerySet[Survey], *, first: int | None, after: str | None, max_page: int) -> SurveyPage:
    """Newest first, cut by keyset (submitted_at, id); ``first`` refused above ``max_page``."""
    limit = page_size(first, max_page=max_page)
    if after is not None:
        when, last_id = _decode(after)
        query = query.filter(Q(submitted_at__lt=when) | Q(submitted_at=when, id__lt=last_id))
    rows = await query.order_by("-submitted_at", "-id").limit(limit + 1)
    page = rows[:limit]
    return SurveyPage(
        surveys=page,
        cursors=[_encode(s.submitted_at, s.id) for s in page],
        has_next=len(rows) > limit,
        has_previous=after is not None,
    )


def _encode(when: datetime, survey_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([when.isoformat(), survey_id]).encode()).decode()


def _decode(cursor: str) -> tuple[datetime, int]:
    try:
        raw, survey_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        # Only what we issue: the database could not even compare an id beyond its column.
        if not isinstance(survey_id, int) or not 0 <= survey_id <= max_value(Survey, "id"):
            raise ValueError
        return cursor_instant(raw), survey_id
    except (ValueError, TypeError, OverflowError, RecursionError, binascii.Error, UnicodeDecodeError):
        raise validation_failed("after", "Not a cursor of this list.") from None
