"""Notifications by mail: staff's for those who opted in (issue 17), and the requester's
auto-close reminder, which is a mail about their case like the others (services/requester_mail.py).

``notify`` (services/notifications.py) calls this in the transaction of what caused the
notifications, so their mails commit or roll back with them. A mail is written for a recipient
who turned ``notification_mail`` on, has an address, and has not asked for no optional mail (the
unsubscribe link every mail carries turns that off, and with it these). One row per notification,
keyed by it: never mailed twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from casegraph.domain.sla import AlertKind
from casegraph.services.requester_mail import DEFAULT_LOCALE, RequesterMail
from models import Case, CaseAlert, DeliveryStatus, MailDelivery, Notification, User

NOTIFICATION: Final = "notification"
# Told to the requester: mailed to them as their case's mails are, opted in or not.
REQUESTER_KINDS: Final = frozenset({"AUTO_CLOSE_REMINDER"})


async def enqueue_notification_mails(notifications: Sequence[Notification], *, now: datetime) -> int:
    """Mail rows for the notifications whose recipients want them; returns how many."""
    if not notifications:
        return 0
    if notifications[0].kind in REQUESTER_KINDS:
        return await _enqueue_reminders(notifications, now=now)
    wanting = await User.filter(
        id__in=sorted({n.user_id for n in notifications}),
        notification_mail=True,
        non_essential_mail=True,
        email__isnull=False,
    ).values("id", "email", "locale")
    if not wanting:
        return 0
    people = {row["id"]: row for row in wanting}
    case = await Case.filter(id=notifications[0].case_id).first().values("number", "title")
    rows = [
        MailDelivery(
            id=uuid.uuid4(),
            event_sequence=notification.event_sequence,
            notification_id=notification.id,
            case_id=notification.case_id,
            recipient=people[notification.user_id]["email"],
            user_id=notification.user_id,
            template=NOTIFICATION,
            locale=people[notification.user_id]["locale"],
            essential=False,
            facts={
                "number": case["number"] if case else "",
                "title": (case["title"] if case else None) or "",
                "kind": notification.kind,
                "text": notification.text,
            },
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        for notification in notifications
        if notification.user_id in people
    ]
    await MailDelivery.bulk_create(rows)
    return len(rows)


async def _enqueue_reminders(notifications: Sequence[Notification], *, now: datetime) -> int:
    """The requester's reminder, to the address their case's mails go to."""
    case = await Case.filter(id=notifications[0].case_id).first().values("number", "title", "contact_email")
    if case is None:
        return 0
    # The day it closes by itself, said in the mail: the case's auto-close, not yet fired.
    closing = (
        await CaseAlert.filter(case_id=notifications[0].case_id, kind=AlertKind.AUTO_CLOSE.value, fired_at=None)
        .order_by("due_at")
        .first()
        .values("due_at")
    )
    facts: dict[str, str] = {"number": case["number"], "title": case["title"] or ""}
    if closing is not None:
        facts["closes_at"] = closing["due_at"].isoformat()
    people = {
        row["id"]: row
        for row in await User.filter(id__in=sorted({n.user_id for n in notifications})).values("id", "email", "locale")
    }
    rows = [
        MailDelivery(
            id=uuid.uuid4(),
            event_sequence=notification.event_sequence,
            notification_id=notification.id,
            case_id=notification.case_id,
            recipient=address,
            user_id=notification.user_id,
            template=RequesterMail.REMINDER.value,
            locale=people[notification.user_id]["locale"] or DEFAULT_LOCALE,
            essential=True,
            facts=facts,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        for notification in notifications
        if notification.user_id in people
        and (address := people[notification.user_id]["email"] or case["contact_email"])
    ]
    await MailDelivery.bulk_create(rows)
    return len(rows)
