"""The scanner's verdicts on files (issue 18): pending files scanned after their commit, the verdict
recorded on the case.

Scanning happens after the upload's commit, by a worker (``casegraph/attachment_scanner.py``),
not inline: clamd may take seconds on a large file or be away for a while, and neither may hold
the upload's request or the case open. Until then the file is ``PENDING`` and never served; the
worker finds pending rows in the database, so a restart loses none.

A verdict is one ``SCAN_ATTACHMENT`` event by the system (no actor), published live so both
sides' pages update: ``CLEAN`` makes the file downloadable; ``INFECTED`` quarantines it — its
bytes (and thumbnail) are purged from the store, it is never served, and the event names the
signature for the staff and, when the requester may see the file, that it was refused.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Final

from casegraph.domain.attachments import ScanStatus
from casegraph.domain.enums import CaseAction
from casegraph.services.attachment_store import AttachmentStore
from casegraph.services.case_changes import ActionResult
from casegraph.services.publisher import Publisher
from casegraph.services.records import CaseRecord, EventRecord
from casegraph.services.referrals import record_on_case
from models import Attachment

log = logging.getLogger("casegraph.attachments")
# Files scanned per pass, oldest first.
BATCH: Final = 20


class _AlreadyDecided(Exception):
    """The file was removed or scanned by another process since it was read: nothing to record."""


async def pending_scans(limit: int = BATCH, *, skip: Collection[str] = ()) -> Sequence[Attachment]:
    """Live files waiting for the scanner, oldest first (but those in ``skip``)."""
    query = Attachment.filter(scan_status=ScanStatus.PENDING, removed_at=None)
    if skip:
        query = query.exclude(id__in=list(skip))
    return list(await query.order_by("created_at", "id").limit(limit))


async def known_infected(sha256: str) -> bool:
    """Whether these very bytes were found infected on another file before (and purged then)."""
    return await Attachment.filter(sha256=sha256, scan_status=ScanStatus.INFECTED).exists()


async def record_verdict(
    *,
    attachment: Attachment,
    status: ScanStatus,
    signature: str | None,
    store: AttachmentStore,
    now: datetime,
    publisher: Publisher,
) -> ActionResult | None:
    """The scanner's verdict on a pending file, as one event on its case; None when the file was
    removed or decided meanwhile."""
    if status not in (ScanStatus.CLEAN, ScanStatus.INFECTED):
        raise ValueError(f"not a verdict: {status}")
    attachment_id = str(attachment.id)

    async def decide(case: CaseRecord, event: EventRecord) -> None:
        marked = await Attachment.filter(id=attachment_id, scan_status=ScanStatus.PENDING, removed_at=None).update(
            scan_status=status
        )
        if marked != 1:
            raise _AlreadyDecided(attachment_id)

    summary: dict[str, object] = {
        "attachmentId": attachment_id,
        "filename": attachment.filename,
        "internal": attachment.internal,
        "scanStatus": status.value,
    }
    if status is ScanStatus.INFECTED:
        summary["signature"] = signature or "unknown"
        if not attachment.internal:
            summary["refused"] = attachment.filename  # the requester may learn their file was refused
    try:
        result = await record_on_case(
            case_id=str(attachment.case_id),
            actor_id=None,
            action=CaseAction.SCAN_ATTACHMENT,
            summary=summary,
            now=now,
            publisher=publisher,
            side_effects=[decide],
        )
    except _AlreadyDecided:
        return None
    if status is ScanStatus.INFECTED:
        await quarantine(store, attachment)
    return result


async def quarantine(store: AttachmentStore, attachment: Attachment) -> None:
    """Malware's bytes leave the store: nothing can serve what is not there."""
    log.warning("attachment %s (%s) is infected: its bytes are purged", attachment.id, attachment.filename)
    for digest in (attachment.sha256, attachment.thumbnail_sha256):
        if digest is not None:
            await store.delete(digest)
