"""Reading cases and their history: filtered, ordered, keyset-paginated, visibility applied.

Pages are cut in SQL by keyset (``after`` a cursor holding the sort value and id), so a page
costs two statements (rows + total count) however deep it is and however long.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Final

from tortoise.expressions import Q

from casegraph.domain.enums import CaseStage, CaseStatus, Role
from casegraph.domain.errors import validation_failed
from casegraph.domain.relations import Actor
from casegraph.services.records import CASE_COLUMNS, EVENT_COLUMNS, CaseRecord, EventRecord
from casegraph.services.visibility import visible_cases
from models import CaseEvent, CaseType, AssignmentGroup

# Without `first`; `first` itself is capped by the caller's `max_page` (Settings.query_limits).
DEFAULT_PAGE: Final = 20


class OrderField(str, Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    PRIORITY = "priority"
    NUMBER = "number"


@dataclass(frozen=True)
class CaseFilter:
    statuses: tuple[CaseStatus, ...] = ()
    stages: tuple[CaseStage, ...] = ()
    case_type_codes: tuple[str, ...] = ()
    assignment_group_codes: tuple[str, ...] = ()
    assigned_to_id: str | None = None
    unassigned: bool | None = None
    requester_id: str | None = None
    priorities: tuple[int, ...] = ()
    text: str | None = None
    include_deleted: bool = False


@dataclass(frozen=True)
class Page:
    records: list[CaseRecord]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    total: int


@dataclass(frozen=True)
class EventPage:
    records: list[EventRecord]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    total: int


@dataclass(frozen=True)
class Ordering:
    field: OrderField = OrderField.CREATED_AT
    descending: bool = True


def page_size(first: int | None, *, max_page: int) -> int:
    if first is None:
        return min(DEFAULT_PAGE, max_page)
    if first < 0:
        raise validation_failed("first", "first must not be negative.")
    return min(first, max_page)


async def list_cases(
    *, actor: Actor, flt: CaseFilter, ordering: Ordering, first: int | None, after: str | None, max_page: int
) -> Page:
    if flt.include_deleted and not actor.has(Role.ADMIN):
        raise validation_failed("filter.includeDeleted", "Only an administrator may list deleted cases.")
    limit = page_size(first, max_page=max_page)
    query = visible_cases(actor, include_deleted=flt.include_deleted).filter(await _filter_q(flt))
    total = await query.count()
    column = ordering.field.value
    if after is not None:
        value, last_id = _decode_cursor(after, ordering.field)
        if ordering.descending:
            query = query.filter(Q(**{f"{column}__lt": value}) | Q(**{column: value, "id__lt": last_id}))
        else:
            query = query.filter(Q(**{f"{column}__gt": value}) | Q(**{column: value, "id__gt": last_id}))
    sign = "-" if ordering.descending else ""
    rows = await query.order_by(f"{sign}{column}", f"{sign}id").limit(limit + 1).values(*CASE_COLUMNS)
    records = [CaseRecord.from_row(row) for row in rows[:limit]]
    return Page(
        records=records,
        cursors=[_encode_cursor(getattr(r, column), r.id) for r in records],
        has_next=len(rows) > limit,
        has_previous=after is not None,
        total=total,
    )


async def case_history(*, case_id: str, first: int | None, after: str | None, max_page: int) -> EventPage:
    """Events of one (already authorized) case, oldest first; the cursor is the sequence."""
    limit = page_size(first, max_page=max_page)
    query = CaseEvent.filter(case_id=case_id)
    total = await query.count()
    if after is not None:
        if not after.isdigit() or len(after) > 18:
            raise validation_failed("after", "Not a history cursor.")
        query = query.filter(sequence__gt=int(after))
    rows = await query.order_by("sequence").limit(limit + 1).values(*EVENT_COLUMNS)
    records = [EventRecord.from_row(row) for row in rows[:limit]]
    return EventPage(
        records=records,
        cursors=[str(r.sequence) for r in records],
        has_next=len(rows) > limit,
        has_previous=after is not None,
        total=total,
    )


async def _filter_q(flt: CaseFilter) -> Q:
    parts: list[Q] = []
    if flt.statuses:
        parts.append(Q(status__in=list(flt.statuses)))
    if flt.stages:
        parts.append(Q(stage__in=list(flt.stages)))
    if flt.case_type_codes:
        ids = await CaseType.filter(code__in=list(flt.case_type_codes)).values_list("id", flat=True)
        parts.append(Q(case_type_id__in=list(ids)) if ids else Q(id__isnull=True))
    if flt.assignment_group_codes:
        ids = await AssignmentGroup.filter(code__in=list(flt.assignment_group_codes)).values_list("id", flat=True)
        parts.append(Q(assignment_group_id__in=list(ids)) if ids else Q(id__isnull=True))
    if flt.assigned_to_id is not None:
        parts.append(Q(assigned_to_id=flt.assigned_to_id))
    if flt.unassigned is not None:
        parts.append(Q(assigned_to_id__isnull=flt.unassigned))
    if flt.requester_id is not None:
        parts.append(Q(requester_id=flt.requester_id))
    if flt.priorities:
        parts.append(Q(priority__in=list(flt.priorities)))
    if flt.text:
        text = flt.text.strip()
        if len(text) > 200:
            raise validation_failed("filter.text", "filter.text must be at most 200 characters.")
        if text:
            parts.append(Q(title__icontains=text))
    return Q(*parts) if parts else Q()


def _encode_cursor(value: Any, case_id: str) -> str:
    raw = value.isoformat() if isinstance(value, datetime) else value
    return base64.urlsafe_b64encode(json.dumps([raw, case_id]).encode()).decode()


def _decode_cursor(cursor: str, order: OrderField) -> tuple[Any, str]:
    try:
        raw, case_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(case_id, str):
            raise ValueError
        if order in (OrderField.CREATED_AT, OrderField.UPDATED_AT):
            return datetime.fromisoformat(raw), case_id
        if order is OrderField.PRIORITY and isinstance(raw, int):
            return raw, case_id
        if order is OrderField.NUMBER and isinstance(raw, str):
            return raw, case_id
        raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise validation_failed("after", "Not a cursor of this list and ordering.") from None
