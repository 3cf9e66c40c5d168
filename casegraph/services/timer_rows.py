"""A stored SLA timer read back as the domain's ``Timer``.

Its own module because both sides need it: ``sla_config`` replans running timers when business
hours change, and ``sla_timers`` (which reads ``sla_config``'s targets) moves them with each case.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from casegraph.domain.sla import BREACH_PERCENT, Timer
from models import CaseTimer

# The column that records when each threshold (percent of the target) fired.
FIRED_COLUMNS: Final = {50: "warned_50_at", 75: "warned_75_at", BREACH_PERCENT: "breached_at"}


def timer_of(row: CaseTimer) -> Timer:
    return Timer(
        kind=row.kind,
        target=timedelta(minutes=row.target_minutes),
        elapsed=timedelta(microseconds=row.elapsed_us),
        running_since=row.running_since,
        phase=row.phase,
        fired=frozenset(p for p, column in FIRED_COLUMNS.items() if getattr(row, column) is not None),
    )
