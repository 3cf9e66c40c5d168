"""A pass every ``interval`` seconds in a background task of the server process, until stopped.

The SLA evaluator and the outbox dispatcher are both this: started and stopped by the lifespan,
off when ``interval`` is 0, a failing pass logged and the next one run as usual, and on stop a
pass in progress given a moment to finish its transaction before it is cancelled. Passes that
fail because the database is away are logged once per outage (``casegraph.outages``), not once
a pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import ClassVar

from casegraph.outages import OutageLog, database_unreachable, is_outage


class PeriodicWorker:
    task_name: ClassVar[str]
    log: ClassVar[logging.Logger]
    # Seconds a pass in progress may take to finish when the worker is stopped.
    stop_grace: ClassVar[float] = 10.0

    def __init__(self, *, interval: float) -> None:
        self.interval = interval
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        if self.interval <= 0 or self.running:
            return
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name=self.task_name)

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stopping.set()
        task, self._task = self._task, None
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=self.stop_grace)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run_pass(self) -> None:
        """One pass; subclasses do their work here."""
        raise NotImplementedError

    async def _run(self) -> None:
        outage = OutageLog(self.log, self.task_name)
        while not self._stopping.is_set():
            try:
                await self.run_pass()
            except Exception as error:  # one bad pass must not end the worker
                if is_outage(error) or await database_unreachable():
                    outage.failed(error)
                else:
                    self.log.exception("%s: pass failed", self.task_name)
            else:
                outage.succeeded()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval)
