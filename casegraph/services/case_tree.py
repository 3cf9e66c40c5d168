"""Parent and child cases, as the change pipeline sees them: a parent is not resolved or closed
while a child is open. Splitting a case is ``services/case_splits.py``.

The rule is checked twice: as a TRANSITION_CHECK (a clear refusal before anything is written),
and again inside the transaction that would resolve or close the parent, with the children's
rows locked, so a child reopened at the same moment cannot slip past.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from casegraph.database import statements
from casegraph.domain.case_tree import ChildState, refuse_if_children_open, waits_for_children
from casegraph.domain.enums import CaseStatus
from casegraph.services.records import CaseRecord, EventDraft
from models import Case

if TYPE_CHECKING:
    from casegraph.services.extensions import Transition


async def check_children_settled(transition: Transition) -> None:
    """TRANSITION_CHECK: PROPOSE_SOLUTION, CLOSE, ACCEPT_SOLUTION and automatic closing alike."""
    if waits_for_children(transition.case.status, transition.target[1]):
        refuse_if_children_open(await _children(transition.case.id, lock=False))


async def recheck_children_settled(before: CaseRecord, after: CaseRecord, event: EventDraft) -> None:
    """CHANGE_HOOK: the same rule inside the writing transaction, children locked (PostgreSQL)."""
    if waits_for_children(before.status, after.status):
        refuse_if_children_open(await _children(after.id, lock=True))


async def _children(parent_id: str, *, lock: bool) -> list[ChildState]:
    # Every child row, whatever its status, when locking: a child being reopened right now is
    # waited for. Only the three columns the rule reads; FOR UPDATE locks the whole row anyway.
    rows = await statements.select(Case, ("number", "status", "deleted_at"), {"parent_id": parent_id}, for_update=lock)
    return [ChildState(row["number"], row["status"], row["deleted_at"] is not None) for row in rows]


@dataclass(frozen=True)
class ChildProgress:
    """How a parent's children stand: counts over all of them (deleted ones aside)."""

    total: int
    open: int
    by_status: tuple[tuple[CaseStatus, int], ...]


def progress(statuses: Sequence[CaseStatus]) -> ChildProgress:
    counts = Counter(statuses)
    return ChildProgress(
        total=len(statuses),
        open=sum(1 for s in statuses if ChildState("", s).open),
        by_status=tuple((status, counts[status]) for status in CaseStatus if counts[status]),
    )
