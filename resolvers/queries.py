"""Thin glue for queries. Lists prefetch plain records in the root resolver."""

from __future__ import annotations

import strawberry

from casegraph.domain.enums import Role as DomainRole
from casegraph.domain.validation import lookup_key
from casegraph.services.case_queries import CaseFilter, OrderField, Ordering, list_cases
from casegraph.services.column_limits import max_length
from casegraph.services.records import CASE_COLUMNS, CaseRecord
from casegraph.services.visibility import load_visible_case, visible_cases
from models import AssignmentGroup as GroupRow
from models import Case as CaseRow
from models import CaseType as CaseTypeRow
from models import User as UserRow
from resolvers.pipeline import hidden_as_none, refusals_as_errors
from schema.context import Info
from schema.enums import OrderDirection
from schema.inputs import CaseFilterInput, CaseOrderInput
from schema.types.case import Case, CaseConnection, CaseEdge
from schema.types.case_type import CaseType
from schema.types.common import PageInfo
from schema.types.people import AssignmentGroup, User


async def me(info: Info) -> User:
    """The viewer as the same ``User`` every other path returns (one cache entry in Apollo, Relay,
    urql): the token's claims over the stored row, the owner-only fields shown to their owner."""
    actor = info.context.require_actor()
    row = await UserRow.get_or_none(id=actor.user_id)
    return User(
        id=strawberry.ID(actor.user_id),
        name=actor.name or (row.name if row else None),
        roles=sorted(actor.roles, key=lambda r: r.value),
        agency=actor.agency,
        _email=actor.email or (row.email if row else None),
        _available=row.available if row else True,
        _skills=tuple(row.skills or ()) if row else (),
    )


async def case(info: Info, id: strawberry.ID) -> Case | None:
    actor = info.context.require_actor()
    record = await hidden_as_none(load_visible_case(actor, str(id), include_deleted=actor.has(DomainRole.ADMIN)))
    return None if record is None else Case.from_record(record)


async def case_by_number(info: Info, number: str) -> Case | None:
    actor = info.context.require_actor()
    key = lookup_key(number.strip().upper(), max_length(CaseRow, "number"))
    if key is None:
        return None
    rows = (
        await visible_cases(actor, include_deleted=actor.has(DomainRole.ADMIN)).filter(number=key).values(*CASE_COLUMNS)
    )
    return Case.from_record(CaseRecord.from_row(rows[0])) if rows else None


def case_filter_of(flt: CaseFilterInput | None) -> CaseFilter:
    """The service's filter for the GraphQL input (shared with the compiled path)."""
    flt = flt or CaseFilterInput()
    return CaseFilter(
        statuses=tuple(flt.status or ()),
        stages=tuple(flt.stage or ()),
        case_type_codes=tuple(flt.case_type_code or ()),
        assignment_group_codes=tuple(flt.assignment_group_code or ()),
        assigned_to_id=None if flt.assigned_to_id is None else str(flt.assigned_to_id),
        unassigned=flt.unassigned,
        requester_id=None if flt.requester_id is None else str(flt.requester_id),
        priorities=tuple(flt.priority or ()),
        text=flt.text,
        include_deleted=flt.include_deleted,
    )


def ordering_of(order_by: CaseOrderInput | None) -> Ordering:
    order = order_by or CaseOrderInput()
    return Ordering(field=OrderField(order.field.value), descending=order.direction is OrderDirection.DESC)


async def cases(
    info: Info,
    filter: CaseFilterInput | None,
    order_by: CaseOrderInput | None,
    first: int | None,
    after: str | None,
) -> CaseConnection:
    actor = info.context.require_actor()
    with refusals_as_errors():
        page = await list_cases(
            actor=actor,
            flt=case_filter_of(filter),
            ordering=ordering_of(order_by),
            first=first,
            after=after,
            max_page=info.context.max_page_size,
        )
    edges = [CaseEdge(cursor=c, node=Case.from_record(r)) for r, c in zip(page.records, page.cursors)]
    return CaseConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
        total_count=page.total,
    )


async def case_types(info: Info, include_inactive: bool = False) -> list[CaseType]:
    info.context.require_actor()
    query = CaseTypeRow.all() if include_inactive else CaseTypeRow.filter(active=True)
    return [CaseType.from_row(row) for row in await query.order_by("code")]


async def assignment_groups(info: Info) -> list[AssignmentGroup]:
    info.context.require_actor()
    return [AssignmentGroup.from_row(row) for row in await GroupRow.all().order_by("code")]
