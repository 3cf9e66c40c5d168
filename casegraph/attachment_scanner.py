"""The worker that has pending attachments scanned (``services/attachment_scans.py``), when a
scanner such as clamd is configured.

Every ``interval`` seconds it scans the pending files, oldest first. clamd away: the files stay
``PENDING`` (never served unscanned) and the worker waits longer before each new attempt — twice
as long each time, at most ``MAX_BACKOFF`` — then carries on where it was. A restart forgets the
backoff, not the files: they are found pending in the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Final

from casegraph.clock import Clock
from casegraph.domain.attachments import ScanStatus
from casegraph.periodic import PeriodicWorker
from casegraph.services.attachment_scans import known_infected, pending_scans, record_verdict
from casegraph.services.attachment_store import AttachmentStore
from casegraph.services.clamd_scanner import ClamdScanner, ScannerUnavailable
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
        # Pending files whose bytes are not in the store: nothing to scan (nor to serve: the download
        # route answers 404). Said once, then left out, so they cannot hold up the files behind them.
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
        """Scan what is pending now; how many verdicts were recorded. ScannerUnavailable stops the pass."""
        recorded = 0
        for attachment in await pending_scans(skip=self.missing):
            signature: str | None = None
            if await known_infected(attachment.sha256):
                status, signature = ScanStatus.INFECTED, "the same file was found infected before"
            else:
                try:
                    verdict = await self._scanner.verdict(self._store, attachment.sha256)
                except FileNotFoundError:
                    log.error("attachment %s has no bytes in the store to scan; it stays pending", attachment.id)
                    self.missing.add(str(attachment.id))
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
