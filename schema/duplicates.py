"""Duplicates: similar open cases (``similarCases``) and ``markDuplicate``; ``Case.duplicateOf`` and
``Case.duplicates`` (``schema/types/case.py``, resolved by ``resolvers/duplicates.py``) show the
link from both sides. Service: ``casegraph/services/duplicates.py``."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import strawberry

from casegraph.services import duplicates
from resolvers.pipeline import refusals_as_errors, run_case_change
from schema.context import Info
from schema.inputs import CaseActionInput
from schema.payloads import CasePayload, case_payload, refused
from schema.types.case import Case


@strawberry.type(description="An open case that may be the same request as another, and why.")
class SimilarCase:
    case: Case
    score: float = strawberry.field(
        description="0 … 1: text similarity, blended with proximity (within the radius) when both cases have a location."
    )
    text_similarity: float = strawberry.field(description="0 … 1: how alike title and description are.")
    distance_meters: float | None = strawberry.field(description="Null unless both cases have a location.")


@strawberry.input(description="Resolve the case (code DUPLICATE) as a duplicate of another, open case.")
class MarkDuplicateInput(CaseActionInput):
    duplicate_of_id: strawberry.ID = strawberry.field(description="The original case.")
    resolution_notes: str | None = strawberry.field(
        default=None, description="Shown to the requester; a neutral default is used when omitted."
    )


@strawberry.type
class DuplicatesQuery:
    @strawberry.field(description="Open cases of the same type that look like this one (similar text, nearby), "
                      "most similar first; for staff handling the case. Only cases the viewer may see.")
    async def similar_cases(
        self,
        info: Info,
        case_id: strawberry.ID,
        first: Annotated[int, strawberry.argument(description="At most 50.")] = duplicates.DEFAULT_SIMILAR,
        radius_meters: Annotated[
            float, strawberry.argument(description="How near counts as nearby, in meters (at most 50 km).")
        ] = duplicates.DEFAULT_RADIUS_METERS,
    ) -> list[SimilarCase]:
        actor = info.context.require_actor()
        with refusals_as_errors():
            found = await duplicates.similar_cases(
                actor=actor, case_id=str(case_id), first=first, radius_meters=radius_meters
            )
        return [
            SimilarCase(
                case=Case.from_record(s.case), score=s.score, text_similarity=s.text_similarity,
                distance_meters=s.distance_meters,
            )
            for s in found
        ]


@strawberry.type
class DuplicatesMutation:
    @strawberry.mutation(description="Resolve a case (code DUPLICATE) as a duplicate of another open case; "
                         "same rules as proposeSolution. Both cases record a MARK_DUPLICATE event.")
    async def mark_duplicate(self, info: Info, input: MarkDuplicateInput) -> CasePayload:
        change = partial(
            duplicates.mark_duplicate,
            case_id=str(input.case_id), duplicate_of_id=str(input.duplicate_of_id),
            resolution_notes=input.resolution_notes, expected_version=input.expected_version,
        )
        return await run_case_change(
            info, "markDuplicate", input, refused=refused(CasePayload), change=change, done=case_payload
        )
