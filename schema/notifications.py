"""Notifications: what the viewer has been told (SLA warnings, escalations, mentions, assignments), resolved by
``resolvers/notifications.py``; the type is ``schema/types/notifications.py``."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

import strawberry

from resolvers import notifications
from schema.context import Info
from schema.types.notifications import Notification, NotificationBell


@strawberry.type
class NotificationQuery:
    @strawberry.field(description="The viewer's notifications, newest first (at most 100).")
    async def notifications(
        self, info: Info, unread_only: bool = False, first: int = notifications.DEFAULT_NOTIFICATIONS
    ) -> list[Notification]:
        return await notifications.notifications(info, unread_only, first)

    @strawberry.field(description="The viewer's bell: the unread count and the newest notifications (at most 100).")
    async def notification_bell(self, info: Info, first: int = 20) -> NotificationBell:
        return await notifications.notification_bell(info, first)


@strawberry.type
class NotificationMutation:
    @strawberry.mutation(
        description="Mark the viewer's notifications read (all unread ones when ids is omitted); returns how many."
    )
    async def mark_notifications_read(self, info: Info, ids: list[strawberry.ID] | None = None) -> int:
        return await notifications.mark_notifications_read(info, ids)


@strawberry.type
class NotificationSubscription:
    @strawberry.subscription(
        description="The viewer's bell, first as it is, then whenever it changes: a notification arrives "
        "(at once after an assignment or a mention of the viewer, else within 30 s) or is read."
    )
    async def notification_bell(self, info: Info, first: int = 20) -> AsyncGenerator[NotificationBell, None]:
        async with aclosing(notifications.notification_bell_updates(info, first)) as stream:
            async for bell in stream:
                yield bell
