"""``similarCases``: open cases of the same type that look like a case, for staff handling it."""

from __future__ import annotations

from casegraph.services import duplicates
from resolvers.pipeline import refusals_as_errors
from schema.context import Info
from schema.types.case import Case, SimilarCase


async def similar_cases(info: Info, case_id: str, first: int, radius_meters: float) -> list[SimilarCase]:
    actor = info.context.require_actor()
    with refusals_as_errors():
        found = await duplicates.similar_cases(actor=actor, case_id=case_id, first=first, radius_meters=radius_meters)
    return [
        SimilarCase(
            case=Case.from_record(s.case),
            score=s.score,
            text_similarity=s.text_similarity,
            distance_meters=s.distance_meters,
        )
        for s in found
    ]
