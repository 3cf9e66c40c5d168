"""A case's SLA clocks as GraphQL shows them."""

from __future__ import annotations

from datetime import datetime

import strawberry

from schema.enums import Phase, TimerKind


@strawberry.type(description="One SLA clock of a case. Times count working time when the case type has business hours.")
class SlaTimer:
    kind: TimerKind
    phase: Phase = strawberry.field(description="RUNNING, PAUSED (AWAITING_INFO) or STOPPED.")
    target_minutes: int
    elapsed_seconds: int = strawberry.field(description="Working time counted so far.")
    remaining_seconds: int = strawberry.field(description="Until the target; negative once overrun.")
    paused: bool
    stopped: bool
    breached: bool
    due_at: datetime | None = strawberry.field(description="When the target is reached if the timer keeps running; null unless running.")
    started_at: datetime
    stopped_at: datetime | None
    warned_at_50: datetime | None = strawberry.field(name="warnedAt50")
    warned_at_75: datetime | None = strawberry.field(name="warnedAt75")
    breached_at: datetime | None
