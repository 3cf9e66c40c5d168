"""The SLA evaluator as a background task of the server (started and stopped by the lifespan).

Every ``interval`` seconds (``CASEGRAPH_SLA_INTERVAL``; 0 turns it off) it runs
``services.sla_evaluation.evaluate_due`` at the runtime clock's time. It holds no state of its
own: everything is in the database, so the first pass after a (re)start catches up on whatever
fell due meanwhile, and several server processes can each run one (the database lets only one
fire each deadline). A failing pass is logged and the next one runs as usual.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from casegraph.clock import Clock
from casegraph.periodic import PeriodicWorker
from casegraph.services.publisher import Publisher
from casegraph.services.sla_evaluation import Evaluation, evaluate_due

log = logging.getLogger("casegraph.sla")


class SlaScheduler(PeriodicWorker):
    task_name = "casegraph-sla-evaluator"
    log = log

    def __init__(self, *, interval: float, clock: Clock, publisher: Callable[[], Publisher]) -> None:
        """``publisher`` is asked at each pass, so it follows the runtime's current publisher."""
        super().__init__(interval=interval)
        self._clock = clock
        self._publisher = publisher
        self.passes = 0
        self.passed = asyncio.Event()  # set after each pass (tests and diagnostics wait on it)

    async def run_once(self) -> Evaluation:
        evaluation = await evaluate_due(now=self._clock(), publisher=self._publisher())
        if evaluation.events or evaluation.alerts:
            log.info("SLA pass: %d events, %d alerts", len(evaluation.events), evaluation.alerts)
        return evaluation

    async def run_pass(self) -> None:
        try:
            await self.run_once()
        finally:
            self.passes += 1
            self.passed.set()
