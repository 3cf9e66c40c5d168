"""Priority is derived from impact and urgency, never typed (lifecycle.md, *Priority*)."""

from __future__ import annotations

from typing import Final

# PRIORITY_MATRIX[impact][urgency]; 1 is high for both axes, priority 1 is critical.
PRIORITY_MATRIX: Final[dict[int, dict[int, int]]] = {
    1: {1: 1, 2: 2, 3: 3},
    2: {1: 2, 2: 3, 3: 4},
    3: {1: 3, 2: 4, 3: 5},
}

LEVELS: Final = (1, 2, 3)


def derive_priority(impact: int, urgency: int) -> int:
    """Priority 1 (critical) … 5 (planning) from impact and urgency (each 1 high … 3 low)."""
    try:
        return PRIORITY_MATRIX[impact][urgency]
    except KeyError:
        raise ValueError(f"impact and urgency must be 1, 2 or 3, not {impact}/{urgency}") from None
