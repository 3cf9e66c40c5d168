"""The worker that has pending attachments scanned (``services/attachment_scans.py``), when a
scanner such as clamd is configured.

Every ``interval`` seconds it scans the pending files, oldest first, one claimed at a time: a
claim is a lease on the row, so processes running this worker side by side never scan the same
file, and a file held by a process that crashed is taken over when its lease runs out. clamd
away: the files stay ``PENDING`` (never served unscanned) and the worker waits longer before each
new attempt — twice as long each time, at most ``MAX_BACKOFF`` — then carries on where it was. A
file clamd (or the store) fails on alone is counted and passed over, so it cannot hold up the
files behind it; after a few failures it is UNSCANNABLE. Each pass also purges the bytes of
quarantined files a crash left in the store. A restart forgets the backoff, not the files: they
are found pending in the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Final

from casegraph.clock import Clock
from casegraph.domain.attachments import ScanStatus
from casegraph.periodic import PeriodicWorker
from casegraph.services.attachment_scans import (
    BATCH,
    claim_next_scan,
    known_infected,
    purge_quarantined,
    record_verdict,
    release_scan,
    scan_failed,
)
from casegraph.services.attachment_store import AttachmentStore
from casegraph.services.clamd_scanner import ClamdScanner, ScanFailed, ScannerUnavailable
from casegraph.services.publisher import Publisher

log = logging.getLogger("casegraph.attachments")
MAX_BACKOFF: Final = 300.0


class AttachmentScanner(PeriodicWorker):
    task_name = "casegraph-attachment-scanner"
    log = log

    def __init__(
        self,
        store: AttachmentStore,
        scanner: ClamdScanner,
        *,
        publisher: Callable[[], Publisher],
        clock: Clock,
        interval: float,
    ) -> None:
        super().__init__(interval=interval)
        self._store = store
        self._scanner = scanner
        self._publisher = publisher
        self._clock = clock
        self.backoff = 0.0  # seconds to wait before the next attempt; 0 while clamd answers
        # How long a claimed file is this process's: longer than clamd may take on it, so a live
        # scan is never taken over; also how long a file that failed waits for its next try.
        self.lease = timedelta(seconds=2 * scanner.timeout + interval)
        # Pending files found without bytes in the store (nothing to scan, nor to serve: the
        # download route answers 404), for the log to say once; they are counted like any failure.
        self.missing: set[str] = set()
        self._next_attempt = 0.0

    async def run_pass(self) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() < self._next_attempt:
            return
        try:
            await self.scan_pending()
        except ScannerUnavailable as error:
            self.backoff = min(MAX_BACKOFF, max(self.interval, self.backoff * 2))
            self._next_attempt = loop.time() + self.backoff
            log.warning("attachment scanning: %s; pending files wait, next try in %.0f s", error, self.backoff)
            return
        self.backoff = 0.0

    async def scan_pending(self) -> int:
        """Purge what quarantine left, then scan up to ``BATCH`` pending files; how many verdicts
        were recorded. ScannerUnavailable stops the pass (the file in hand is given back)."""
        await purge_quarantined(self._store, now=self._clock())
        recorded = 0
        for _ in range(BATCH):
            attachment = await claim_next_scan(now=self._clock(), lease=self.lease)
            if attachment is None:
                break
            signature: str | None = None
            if await known_infected(attachment.sha256):
                status, signature = ScanStatus.INFECTED, "the same file was found infected before"
            else:
                try:
                    verdict = await self._scanner.verdict(self._store, attachment.sha256)
                except ScannerUnavailable:
                    await release_scan(attachment)
                    raise
                except (ScanFailed, FileNotFoundError) as error:
                    reason = str(error) if isinstance(error, ScanFailed) else "its bytes are not in the store"
                    if isinstance(error, FileNotFoundError) and str(attachment.id) not in self.missing:
                        log.error("attachment %s has no bytes in the store to scan", attachment.id)
                        self.missing.add(str(attachment.id))
                    given_up = await scan_failed(
                        attachment=attachment,
                        reason=reason,
                        store=self._store,
                        now=self._clock(),
                        retry_after=self.lease,
                        publisher=self._publisher(),
                    )
                    recorded += given_up is not None
                    continue
                status, signature = verdict.status, verdict.signature
            result = await record_verdict(
                attachment=attachment,
                status=status,
                signature=signature,
                store=self._store,
                now=self._clock(),
                publisher=self._publisher(),
            )
            recorded += result is not None
        return recorded
