"""Telling people about cases: rows per recipient, read over GraphQL, marked read by them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum

from tortoise.queryset import QuerySet

from casegraph.domain.relations import Actor
from casegraph.services.notification_mail import enqueue_notification_mails
from models import Notification, User


class NotificationKind(str, Enum):
    SLA_WARNING = "SLA_WARNING"
    SLA_BREACHED = "SLA_BREACHED"
    STAGE_DWELL = "STAGE_DWELL"
    UNANSWERED_COMMENT = "UNANSWERED_COMMENT"
    AUTO_CLOSE_REMINDER = "AUTO_CLOSE_REMINDER"
    MENTION = "MENTION"
    # An agent is told of a case given to them, or taken from them, by someone else (issue 19).
    ASSIGNED = "ASSIGNED"
    UNASSIGNED = "UNASSIGNED"


async def notify(
    *,
    user_ids: Iterable[str],
    case_id: str,
    kind: NotificationKind,
    text: str,
    now: datetime,
    event_sequence: int | None = None,
) -> list[str]:
    """One notification per distinct recipient; call inside the transaction of the causing event.
    Those who opted in get it by mail too (services/notification_mail.py)."""
    recipients = sorted(set(user_ids))
    written = [
        await Notification.create(
            user_id=user_id, case_id=case_id, kind=kind.value, text=text, event_sequence=event_sequence, created_at=now
        )
        for user_id in recipients
    ]
    await enqueue_notification_mails(written, now=now)
    return recipients


def newest_notifications(user_id: str, *, unread_only: bool, limit: int) -> QuerySet[Notification]:
    """The user's notifications (unread only, if asked), newest first, at most ``limit``: a walk
    of the user's part of an index in id order (migration 0021), stopped at the page's end."""
    query = Notification.filter(user_id=user_id)
    if unread_only:
        query = query.filter(read_at__isnull=True)
    return query.order_by("-id").limit(max(0, limit))


async def unread_count(user_id: str) -> int:
    """How many of the user's notifications are unread (what the dashboard's bell shows): a count
    within the user's unread part of the ``(user_id, read_at)`` index."""
    return await Notification.filter(user_id=user_id, read_at__isnull=True).count()


async def is_active(user_id: str) -> bool:
    """False once an administrator deactivated the user (a user not provisioned is active)."""
    return not await User.filter(id=user_id, active=False).exists()


async def mark_read(*, actor: Actor, ids: Iterable[int] | None, now: datetime) -> int:
    """Mark the actor's own notifications read (all unread ones when ``ids`` is None)."""
    query = Notification.filter(user_id=actor.user_id, read_at__isnull=True)
    if ids is not None:
        query = query.filter(id__in=list(ids))
    return await query.update(read_at=now)
