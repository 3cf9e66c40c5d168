"""``surveyResults``: satisfaction over the surveys a filter selects, computed in the database.
Who sees what: ``casegraph/services/survey_results.py`` (managers and admins; agents their own)."""

from __future__ import annotations

from casegraph.services import survey_results as results
from resolvers.filter_times import as_utc
from resolvers.pipeline import refusals_as_errors
from schema.context import Info
from schema.inputs import SurveyResultsFilter
from schema.types.survey_results import RatingCount, SurveyResults


async def survey_results(info: Info, filter: SurveyResultsFilter | None) -> SurveyResults:
    actor = info.context.require_actor()
    flt = filter or SurveyResultsFilter()
    with refusals_as_errors():
        query = await results.scoped_surveys(
            actor=actor,
            flt=results.SurveyFilter(
                case_type_code=flt.case_type_code,
                agent_id=None if flt.agent_id is None else str(flt.agent_id),
                group_code=flt.group_code,
                submitted_from=as_utc(flt.from_),
                submitted_to=as_utc(flt.to),
            ),
        )
    counts = await results.distribution(query)
    stats = results.totals(counts)
    return SurveyResults(
        count=stats.count,
        average_rating=stats.average,
        distribution=[RatingCount(rating=r, count=n) for r, n in counts.items()],
        _query=query,
    )
