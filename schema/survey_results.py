"""Survey results: satisfaction per case type, agent, group and period, resolved by
``resolvers/survey_results.py``; the types are ``schema/types/survey_results.py``."""

from __future__ import annotations

import strawberry

from resolvers import survey_results
from schema.context import Info
from schema.inputs import SurveyResultsFilter
from schema.types.survey_results import SurveyResults


@strawberry.type
class SurveyResultsQuery:
    @strawberry.field(
        description="Satisfaction survey results: MANAGER (their groups), ADMIN (all), AGENT (their own)."
    )
    async def survey_results(self, info: Info, filter: SurveyResultsFilter | None = None) -> SurveyResults:
        return await survey_results.survey_results(info, filter)
