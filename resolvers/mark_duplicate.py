"""``markDuplicate``: resolve a case as a duplicate of another open case, through the runner."""

from __future__ import annotations

from functools import partial

from casegraph.services import duplicates
from resolvers.pipeline import run_case_change
from schema.context import Info
from schema.inputs import MarkDuplicateInput
from schema.payloads import CasePayload, case_payload, refused


async def mark_duplicate(info: Info, input: MarkDuplicateInput) -> CasePayload:
    change = partial(
        duplicates.mark_duplicate,
        case_id=str(input.case_id),
        duplicate_of_id=str(input.duplicate_of_id),
        resolution_notes=input.resolution_notes,
        expected_version=input.expected_version,
    )
    return await run_case_change(
        info, "markDuplicate", input, refused=refused(CasePayload), change=change, done=case_payload
    )
