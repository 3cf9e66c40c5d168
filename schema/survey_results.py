"""Survey results: satisfaction per case type, agent, group and period, computed in the database.
Who sees what: ``casegraph/services/survey_results.py`` (managers and admins; agents their own)."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry
from tortoise.queryset import QuerySet

from casegraph.services import survey_results as results
from models import Survey as SurveyRow
from resolvers.loaders import CaseTypeById, VisibleCaseById
from resolvers.pipeline import refusals_as_errors
from schema.context import Info
from schema.types.case import Case
from schema.types.case_type import CaseType
from schema.types.common import PageInfo
from schema.types.people import User, _user


@strawberry.input(description="All given conditions must hold; `from` is inclusive, `to` exclusive (submission time).")
class SurveyResultsFilter:
    case_type_code: str | None = None
    agent_id: strawberry.ID | None = strawberry.field(default=None, description="The case's assigned agent.")
    group_code: str | None = strawberry.field(default=None, description="The case's assignment group.")
    from_: datetime | None = strawberry.field(default=None, name="from")
    to: datetime | None = None


@strawberry.type(description="How many surveys gave one rating.")
class RatingCount:
    rating: int
    count: int


@strawberry.type(description="One submitted survey.")
class SurveyResult:
    rating: int
    comment: str | None
    submitted_at: datetime
    _case_id: strawberry.Private[str]

    @strawberry.field(description="The case, if the viewer may see it.")
    async def case(self, info: Info) -> Case | None:
        record = await info.context.loaders[VisibleCaseById].load(self._case_id)
        return Case.from_record(record) if record is not None else None

    @classmethod
    def from_row(cls, row: SurveyRow) -> SurveyResult:
        return cls(rating=row.rating, comment=row.comment, submitted_at=row.submitted_at, _case_id=str(row.case_id))


@strawberry.type
class SurveyResultEdge:
    cursor: str
    node: SurveyResult


@strawberry.type(description="A page of surveys, newest first.")
class SurveyResultConnection:
    edges: list[SurveyResultEdge]
    page_info: PageInfo


@strawberry.type(description="Count and average rating of one agent's cases.")
class AgentSurveyStats:
    count: int
    average_rating: float | None
    _agent_id: strawberry.Private[str | None]

    @strawberry.field(description="Null for cases that had no assignee.")
    async def agent(self, info: Info) -> User | None:
        return await _user(info, self._agent_id)


@strawberry.type(description="Count and average rating of one case type's cases.")
class CaseTypeSurveyStats:
    count: int
    average_rating: float | None
    _case_type_id: strawberry.Private[int | None]

    @strawberry.field
    async def case_type(self, info: Info) -> CaseType | None:
        if self._case_type_id is None:
            return None
        row = await info.context.loaders[CaseTypeById].load(self._case_type_id)
        return CaseType.from_row(row) if row is not None else None


@strawberry.type(description="Satisfaction over the surveys the filter selects (and the viewer may see).")
class SurveyResults:
    count: int
    average_rating: float | None = strawberry.field(description="Null when there is no survey.")
    distribution: list[RatingCount] = strawberry.field(description="Ratings 1 to 5, each with its count.")
    _query: strawberry.Private[QuerySet[SurveyRow]]

    @strawberry.field(description="Per assigned agent, most surveys first.")
    async def by_agent(self) -> list[AgentSurveyStats]:
        return [
            AgentSurveyStats(count=b.stats.count, average_rating=b.stats.average, _agent_id=b.key)
            for b in await results.breakdown(self._query, "case__assigned_to_id")
        ]

    @strawberry.field(description="Per case type, most surveys first.")
    async def by_case_type(self) -> list[CaseTypeSurveyStats]:
        return [
            CaseTypeSurveyStats(count=b.stats.count, average_rating=b.stats.average, _case_type_id=b.key)
            for b in await results.breakdown(self._query, "case__case_type_id")
        ]

    @strawberry.field(description="The surveys themselves, newest first; `first` is capped at 100.")
    async def surveys(self, info: Info, first: int | None = None, after: str | None = None) -> SurveyResultConnection:
        with refusals_as_errors():
            page = await results.survey_page(self._query, first=first, after=after, max_page=info.context.max_page_size)
        return SurveyResultConnection(
            edges=[
                SurveyResultEdge(cursor=c, node=SurveyResult.from_row(s)) for s, c in zip(page.surveys, page.cursors)
            ],
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=page.has_previous,
                start_cursor=page.cursors[0] if page.cursors else None,
                end_cursor=page.cursors[-1] if page.cursors else None,
            ),
        )


def _utc(value: datetime | None) -> datetime | None:
    """A time without an offset is taken as UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@strawberry.type
class SurveyResultsQuery:
    @strawberry.field(
        description="Satisfaction survey results: MANAGER (their groups), ADMIN (all), AGENT (their own)."
    )
    async def survey_results(self, info: Info, filter: SurveyResultsFilter | None = None) -> SurveyResults:
        actor = info.context.require_actor()
        flt = filter or SurveyResultsFilter()
        with refusals_as_errors():
            query = await results.scoped_surveys(
                actor=actor,
                flt=results.SurveyFilter(
                    case_type_code=flt.case_type_code,
                    agent_id=None if flt.agent_id is None else str(flt.agent_id),
                    group_code=flt.group_code,
                    submitted_from=_utc(flt.from_),
                    submitted_to=_utc(flt.to),
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
