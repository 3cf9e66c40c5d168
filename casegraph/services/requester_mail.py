"""Mails to the requester about their case (issue 17, "Hearing back"), written as outbox rows.

``enqueue_requester_mail`` is a change hook (services/extensions.py): the mail row is written in
the transaction that records the event, so a refused or rolled-back action mails nobody, and the
unique (event, recipient) key lets no event mail anyone twice. The mail dispatcher
(casegraph/mail) renders and sends it after commit.

What is mailed: the case received (filed or submitted), a question from the agent, a proposed
solution, the case closed or cancelled, and the survey invitation once the requester accepted
the solution (and, written with its notification, the reminder that a resolved case will be
closed automatically). Only to an address we may use, as e-mail intake decides whose replies count: the
address bound to the requester (a verified token claim, or the address their mail came from),
else the case's contact address. The survey invitation is non-essential: someone who asked for
no such mail gets none; the others are essential and always go.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from casegraph.database import statements
from casegraph.domain.enums import CaseAction, CaseEventType, CaseStatus
from casegraph.services.extensions import AfterSequence
from casegraph.services.records import CaseRecord, EventDraft, EventRecord
from models import DeliveryStatus, MailDelivery, User

DEFAULT_LOCALE: Final = "en"


class RequesterMail(str, Enum):
    """The templates of the mails to requesters (casegraph/mail/templates/<name>.txt/.html)."""

    RECEIVED = "received"
    QUESTION = "question"
    PROPOSED = "proposed"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    SURVEY = "survey"
    # Not a case event: the auto-close reminder of a resolved case (services/notification_mail.py).
    REMINDER = "reminder"


NON_ESSENTIAL: Final = frozenset({RequesterMail.SURVEY})


def mail_for(before: CaseRecord, after: CaseRecord, event: EventDraft) -> RequesterMail | None:
    """Which mail, if any, an event sends its case's requester."""
    if event.type is CaseEventType.CASE_CREATED:
        # A draft is the author's own business until it is submitted.
        return RequesterMail.RECEIVED if after.status is CaseStatus.NEW else None
    if event.action is CaseAction.SUBMIT:
        return RequesterMail.RECEIVED
    if event.action is CaseAction.REQUEST_INFO:
        return RequesterMail.QUESTION
    if event.action is CaseAction.PROPOSE_SOLUTION:
        return RequesterMail.PROPOSED
    if event.action is CaseAction.ACCEPT_SOLUTION:
        # They closed it themselves by accepting: what is left to say is the survey.
        return RequesterMail.SURVEY
    if before.status is not after.status and after.status in {CaseStatus.CLOSED, CaseStatus.CANCELLED}:
        return RequesterMail.CLOSED if after.status is CaseStatus.CLOSED else RequesterMail.CANCELLED
    return None


@dataclass(frozen=True)
class Recipient:
    address: str
    user_id: str
    locale: str


def recipient_of(case: CaseRecord, user: dict[str, Any] | None, mail: RequesterMail) -> Recipient | None:
    """Where the requester's mail goes (see the module), or None: no usable address, or a
    non-essential mail to someone who asked for none."""
    if user is None:
        return None
    address = user["email"] or case.contact_email
    if not address:
        return None
    if mail in NON_ESSENTIAL and not user["non_essential_mail"]:
        return None
    return Recipient(address=address, user_id=case.requester_id, locale=user["locale"] or DEFAULT_LOCALE)


def facts_of(case: CaseRecord) -> dict[str, Any]:
    """What the templates show of the case, as it stood at the event. The question of a
    REQUEST_INFO is its public comment, read by the dispatcher (it is written with the event)."""
    return {
        "number": case.number,
        "title": case.title or "",
        "resolution_code": case.resolution_code.value if case.resolution_code else None,
        "resolution_notes": case.resolution_notes,
        "cancel_reason": case.cancel_reason,
    }


async def enqueue_requester_mail(before: CaseRecord, after: CaseRecord, event: EventDraft) -> AfterSequence | None:
    """Change hook: one mail row for the requester when the event is one they hear about.

    Events of no interest cost nothing; the others read the requester's address and preferences
    before the event's sequence is taken and write the row, which names it, after.
    """
    mail = mail_for(before, after, event)
    if mail is None:
        return None
    # Fixed statements (database.statements), as the rest of a write's: no query built per request.
    users = await statements.select(User, ("email", "locale", "non_essential_mail"), {"id": after.requester_id})
    recipient = recipient_of(after, users[0] if users else None, mail)
    if recipient is None:
        return None

    async def write(recorded: EventRecord) -> None:
        await statements.insert(
            MailDelivery,
            {
                "id": uuid.uuid4(),
                "event_sequence": recorded.sequence,
                "notification_id": None,
                "case_id": after.id,
                "recipient": recipient.address,
                "user_id": recipient.user_id,
                "template": mail.value,
                "locale": recipient.locale,
                "essential": mail not in NON_ESSENTIAL,
                # When it happened, for the mails that say so (received, closed, cancelled).
                "facts": {**facts_of(after), "at": recorded.occurred_at.isoformat()},
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": recorded.occurred_at,
                "last_error": None,
                "last_attempt_at": None,
                "delivered_at": None,
                "created_at": recorded.occurred_at,
            },
        )

    return write
