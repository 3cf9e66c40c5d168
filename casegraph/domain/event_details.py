"""What an event's ``details`` show to a viewer who is not staff (issue 14, section 5).

An event's summary is written once for everybody; staff read it whole. Constituents and partner
accounts read only the keys listed here: an allow-list, so a key a later feature adds to a
summary stays hidden from them until someone decides it is public. Hidden in particular: the
internal flags (``workNote``, ``findings``), staff mentions and notified staff, other requesters'
case ids (``duplicateOfId``/``duplicateId`` of a duplicate link), and internal ids (assignees,
inspectors, tasks, referrals, articles, playbook steps).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

PUBLIC_KEYS: Final = frozenset(
    {
        "submitted",
        "channel",
        "changed",
        "comment",
        "question",
        "reason",
        "resolutionCode",
        "resolutionNotes",
        "rating",
        "children",
        "caseTypes",
        # A split's child names its parent: the same requester's case (Case.parent shows it too).
        "parentId",
        "parentNumber",
        # The service the requester filed under and the form it brought: their own choice, no one's id.
        "serviceDefinitionCode",
        "templateCode",
        # A file added or removed that the requester may see: its name (issue 18). Internal
        # files' events carry neither key.
        "attached",
        "detached",
        # A file of theirs the malware scanner refused (its name; never the signature).
        "refused",
    }
)
# Case columns a requester may read: what ``changed`` may still name for them.
PUBLIC_COLUMNS: Final = frozenset(
    {
        "title",
        "description",
        "impact",
        "urgency",
        "priority",
        "contact_email",
        "contact_phone",
        "latitude",
        "longitude",
        "case_type_id",
        "workflow",
    }
)


def public_details(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The part of an event summary a viewer outside the staff may read."""
    shown: dict[str, Any] = {}
    for key, value in summary.items():
        if key not in PUBLIC_KEYS:
            continue
        if key == "changed":
            value = [column for column in value if column in PUBLIC_COLUMNS] if isinstance(value, list) else []
        shown[key] = value
    return shown
