"""Parent and child cases, as the change pipeline sees them: a parent is not resolved or closed
while a child is open. Splitting a case is ``services/case_splits.py``.

The rule is checked twice: as a TRANSITION_CHECK (a clear refusal before anything is written),
and again inside the transaction that would resolve or close the parent, with the children's
rows locked, so a child reopened at the same moment cannot slip past.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

from casegraph.database import statements
from casegraph.domain.case_tree import ChildState, refuse_if_children_open, waits_for_children
from casegraph.domain.enums import CaseStatus
from casegraph.services.records import CaseRecord, EventDraft
from models import Case

if TYPE_CHECKING:
    from casegraph.services.extensions import Transition


# The (case id, version) whose check, run after the case was read at that version, found no
# child at all. A child only comes into being with a split, and a split is a change of the parent
# (services/case_splits.py: its conditional update, version + 1, in the transaction that inserts
# the children). So once the writing transaction's conditional update matched that same version,
# no child can exist: the recheck would lock no row, and its statement is left out. A case with
# children is always rechecked, locked.
_childless: ContextVar[tuple[str, int] | None] = ContextVar("casegraph_childless_case", default=None)


async def check_children_settled(transition: Transition) -> None:
    """TRANSITION_CHECK: PROPOSE_SOLUTION, CLOSE, ACCEPT_SOLUTION and automatic closing alike."""
    case = transition.case
    if waits_for_children(case.status, transition.target[1]):
        children = await _children(case.id, lock=False)
        refuse_if_children_open(children)
        _childless.set(None if children else (case.id, case.version))


async def recheck_children_settled(before: CaseRecord, after: CaseRecord, event: EventDraft) -> None:
    """CHANGE_HOOK: the same rule inside the writing transaction, children locked (PostgreSQL);
    nothing to do when the check found no child at the version this change started from."""
    if waits_for_children(before.status, after.status) and _childless.get() != (before.id, before.version):
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
