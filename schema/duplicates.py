"""Duplicates: similar open cases (``similarCases``, resolved by ``resolvers/similar_cases.py``) and
``markDuplicate`` (``resolvers/mark_duplicate.py``); ``Case.duplicateOf`` and ``Case.duplicates``
(``schema/types/case.py``) show the link from both sides. Service: ``casegraph/services/duplicates.py``."""

from __future__ import annotations

from typing import Annotated

import strawberry

from casegraph.services import duplicates
from resolvers.mark_duplicate import mark_duplicate
from resolvers.similar_cases import similar_cases
from schema.context import Info
from schema.inputs import MarkDuplicateInput
from schema.payloads import CasePayload
from schema.types.case import SimilarCase


@strawberry.type
class DuplicatesQuery:
    @strawberry.field(
        description="Open cases of the same type that look like this one (similar text, nearby), "
        "most similar first; for staff handling the case. Only cases the viewer may see."
    )
    async def similar_cases(
        self,
        info: Info,
        case_id: strawberry.ID,
        first: Annotated[int, strawberry.argument(description="At most 50.")] = duplicates.DEFAULT_SIMILAR,
        radius_meters: Annotated[
            float, strawberry.argument(description="How near counts as nearby, in meters (at most 50 km).")
        ] = duplicates.DEFAULT_RADIUS_METERS,
    ) -> list[SimilarCase]:
        return await similar_cases(info, str(case_id), first, radius_meters)


@strawberry.type
class DuplicatesMutation:
    @strawberry.mutation(
        description="Resolve a case (code DUPLICATE) as a duplicate of another open case; "
        "same rules as proposeSolution. Both cases record a MARK_DUPLICATE event."
    )
    async def mark_duplicate(self, info: Info, input: MarkDuplicateInput) -> CasePayload:
        return await mark_duplicate(info, input)
