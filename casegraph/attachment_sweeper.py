"""The periodic sweep of the attachment store: bytes a crash left behind without their row."""

from __future__ import annotations

import logging

from casegraph.clock import Clock
from casegraph.periodic import PeriodicWorker
from casegraph.services.attachment_store import AttachmentStore
from casegraph.services.attachments import sweep_orphans

log = logging.getLogger("casegraph.attachments")


class AttachmentSweeper(PeriodicWorker):
    task_name = "casegraph-attachment-sweeper"
    log = log

    def __init__(self, store: AttachmentStore, *, clock: Clock, interval: float) -> None:
        super().__init__(interval=interval)
        self._store = store
        self._clock = clock

    async def run_pass(self) -> None:
        swept = await sweep_orphans(self._store, now=self._clock())
        if swept:
            log.info("attachment sweep: %d orphaned files removed", swept)
