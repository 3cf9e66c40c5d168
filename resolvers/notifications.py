"""The viewer's notifications: ``notifications``, ``notificationBell`` (a query and a
subscription) and ``markNotificationsRead``.

The bell's subscription re-reads the viewer's bell at once when an event that may concern them
is committed (an assignment, a mention of them, on a case they may see) and, for what no such
event announces (an SLA alert, a case taken out of their sight, a notification read in another
tab), every ``BELL_RECHECK_SECONDS``; it sends the bell only when it changed. The notifications are the
viewer's own, so no case visibility applies; the viewer is re-checked on every read, and a
deactivated user's subscription ends.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import Final

import strawberry
from graphql import GraphQLError

from casegraph.domain.enums import CaseAction
from casegraph.domain.relations import Actor
from casegraph.domain.validation import id_number
from casegraph.events.hub import Subscription
from casegraph.services.column_limits import max_value
from casegraph.services.notifications import is_active, mark_read, newest_notifications, unread_count
from casegraph.services.records import CaseRecord, EventRecord
from models import Notification as NotificationRow
from resolvers.page_arguments import list_page_size
from schema.context import Info
from schema.types.notifications import Notification, NotificationBell

BELL_RECHECK_SECONDS: Final = 30.0
# Actions that change a case's assignee: whoever held it may have been told it was taken.
ASSIGNING: Final = frozenset({CaseAction.ASSIGN, CaseAction.ASSIGN_TO_ME})

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


async def notification_bell(info: Info, first: int) -> NotificationBell:
    actor = info.context.require_actor()
    return await _bell(actor.user_id, min(first, info.context.max_page_size))


async def notification_bell_updates(info: Info, first: int) -> AsyncGenerator[NotificationBell, None]:
    actor = info.context.require_actor()
    live = info.context.live
    if live is None:
        raise GraphQLError("Live events are not running on this server.", extensions={"code": "UNAVAILABLE"})
    limit = min(first, info.context.max_page_size)
    # Registered first, so nothing committed from here on goes unnoticed.
    wakes = live.hub.register(Subscription(actor=actor, matches=_may_concern))
    try:
        shown: tuple[object, ...] | None = None
        while True:
            if not await is_active(actor.user_id):
                raise GraphQLError("Your account is deactivated.", extensions={"code": "UNAUTHENTICATED"})
            bell = await _bell(actor.user_id, limit)
            state = (bell.unread_count, tuple((n.id, n.read_at) for n in bell.newest))
            if state != shown:
                shown = state
                yield bell
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakes.wait(), BELL_RECHECK_SECONDS)
            if wakes.closed_reason is not None:
                return
            # A burst of events is one re-read; an overflow only meant "something happened".
            wakes.take()
            wakes.overflowed = False
    finally:
        live.hub.unregister(wakes)


def _may_concern(actor: Actor, event: EventRecord, case: CaseRecord) -> bool:
    """An event that may have told the viewer something at once: an assignment (to them, or of a
    case that was theirs), or a mention of them. Checked before the hub's visibility check, so the
    other events of a busy desk cost this subscriber nothing; the rest is found at the next recheck."""
    if event.actor_id == actor.user_id:
        return False
    if event.action in ASSIGNING or case.assigned_to_id == actor.user_id:
        return True
    mentions = event.summary.get("mentions")
    return isinstance(mentions, list) and actor.user_id in mentions


async def _bell(user_id: str, limit: int) -> NotificationBell:
    rows = await newest_notifications(user_id, unread_only=False, limit=limit)
    return NotificationBell(
        unread_count=await unread_count(user_id), newest=[Notification.from_row(row) for row in rows]
    )
