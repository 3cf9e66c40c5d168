"""Mails that gave up (issue 17, "no mail lost silently"): what an operator lists and re-queues.

The mail dispatcher marks a delivery FAILED when the server refused it for good (a 5xx answer) or
its last retry failed; failed rows are kept (only delivered ones are pruned), so none disappears
unseen. ``casegraph mail failed`` lists them with the reason; ``casegraph mail retry`` puts them
back in the queue with a fresh round of attempts, for after the cause was fixed (a wrong address
corrected, the SMTP server's credentials renewed).

A sign-in link's mail is not re-queued once its link has expired: it would carry a dead link.
The person asks for a new one; the operator is told so.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from tortoise.transactions import in_transaction

from casegraph.domain.errors import not_found, validation_failed
from casegraph.services.sign_in import SIGN_IN_TEMPLATE
from models import DeliveryStatus, MailDelivery, SignInLink

LISTED: Final = 1000


@dataclass(frozen=True)
class FailedMail:
    id: str
    created_at: datetime
    recipient: str
    template: str
    case_number: str | None
    attempts: int
    last_attempt_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class Retried:
    """What ``retry_failed_mails`` did: the deliveries queued again, and those left as they were
    because their sign-in link expired."""

    queued: tuple[str, ...]
    expired_links: tuple[str, ...]


async def failed_mails(*, limit: int = LISTED) -> list[FailedMail]:
    """The deliveries that gave up, oldest first."""
    rows = await MailDelivery.filter(status=DeliveryStatus.FAILED).order_by("created_at", "id").limit(limit)
    return [
        FailedMail(
            id=str(row.id),
            created_at=row.created_at,
            recipient=row.recipient,
            template=row.template,
            case_number=str(row.facts["number"]) if row.facts.get("number") else None,
            attempts=row.attempts,
            last_attempt_at=row.last_attempt_at,
            last_error=row.last_error,
        )
        for row in rows
    ]


async def retry_failed_mails(*, ids: Sequence[str] | None, now: datetime) -> Retried:
    """Queue the failed deliveries ``ids`` (None: every one) again, due now with a fresh count of
    attempts. An id that is not a failed delivery is refused (VALIDATION_FAILED for a malformed
    one, NOT_FOUND otherwise) and then nothing changes."""
    wanted = None if ids is None else [_uuid(text) for text in ids]
    async with in_transaction():
        query = MailDelivery.filter(status=DeliveryStatus.FAILED)
        if wanted is not None:
            query = query.filter(id__in=wanted)
        rows = await query.select_for_update()
        if wanted is not None:
            missing = set(wanted) - {row.id for row in rows}
            if missing:
                raise not_found(f"Failed mail delivery {', '.join(sorted(str(m) for m in missing))}")
        expired = {row.id for row in rows if await _dead_link(row, now)}
        queued = [row.id for row in rows if row.id not in expired]
        if queued:
            await MailDelivery.filter(id__in=queued, status=DeliveryStatus.FAILED).update(
                status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now
            )
    return Retried(queued=tuple(str(i) for i in queued), expired_links=tuple(str(i) for i in sorted(expired)))


async def _dead_link(row: MailDelivery, now: datetime) -> bool:
    if row.template != SIGN_IN_TEMPLATE:
        return False
    link_id = row.facts.get("link_id")
    link = await SignInLink.get_or_none(id=link_id) if link_id else None
    return link is None or link.used_at is not None or link.expires_at <= now


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        raise validation_failed("id", f"{text!r} is not a mail delivery id.") from None
