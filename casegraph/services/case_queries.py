"""Reading cases and their history: filtered, ordered, keyset-paginated, visibility applied.

Pages are cut in SQL by keyset (``after`` a cursor holding the sort value and id), so a page
costs two statements (rows + total count) however deep it is and however long. The total comes
from the maintained counts when the filter allows (``visible_counts``), else from count(*).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Final

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from casegraph._compat import tortoise_queryset
from casegraph.database.case_counts import CountScope, count_total
from casegraph.database.case_pages import PageBranch, page_rows
from casegraph.database.case_search import SearchPosition, search_count, search_rows
from casegraph.database.sql import CONDITIONS, Condition, dialect_of, render_condition
from casegraph.domain.attachments import sees_internal
from casegraph.domain.enums import CaseStage, CaseStatus, Role
from casegraph.domain.errors import validation_failed
from casegraph.domain.relations import Actor
from casegraph.domain.search import SearchText, search_text
from casegraph.domain.validation import clean_text, id_number, lookup_key, uuid_key
from casegraph.services.column_limits import max_length, max_value
from casegraph.services.page_sizes import checked_page_size
from casegraph.services.records import CASE_COLUMNS, EVENT_COLUMNS, CaseRecord, EventRecord
from casegraph.services.visibility import SUBMITTED_STATUSES, visibility_branches, visibility_filter, visible_cases
from casegraph.services.visible_counts import count_scope
from models import AssignmentGroup, Case, CaseEvent, CaseType, User

# Without `first`; `first` itself is refused above the caller's `max_page` (Settings.query_limits).
DEFAULT_PAGE: Final = 20
TEXT_FILTER_LIMIT: Final = 200


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
    """``first``, or the default page; over ``max_page`` it is refused, not cut (page_sizes.py)."""
    return checked_page_size(first, cap=max_page, default=DEFAULT_PAGE)


@dataclass(frozen=True, slots=True)
class PageQueries:
    """A page's condition as query sets: its disjoint branches, each with whether an index yields
    it in order (an index-ordered branch carries the filter, its status one of the filter's; a
    user's own branch is filtered after the fetch), and the filter's own condition (None without one)."""

    branches: tuple[tuple[QuerySet[Case], bool], ...]
    filtered: QuerySet[Case] | None


@dataclass(frozen=True, slots=True)
class PageShape:
    """``PageQueries`` rendered: what ``database.case_pages.page_statement`` takes."""

    branches: tuple[PageBranch, ...]
    filtered: Condition | None


def _rendered_shape(queries: PageQueries) -> PageShape:
    return PageShape(
        tuple(PageBranch(render_condition(query), ordered) for query, ordered in queries.branches),
        render_condition(queries.filtered) if queries.filtered is not None else None,
    )


@dataclass(frozen=True)
class PageRequest:
    """A checked request for a page of cases: what both the resolver and the compiled path run."""

    actor: Actor
    # Visible cases matching the filter (the total counts these), before the cursor.
    matching: QuerySet[Case]
    ordering: Ordering
    limit: int
    # The sort value and case id of ``after``, when given.
    after: tuple[Any, str] | None
    # What ``matching`` depends on, when that is only the actor and the filter's own values (no
    # code the database resolved): the compiled path keeps its rendered SQL under it. None otherwise.
    condition_key: Hashable | None
    # ``matching`` as disjoint branches (visibility_branches) and the filter's own condition, as
    # query sets; called only when their rendered conditions are not kept under ``condition_key``:
    # building a query set per branch was most of a page's Python time for an agent of many groups.
    shape: Callable[[], PageQueries]
    # The total as maintained counts give it, when the filter is one they carry; None: count(*).
    counted: CountScope | None = None
    # A text search (``filter.text``): the page is read through the search index in relevance
    # order, not by ``ordering`` (``list_cases``); None: no text. ``search_after``: its cursor.
    search: SearchText | None = None
    search_after: SearchPosition | None = None

    def page_shape(self, dialect: str) -> PageShape:
        """The branches' conditions and the filter's, rendered once per (dialect, condition_key)
        when there is one."""
        if self.condition_key is None:
            return _rendered_shape(self.shape())
        return CONDITIONS.get_built((dialect, self.condition_key, "page"), lambda: _rendered_shape(self.shape()))

    def after_condition(self) -> Condition | None:
        """Cases that follow the cursor in the ordering; None without one. Written as a range on
        the order column (``col <= v``) that an index walk starts from, plus the tie-break on id."""
        if self.after is None:
            return None
        value, last_id = self.after
        column = self.ordering.field.value
        if self.ordering.descending:
            bound = Q(Q(**{f"{column}__lte": value}), Q(**{f"{column}__lt": value}) | Q(id__lt=last_id))
        else:
            bound = Q(Q(**{f"{column}__gte": value}), Q(**{f"{column}__gt": value}) | Q(id__gt=last_id))
        return render_condition(Case.filter(bound))


async def page_request(
    *, actor: Actor, flt: CaseFilter, ordering: Ordering, first: int | None, after: str | None, max_page: int
) -> PageRequest:
    """Checks the request (VALIDATION_FAILED for a bad page size, cursor or filter) and resolves
    the filter's codes; nothing is read from the cases yet."""
    if flt.include_deleted and not actor.has(Role.ADMIN):
        raise validation_failed("filter.includeDeleted", "Only an administrator may list deleted cases.")
    limit = page_size(first, max_page=max_page)
    condition, within, leading = await _filter_q(flt)
    text = clean_text("filter.text", flt.text, required=False, limit=TEXT_FILTER_LIMIT)
    search = search_text(text) if text is not None else None
    search_after = _decode_search_cursor(after) if search is not None and after is not None else None
    cursor = _decode_cursor(after, ordering.field) if after is not None and search is None else None
    matching = visible_cases(actor, include_deleted=flt.include_deleted).filter(condition)

    def shape() -> PageQueries:
        filtered = Case.filter(condition) if condition.children or condition.filters else None
        if flt.include_deleted:
            # An administrator's audit listing: deleted cases are in no branch's index; one walk.
            return PageQueries(((matching, True),), filtered)
        split = flt.statuses or SUBMITTED_STATUSES
        if leading is not None:
            return PageQueries(_led_by_filter(actor, leading, split, within), filtered)
        # Each index-ordered branch has one status of the filter: its status list would only
        # cost the index walk its order (PostgreSQL reads `= ANY` on a later index column unordered).
        branches = tuple(
            (Case.filter(branch.condition).filter(within), True)
            if branch.index_ordered
            else (Case.filter(branch.condition), False)
            for branch in visibility_branches(actor, split)
        )
        return PageQueries(branches, filtered)

    resolved_codes = bool(flt.case_type_codes or flt.assignment_group_codes)
    return PageRequest(
        actor=actor,
        matching=matching,
        ordering=ordering,
        limit=limit,
        after=cursor,
        condition_key=None if resolved_codes else (actor, flt),
        counted=_counted(actor, flt),
        shape=shape,
        search=search,
        search_after=search_after,
    )


def _counted(actor: Actor, flt: CaseFilter) -> CountScope | None:
    """The counts carry status and stage; any other filter is left to count(*)."""
    if flt != CaseFilter(statuses=flt.statuses, stages=flt.stages):
        return None
    return count_scope(actor, statuses=flt.statuses, stages=flt.stages)


async def list_cases(
    *, actor: Actor, flt: CaseFilter, ordering: Ordering, first: int | None, after: str | None, max_page: int
) -> Page:
    request = await page_request(actor=actor, flt=flt, ordering=ordering, first=first, after=after, max_page=max_page)
    if request.search is not None:
        return await _search_page(request, request.search)
    db = tortoise_queryset.connection_for(request.matching)
    dialect = dialect_of(db)
    if request.counted is not None:
        total = await count_total(db, request.counted)
    else:
        total = await request.matching.count()
    limit, column = request.limit, ordering.field.value
    shape = request.page_shape(dialect)
    rows = await page_rows(
        db,
        dialect,
        shape.branches,
        shape.filtered,
        request.after_condition(),
        columns=CASE_COLUMNS,
        order_column=column,
        descending=ordering.descending,
        limit=limit + 1,
    )
    records = [CaseRecord.from_row(row) for row in rows[:limit]]
    return Page(
        records=records,
        cursors=[encode_cursor(getattr(r, column), r.id) for r in records],
        has_next=len(rows) > limit,
        has_previous=after is not None,
        total=total,
    )


async def _search_page(request: PageRequest, search: SearchText) -> Page:
    """A page of a text search: visible cases matching the filter and the text, the typed case
    number first, then by relevance, then the most recently updated."""
    if search.matches_nothing:
        return Page(records=[], cursors=[], has_next=False, has_previous=request.search_after is not None, total=0)
    db = tortoise_queryset.connection_for(request.matching)
    dialect = dialect_of(db)
    condition = render_condition(request.matching)
    # Work notes are matched for those who may read them, never for anyone else.
    internal = sees_internal(request.actor)
    total = await search_count(db, dialect, search, condition, internal=internal)
    after = None
    if request.search_after is not None:
        position = request.search_after
        recency = Q(
            Q(updated_at__lte=position.updated_at), Q(updated_at__lt=position.updated_at) | Q(id__lt=position.case_id)
        )
        after = (position, render_condition(Case.filter(recency)))
    found = await search_rows(
        db, dialect, search, condition, after, internal=internal, columns=CASE_COLUMNS, limit=request.limit + 1
    )
    page = found[: request.limit]
    return Page(
        records=[CaseRecord.from_row(values) for values, _ in page],
        cursors=[encode_search_cursor(position) for _, position in page],
        has_next=len(found) > request.limit,
        has_previous=request.search_after is not None,
        total=total,
    )


def encode_search_cursor(position: SearchPosition) -> str:
    updated = position.updated_at
    raw = [position.exact, position.rank, updated.isoformat() if isinstance(updated, datetime) else updated]
    return base64.urlsafe_b64encode(json.dumps({"search": raw, "id": position.case_id}).encode()).decode()


def _decode_search_cursor(cursor: str) -> SearchPosition:
    """The position of a search cursor we issued; anything else is VALIDATION_FAILED."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(decoded, dict):
            raise ValueError
        (exact, rank, updated), case_id = decoded["search"], decoded["id"]
        if not isinstance(case_id, str) or uuid_key(case_id) is None or exact not in (0, 1):
            raise ValueError
        if isinstance(exact, bool) or not isinstance(rank, float | int) or isinstance(rank, bool):
            raise ValueError
        if rank != rank or abs(rank) > 1e300:  # NaN or infinite: not a rank we issued
            raise ValueError
        return SearchPosition(int(exact), float(rank), cursor_instant(updated), case_id)
    except (ValueError, TypeError, KeyError, OverflowError, RecursionError, binascii.Error, UnicodeDecodeError):
        raise validation_failed("after", "Not a cursor of this search.") from None


async def case_history(*, case_id: str, first: int | None, after: str | None, max_page: int) -> EventPage:
    """Events of one (already authorized) case, oldest first; the cursor is the sequence."""
    limit = page_size(first, max_page=max_page)
    query = CaseEvent.filter(case_id=case_id)
    total = await query.count()
    if after is not None:
        sequence = id_number(after, max_value(CaseEvent, "sequence"))
        if sequence is None:
            raise validation_failed("after", "Not a history cursor.")
        query = query.filter(sequence__gt=sequence)
    rows = await query.order_by("sequence").limit(limit + 1).values(*EVENT_COLUMNS)
    records = [EventRecord.from_row(row) for row in rows[:limit]]
    return EventPage(
        records=records,
        cursors=[str(r.sequence) for r in records],
        has_next=len(rows) > limit,
        has_previous=after is not None,
        total=total,
    )


@dataclass(frozen=True, slots=True)
class Leading:
    """A selective filter a page is walked from: its column and the values it allows (none: the
    filter names nothing that exists). An index of 0013 or 0024 leads with the column, then the
    status and the order column."""

    column: str
    values: tuple[str | int, ...]


def _led_by_filter(
    actor: Actor, leading: Leading, statuses: tuple[CaseStatus, ...], within: Q
) -> tuple[tuple[QuerySet[Case], bool], ...]:
    """A page's branches walked from the filter rather than from the reader's ways of seeing:
    one walk per filter value and status (an index range in the page's order), visibility being
    the row filter, and the reader's own drafts. The visibility branches would read a reader's
    whole group before finding a requester's dozen cases in it; these read the filter's rows,
    and stop at the page's end when the reader sees them."""
    live = Q(deleted_at__isnull=True)
    own_drafts = Case.filter(Q(status=CaseStatus.DRAFT, author_id=actor.user_id), live)
    seen = visibility_filter(actor)
    submitted = sorted({status for status in statuses if status is not CaseStatus.DRAFT}, key=lambda s: s.value)
    walks = tuple(
        (Case.filter(_equal(leading.column, value), Q(status=status), live, seen, within), True)
        for value in leading.values
        for status in submitted
    )
    return ((own_drafts, False), *walks)


async def _filter_q(flt: CaseFilter) -> tuple[Q, Q, Leading | None]:
    """The filter's condition, the same without its status list (what a branch of one of
    those statuses still needs), and the selective filter a page walks from, if any (the
    requester's, then an assignee's, then case types': the order they usually narrow in)."""
    parts: list[Q] = []
    led: list[Leading] = []
    if flt.stages:
        parts.append(Q(stage__in=list(flt.stages)))
    if flt.requester_id is not None:
        parts.append(_with_user("requester_id", flt.requester_id))
        led.append(_user_leading("requester_id", flt.requester_id))
    if flt.assigned_to_id is not None:
        parts.append(_with_user("assigned_to_id", flt.assigned_to_id))
        led.append(_user_leading("assigned_to_id", flt.assigned_to_id))
    if flt.case_type_codes:
        type_ids = await _code_ids(CaseType, flt.case_type_codes)
        parts.append(_in_ids("case_type_id", type_ids))
        led.append(Leading("case_type_id", tuple(type_ids)))
    if flt.assignment_group_codes:
        parts.append(_in_ids("assignment_group_id", await _code_ids(AssignmentGroup, flt.assignment_group_codes)))
    if flt.unassigned is not None:
        parts.append(Q(assigned_to_id__isnull=flt.unassigned))
    if flt.priorities:
        parts.append(Q(priority__in=list(flt.priorities)))
    leading = led[0] if led else None
    if flt.statuses:
        return Q(Q(status__in=list(flt.statuses)), *parts), Q(*parts), leading
    return (Q(*parts), Q(*parts), leading) if parts else (Q(), Q(), leading)


async def _code_ids(model: type[CaseType] | type[AssignmentGroup], codes: tuple[str, ...]) -> list[int]:
    """The ids of the rows with one of ``codes`` (codes nothing has are left out)."""
    limit = max_length(model, "code")
    keys = [key for key in (lookup_key(code, limit) for code in codes) if key is not None]
    return sorted(int(row["id"]) for row in await model.filter(code__in=keys).values("id")) if keys else []


def _in_ids(column: str, ids: list[int]) -> Q:
    """Cases whose ``column`` is one of ``ids``; no ids match no case."""
    condition: dict[str, Any] = {f"{column}__in": ids}
    return Q(**condition) if ids else _no_case()


def _equal(column: str, value: str | int) -> Q:
    condition: dict[str, Any] = {column: value}
    return Q(**condition)


def _user_leading(column: str, user_id: str) -> Leading:
    key = lookup_key(user_id, max_length(User, "id"))
    return Leading(column, (key,) if key is not None else ())


def _with_user(column: str, user_id: str) -> Q:
    key = lookup_key(user_id, max_length(User, "id"))
    condition: dict[str, Any] = {column: key}
    return Q(**condition) if key is not None else _no_case()


def _no_case() -> Q:
    """Matches no case: what a filter on a code or a user nothing has comes to."""
    return Q(id__isnull=True)


def encode_cursor(value: Any, case_id: str) -> str:
    raw = value.isoformat() if isinstance(value, datetime) else value
    return base64.urlsafe_b64encode(json.dumps([raw, case_id]).encode()).decode()


def _decode_cursor(cursor: str, order: OrderField) -> tuple[Any, str]:
    """The sort value and case id of a cursor we issued; anything else (a forged cursor whose
    values the database could not even compare) is VALIDATION_FAILED."""
    try:
        raw, case_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(case_id, str) or uuid_key(case_id) is None:
            raise ValueError
        if order in (OrderField.CREATED_AT, OrderField.UPDATED_AT):
            return cursor_instant(raw), case_id
        if order is OrderField.PRIORITY and isinstance(raw, int) and abs(raw) <= max_value(Case, "priority"):
            return raw, case_id
        if order is OrderField.NUMBER and isinstance(raw, str):
            if lookup_key(raw, max_length(Case, "number")) is None:
                raise ValueError
            return raw, case_id
        raise ValueError
    except (ValueError, TypeError, OverflowError, RecursionError, binascii.Error, UnicodeDecodeError):
        raise validation_failed("after", "Not a cursor of this list and ordering.") from None


def cursor_instant(raw: object) -> datetime:
    """A cursor's time in UTC; ValueError unless it has an offset, as the ones we issue do
    (OverflowError when it falls outside the years 1 to 9999 in UTC)."""
    if not isinstance(raw, str):
        raise ValueError("not a time")
    when = datetime.fromisoformat(raw)
    if when.tzinfo is None:
        raise ValueError("a time without an offset")
    return when.astimezone(UTC)
