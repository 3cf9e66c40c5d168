"""A notification: something the viewer was told about a case."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models import Notification as NotificationRow
from resolvers.loaders import VisibleCaseById
from schema.context import Info
from schema.types.case import Case


@strawberry.type(description="Something the viewer was told about a case.")
class Notification:
    id: strawberry.ID
    kind: str = strawberry.field(
        description="SLA_WARNING, SLA_BREACHED, STAGE_DWELL, UNANSWERED_COMMENT, AUTO_CLOSE_REMINDER, MENTION, ASSIGNED, UNASSIGNED."
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


@strawberry.type(description="The dashboard's bell: how many notifications are unread, and the newest ones.")
class NotificationBell:
    unread_count: int = strawberry.field(description="The viewer's unread notifications.")
    newest: list[Notification] = strawberry.field(description="The viewer's newest notifications, newest first.")
