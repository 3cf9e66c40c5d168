"""The SLA evaluator as a background task of the server (started and stopped by the lifespan).

Every ``interval`` seconds (``CASEGRAPH_SLA_INTERVAL``; 0 turns it off) it runs
``services.sla_evaluation.evaluate_due`` at the runtime clock's time. It holds no state of its
own: everything is in the database, so the first pass after a (re)start catches up on whatever
fell due meanwhile, and several server processes can each run one (the database lets only one
fire each deadline). A failing pass is logged and the next one runs as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from casegraph.clock import Clock
from casegraph.services.publisher import Publisher
from casegraph.services.sla_evaluation import Evaluation, evaluate_due

log = logging.getLogger("casegraph.sla")


class SlaScheduler:
    def __init__(self, *, interval: float, clock: Clock, publisher: Callable[[], Publisher]) -> None:
        """``publisher`` is asked at each pass, so it follows the runtime's current publisher."""
        self.interval = interval
        self._clock = clock
        self._publisher = publisher
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.passes = 0
        self.passed = asyncio.Event()  # set after each pass (tests and diagnostics wait on it)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        if self.interval <= 0 or self.running:
            return
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="casegraph-sla-evaluator")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stopping.set()
        task, self._task = self._task, None
        try:
            # A pass in progress finishes its current transaction; give it a moment, then cancel.
            await asyncio.wait_for(asyncio.shield(task), timeout=10)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run_once(self) -> Evaluation:
        evaluation = await evaluate_due(now=self._clock(), publisher=self._publisher())
        if evaluation.events or evaluation.alerts:
            log.info("SLA pass: %d events, %d alerts", len(evaluation.events), evaluation.alerts)
        return evaluation

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.run_once()
            except Exception:  # noqa: BLE001 - one bad pass must not end the evaluator
                log.exception("SLA evaluation pass failed")
            self.passes += 1
            self.passed.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval)
