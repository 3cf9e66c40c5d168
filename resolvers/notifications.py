"""The viewer's notifications: ``notifications`` and ``markNotificationsRead``."""

from __future__ import annotations

import strawberry

from casegraph.domain.validation import id_number
from casegraph.services.column_limits import max_value
from casegraph.services.notifications import mark_read, newest_notifications
from models import Notification as NotificationRow
from resolvers.page_arguments import list_page_size
from schema.context import Info
from schema.types.notifications import Notification

# The schema's default `first` (schema/notifications.py).
DEFAULT_NOTIFICATIONS = 50


async def notifications(info: Info, unread_only: bool, first: int) -> list[Notification]:
    actor = info.context.require_actor()
    rows = await newest_notifications(
        actor.user_id,
        unread_only=unread_only,
        limit=list_page_size(info, first, schema_default=DEFAULT_NOTIFICATIONS),
    )
    return [Notification.from_row(row) for row in rows]


async def mark_notifications_read(info: Info, ids: list[strawberry.ID] | None) -> int:
    actor = info.context.require_actor()
    # An id no notification can have (not a number, or beyond the column) marks nothing.
    largest = max_value(NotificationRow, "id")
    wanted = None if ids is None else [n for n in (id_number(str(i), largest) for i in ids) if n is not None]
    return await mark_read(actor=actor, ids=wanted, now=info.context.clock())
