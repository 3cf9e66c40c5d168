"""``Case.slaTimers``: each clock of a case as of now, in the case type's working time."""

from __future__ import annotations

from casegraph.domain.sla import Phase, TimerKind
from casegraph.services.records import CaseRecord
from casegraph.services.timer_rows import timer_of
from resolvers.feature_loaders import SlaConfigByCaseType, TimersByCase
from schema.context import Info
from schema.types.sla import SlaTimer


async def case_sla_timers(info: Info, record: CaseRecord) -> list[SlaTimer]:
    """``Case.slaTimers``: RESPONSE then RESOLUTION; empty when no policy covered the case."""
    rows = await info.context.loaders[TimersByCase].load(record.id)
    if not rows:
        return []
    config = await info.context.loaders[SlaConfigByCaseType].load((record.case_type_id, record.workflow.value))
    now = info.context.clock()
    timers = []
    for row in sorted(rows, key=lambda r: list(TimerKind).index(r.kind)):
        timer = timer_of(row)
        view = timer.view(now, config.calendar)
        timers.append(
            SlaTimer(
                kind=row.kind,
                phase=row.phase,
                target_minutes=row.target_minutes,
                elapsed_seconds=int(view.elapsed.total_seconds()),
                remaining_seconds=int(view.remaining.total_seconds()),
                paused=row.phase is Phase.PAUSED,
                stopped=row.phase is Phase.STOPPED,
                breached=view.breached,
                due_at=view.due_at,
                started_at=row.started_at,
                stopped_at=row.stopped_at,
                warned_at_50=row.warned_50_at,
                warned_at_75=row.warned_75_at,
                breached_at=row.breached_at,
            )
        )
    return timers
