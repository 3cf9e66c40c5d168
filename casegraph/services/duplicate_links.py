"""Keeps the duplicate link truthful: a duplicate that leaves its DUPLICATE resolution (the
requester rejected it, or it was resolved again otherwise) no longer points at its original.

A change hook (``extensions.CHANGE_HOOKS``), so it runs in the transaction of the event that
reopened the case. Kept apart from ``services.duplicates``, which imports the action pipeline.
"""

from __future__ import annotations

from casegraph.domain.enums import ResolutionCode
from casegraph.services.records import CaseRecord, EventDraft
from models import Case


async def forget_duplicate_link(before: CaseRecord, after: CaseRecord, event: EventDraft) -> None:
    if after.duplicate_of_id is not None and after.resolution_code is not ResolutionCode.DUPLICATE:
        await Case.filter(id=after.id).update(duplicate_of_id=None)
