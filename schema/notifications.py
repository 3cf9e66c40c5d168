"""Notifications: what the viewer has been told (SLA warnings, escalations, mentions)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from casegraph.domain.validation import id_number
from casegraph.services.column_limits import max_value
from casegraph.services.notifications import mark_read
from models import Notification as NotificationRow
from resolvers.loaders import VisibleCaseById
from schema.context import Info
from schema.types.case import Case


@strawberry.type(description="Something the viewer was told about a case.")
class Notification:
    id: strawberry.ID
    kind: str = strawberry.field(
        description="SLA_WARNING, SLA_BREACHED, STAGE_DWELL, UNANSWERED_COMMENT, AUTO_CLOSE_REMINDER, MENTION."
    )
    text: str
    event_sequence: int | None
    created_at: datetime
    read_at: datetime | None
    _case_id: strawberry.Private[str]

    @strawberry.field(description="The case, if the viewer may still see it.")
    async def case(self, info: Info) -> Case | None:
        record = await info.context.loaders[VisibleCaseById].load(self._case_id)
        return Case.from_record(record) if record is not None else None

    @classmethod
    def from_row(cls, row: NotificationRow) -> Notification:
        return cls(
            id=strawberry.ID(str(row.id)),
            kind=row.kind,
            text=row.text,
            event_sequence=row.event_sequence,
            created_at=row.created_at,
            read_at=row.read_at,
            _case_id=str(row.case_id),
        )


@strawberry.type
class NotificationQuery:
    @strawberry.field(description="The viewer's notifications, newest first (at most 100).")
    async def notifications(self, info: Info, unread_only: bool = False, first: int = 50) -> list[Notification]:
        actor = info.context.require_actor()
        query = NotificationRow.filter(user_id=actor.user_id)
        if unread_only:
            query = query.filter(read_at__isnull=True)
        rows = await query.order_by("-id").limit(max(0, min(first, info.context.max_page_size)))
        return [Notification.from_row(row) for row in rows]


@strawberry.type
class NotificationMutation:
    @strawberry.mutation(
        description="Mark the viewer's notifications read (all unread ones when ids is omitted); returns how many."
    )
    async def mark_notifications_read(self, info: Info, ids: list[strawberry.ID] | None = None) -> int:
        actor = info.context.require_actor()
        # An id no notification can have (not a number, or beyond the column) marks nothing.
        largest = max_value(NotificationRow, "id")
        wanted = None if ids is None else [n for n in (id_number(str(i), largest) for i in ids) if n is not None]
        return await mark_read(actor=actor, ids=wanted, now=info.context.clock())
