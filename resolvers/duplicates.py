"""``Case.duplicateOf`` and ``Case.duplicates``: the records, for the schema's types to wrap."""

from __future__ import annotations

from casegraph.domain.enums import ResolutionCode
from casegraph.services.records import CaseRecord
from resolvers.feature_loaders import DuplicatesByCase
from resolvers.loaders import VisibleCaseById
from schema.context import Info


async def original_of(info: Info, record: CaseRecord) -> CaseRecord | None:
    """The original, while the case stands resolved as its duplicate (if the viewer may see it)."""
    if record.duplicate_of_id is None or record.resolution_code is not ResolutionCode.DUPLICATE:
        return None
    return await info.context.loaders[VisibleCaseById].load(record.duplicate_of_id)


async def duplicates_of(info: Info, case_id: str) -> list[CaseRecord]:
    """Cases resolved as duplicates of this one that the viewer may see."""
    info.context.require_actor()  # only signed-in viewers: the loader scopes by them
    return list(await info.context.loaders[DuplicatesByCase].load(case_id))
