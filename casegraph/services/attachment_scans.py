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
Rows are content-addressed, so every live row of the same bytes is marked ``INFECTED`` in the
same transaction (each case then records it), and a row marked so whose bytes were not purged
yet (a crash between the commit and the purge) is purged by the next pass (``purge_quarantined``).

Several processes may run the worker: each claims one pending file at a time with a lease
(``claim_next_scan``: one conditional UPDATE, so exactly one process wins it), and a crashed
scanner's lease runs out for another to take over. A scan that fails for the file alone (clamd's
``ERROR`` on it, the store unable to read it) is counted on the row (``scan_failed``); the file
waits a lease before its next try, and after ``MAX_ATTEMPTS`` it is ``UNSCANNABLE``: never
served, and its case records it.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Final

from tortoise.expressions import F, Q

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
# Scans that failed for a file alone before it is given up as UNSCANNABLE.
MAX_ATTEMPTS: Final = 3
# Candidates read per claim: others may win some of them meanwhile.
CLAIM_WINDOW: Final = 5
VERDICTS: Final = frozenset({ScanStatus.CLEAN, ScanStatus.INFECTED, ScanStatus.UNSCANNABLE})
# Quarantined files whose bytes are purged per pass.
PURGE_BATCH: Final = 50


class _AlreadyDecided(Exception):
    """The file was removed or scanned by another process since it was read: nothing to record."""


async def pending_scans(limit: int = BATCH, *, skip: Collection[str] = ()) -> Sequence[Attachment]:
    """Live files waiting for the scanner, oldest first (but those in ``skip``)."""
    query = Attachment.filter(scan_status=ScanStatus.PENDING, removed_at=None)
    if skip:
        query = query.exclude(id__in=list(skip))
    return list(await query.order_by("created_at", "id").limit(limit))


def _claimable(now: datetime) -> Q:
    return Q(scan_status=ScanStatus.PENDING, removed_at=None) & (
        Q(scan_lease_until=None) | Q(scan_lease_until__lte=now)
    )


async def claim_next_scan(*, now: datetime, lease: timedelta) -> Attachment | None:
    """The oldest pending file no process holds, now held by this one until ``now + lease``;
    None when there is none. The claim is one UPDATE whose WHERE says "still pending and not
    held": of processes racing for a file, exactly one changes the row (PostgreSQL re-reads the
    condition on the row another just claimed; SQLite runs writes one at a time)."""
    until = now + lease
    while True:
        candidates = await Attachment.filter(_claimable(now)).order_by("created_at", "id").limit(CLAIM_WINDOW)
        if not candidates:
            return None
        for candidate in candidates:
            if await Attachment.filter(_claimable(now), id=candidate.id).update(scan_lease_until=until) == 1:
                candidate.scan_lease_until = until
                return candidate


async def release_scan(attachment: Attachment) -> None:
    """Give a claimed file back untried (the scanner is away): the next pass takes it again."""
    await Attachment.filter(id=attachment.id, scan_status=ScanStatus.PENDING).update(scan_lease_until=None)


async def scan_failed(
    *,
    attachment: Attachment,
    reason: str,
    store: AttachmentStore,
    now: datetime,
    retry_after: timedelta,
    publisher: Publisher,
) -> ActionResult | None:
    """A scan that failed for this file alone: counted, the file left for ``retry_after`` (the
    files behind it go first); at ``MAX_ATTEMPTS`` it is given up as UNSCANNABLE (recorded on
    the case, as a verdict is)."""
    live = Attachment.filter(id=attachment.id, scan_status=ScanStatus.PENDING, removed_at=None)
    await live.update(scan_attempts=F("scan_attempts") + 1, scan_lease_until=now + retry_after)
    row = await Attachment.get_or_none(id=attachment.id, scan_status=ScanStatus.PENDING, removed_at=None)
    if row is None or row.scan_attempts < MAX_ATTEMPTS:
        log.warning(
            "attachment %s could not be scanned (%s); tried %s times", attachment.id, reason, row and row.scan_attempts
        )
        return None
    log.error(
        "attachment %s could not be scanned %s times (%s): given up, never served", attachment.id, MAX_ATTEMPTS, reason
    )
    return await record_verdict(
        attachment=row, status=ScanStatus.UNSCANNABLE, signature=reason, store=store, now=now, publisher=publisher
    )


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
    if status not in VERDICTS:
        raise ValueError(f"not a verdict: {status}")
    attachment_id = str(attachment.id)
    # Other live rows of the same bytes (content-addressed: the same digest), marked INFECTED in
    # this verdict's transaction, so none of them serves the bytes as CLEAN meanwhile.
    same_bytes: list[Attachment] = []

    async def decide(case: CaseRecord, event: EventRecord) -> None:
        marked = await Attachment.filter(id=attachment_id, scan_status=ScanStatus.PENDING, removed_at=None).update(
            scan_status=status, scan_lease_until=None
        )
        if marked != 1:
            raise _AlreadyDecided(attachment_id)
        if status is ScanStatus.INFECTED:
            others = Attachment.filter(sha256=attachment.sha256, removed_at=None).exclude(id=attachment_id)
            others = others.exclude(scan_status=ScanStatus.INFECTED)
            same_bytes[:] = list(await others)
            if same_bytes:
                await Attachment.filter(id__in=[row.id for row in same_bytes]).update(
                    scan_status=ScanStatus.INFECTED, scan_lease_until=None
                )

    try:
        result = await record_on_case(
            case_id=str(attachment.case_id),
            actor_id=None,
            action=CaseAction.SCAN_ATTACHMENT,
            summary=_summary(attachment, status, signature),
            now=now,
            publisher=publisher,
            side_effects=[decide],
        )
    except _AlreadyDecided:
        return None
    for other in same_bytes:
        # Already marked: its case records it too (the row's status is the truth; this says so).
        await record_on_case(
            case_id=str(other.case_id),
            actor_id=None,
            action=CaseAction.SCAN_ATTACHMENT,
            summary=_summary(other, ScanStatus.INFECTED, signature),
            now=now,
            publisher=publisher,
        )
    if status is ScanStatus.INFECTED:
        await quarantine(store, attachment, now=now)
    return result


def _summary(attachment: Attachment, status: ScanStatus, signature: str | None) -> dict[str, object]:
    summary: dict[str, object] = {
        "attachmentId": str(attachment.id),
        "filename": attachment.filename,
        "internal": attachment.internal,
        "scanStatus": status.value,
    }
    if status is ScanStatus.INFECTED:
        summary["signature"] = signature or "unknown"
        if not attachment.internal:
            summary["refused"] = attachment.filename  # the requester may learn their file was refused
    if status is ScanStatus.UNSCANNABLE:
        summary["reason"] = signature or "unknown"
        if not attachment.internal:
            summary["unscannable"] = attachment.filename
    return summary


async def quarantine(store: AttachmentStore, attachment: Attachment, *, now: datetime) -> None:
    """Malware's bytes leave the store: nothing can serve what is not there."""
    log.warning("attachment %s (%s) is infected: its bytes are purged", attachment.id, attachment.filename)
    for digest in (attachment.sha256, attachment.thumbnail_sha256):
        if digest is not None:
            await store.delete(digest)
    await Attachment.filter(sha256=attachment.sha256, scan_status=ScanStatus.INFECTED).update(purged_at=now)


async def purge_quarantined(store: AttachmentStore, *, now: datetime) -> int:
    """Purge the bytes of files marked INFECTED whose purge did not happen (a crash after the
    verdict's commit); how many files."""
    rows = await Attachment.filter(scan_status=ScanStatus.INFECTED, purged_at=None).limit(PURGE_BATCH)
    for row in rows:
        await quarantine(store, row, now=now)
    return len(rows)
