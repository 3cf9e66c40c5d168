"""Notifications: what the viewer has been told (SLA warnings, escalations, mentions), resolved by
``resolvers/notifications.py``; the type is ``schema/types/notifications.py``."""

from __future__ import annotations

import strawberry

from resolvers import notifications
from schema.context import Info
from schema.types.notifications import Notification


@strawberry.type
class NotificationQuery:
    @strawberry.field(description="The viewer's notifications, newest first (at most 100).")
    async def notifications(
        self, info: Info, unread_only: bool = False, first: int = notifications.DEFAULT_NOTIFICATIONS
    ) -> list[Notification]:
        return await notifications.notifications(info, unread_only, first)


@strawberry.type
class NotificationMutation:
    @strawberry.mutation(
        description="Mark the viewer's notifications read (all unread ones when ids is omitted); returns how many."
    )
    async def mark_notifications_read(self, info: Info, ids: list[strawberry.ID] | None = None) -> int:
        return await notifications.mark_notifications_read(info, ids)
