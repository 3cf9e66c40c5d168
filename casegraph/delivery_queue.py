"""A queue of delivery rows sent after commit: what the outbox and the mail dispatchers share.

Both keep one row per message to send (``OutboxDelivery``, ``MailDelivery``) with the same
columns for its life: ``status``, ``attempts``, ``next_attempt_at``, ``last_attempt_at``,
``delivered_at``, ``event_sequence``. A pass picks the due PENDING rows and claims each with one
conditional UPDATE (``attempts`` as the version, pushing ``next_attempt_at`` a lease ahead), so
several processes never send the same attempt twice; a failed attempt is retried with backoff
until the dispatcher's ``max_attempts``; delivered rows are pruned after ``RETENTION``, failed
ones ``FAILED_RETENTION`` after their last attempt.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from tortoise.expressions import F
from tortoise.models import Model

from casegraph.clock import Clock
from casegraph.periodic import PeriodicWorker
from models import DeliveryStatus

# Seconds to wait after the 1st, 2nd, ... failed attempt; the last value repeats.
BACKOFF = (5, 30, 120, 600, 3600, 3 * 3600, 6 * 3600)
MAX_ATTEMPTS = 8
# Delivered messages are kept this long for the delivery log, then removed. FAILED ones stay for
# FAILED_RETENTION after their last attempt (an administrator's time to see and retry them), then
# go too: without it they piled up for good, and every read of an endpoint's failed deliveries
# (its status filter, its counts) read all of them. Pruning runs at most once per PRUNE_EVERY.
RETENTION = timedelta(days=30)
FAILED_RETENTION = timedelta(days=90)
PRUNE_EVERY = timedelta(hours=1)
BATCH = 50
ERROR_LIMIT = 500


@dataclass(frozen=True)
class Pass:
    delivered: int = 0
    retried: int = 0
    failed: int = 0


@dataclass
class Tally:
    """The outcomes of one pass's attempts."""

    outcomes: list[DeliveryStatus] = field(default_factory=list)

    def count(self, outcome: DeliveryStatus) -> None:
        self.outcomes.append(outcome)

    def result(self) -> Pass:
        delivered = self.outcomes.count(DeliveryStatus.DELIVERED)
        failed = self.outcomes.count(DeliveryStatus.FAILED)
        return Pass(delivered, len(self.outcomes) - delivered - failed, failed)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=BACKOFF[min(attempts, len(BACKOFF)) - 1])


class DeliveryQueue(PeriodicWorker):
    """A periodic worker over the delivery rows of ``model``: picks, claims and prunes them; the
    subclass sends (``run_once`` with ``due`` and ``claim``) and says how long a claim holds."""

    model: ClassVar[type[Model]]
    lease: ClassVar[timedelta]

    def __init__(self, *, interval: float, clock: Clock, max_attempts: int) -> None:
        super().__init__(interval=interval)
        self.max_attempts = max_attempts
        self._clock = clock
        self._pruned_at: datetime | None = None

    async def run_once(self) -> Pass:
        raise NotImplementedError

    async def due(self, now: datetime) -> list[dict[str, Any]]:
        """Due PENDING rows (``id``, ``attempts``), the longest due first, in event order."""
        rows: list[dict[str, Any]] = await (
            self.model.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "event_sequence")
            .limit(BATCH)
            .values("id", "attempts")
        )
        return rows

    async def claim(self, row: dict[str, Any], now: datetime) -> bool:
        """Whether this process won the row's attempt: only the dispatcher whose UPDATE still
        sees the attempts it read does."""
        claimed = await self.model.filter(id=row["id"], status=DeliveryStatus.PENDING, attempts=row["attempts"]).update(
            attempts=F("attempts") + 1, next_attempt_at=now + self.lease, last_attempt_at=now
        )
        return bool(claimed)

    async def prune(self) -> int:
        """Remove DELIVERED rows older than RETENTION and FAILED rows last tried longer than
        FAILED_RETENTION ago; returns how many."""
        now = self._clock()
        self._pruned_at = now
        delivered: int = await self.model.filter(
            status=DeliveryStatus.DELIVERED, delivered_at__lt=now - RETENTION
        ).delete()
        failed: int = await self.model.filter(
            status=DeliveryStatus.FAILED, last_attempt_at__lt=now - FAILED_RETENTION
        ).delete()
        return delivered + failed

    async def run_pass(self) -> None:
        await self.run_once()
        if self._pruned_at is None or self._clock() - self._pruned_at >= PRUNE_EVERY:
            await self.prune()


def log_pass(log: logging.Logger, name: str, result: Pass, *, delivered: str = "delivered") -> None:
    if result.delivered or result.retried or result.failed:
        log.info(
            "%s pass: %d %s, %d to retry, %d failed", name, result.delivered, delivered, result.retried, result.failed
        )
