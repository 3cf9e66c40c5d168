"""The computed fields of ``SurveyResults``: breakdowns and the page of surveys, as records
``schema/types/survey_results.py`` wraps. Who sees what: ``casegraph/services/survey_results.py``."""

from __future__ import annotations

from tortoise.queryset import QuerySet

from casegraph.services import survey_results as results
from models import Survey as SurveyRow
from resolvers.pipeline import refusals_as_errors
from schema.context import Info


async def breakdown(query: QuerySet[SurveyRow], by: str) -> list[results.Breakdown]:
    return await results.breakdown(query, by)


async def survey_page(
    info: Info, query: QuerySet[SurveyRow], first: int | None, after: str | None
) -> results.SurveyPage:
    with refusals_as_errors():
        return await results.survey_page(query, first=first, after=after, max_page=info.context.max_page_size)
