"""Parent and child cases: what a parent waits for (who may split, when: ``domain/desk_actions.py``).

Pure: standard library only. A case split into child cases (one per department, say) cannot be
resolved or closed while a child is still open; children keep the parent's requester.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from casegraph.domain.enums import CaseStatus
from casegraph.domain.errors import transition_not_allowed

# A child counts as open until it is resolved, closed or cancelled (or deleted).
SETTLED_STATUSES: Final = frozenset({CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.CANCELLED})
# Statuses a parent may not reach while a child is open (whichever action or automation leads there).
WAITS_FOR_CHILDREN: Final = frozenset({CaseStatus.RESOLVED, CaseStatus.CLOSED})

MAX_CHILDREN_PER_SPLIT: Final = 20


@dataclass(frozen=True)
class ChildState:
    number: str
    status: CaseStatus
    deleted: bool = False

    @property
    def open(self) -> bool:
        return not self.deleted and self.status not in SETTLED_STATUSES


def waits_for_children(current: CaseStatus, target: CaseStatus) -> bool:
    return target in WAITS_FOR_CHILDREN and current is not target


def refuse_if_children_open(children: Sequence[ChildState]) -> None:
    """TRANSITION_NOT_ALLOWED naming the open child cases by number."""
    still_open = sorted(child.number for child in children if child.open)
    if still_open:
        raise transition_not_allowed(
            f"The case has open child cases: {', '.join(still_open)}; resolve, close or cancel them first."
        )
