"""Survey results: satisfaction over the surveys a filter selects, its breakdowns and its pages."""

from __future__ import annotations

from datetime import datetime

import strawberry
from tortoise.queryset import QuerySet

from models import Survey as SurveyRow
from resolvers import survey_breakdowns
from resolvers.loaders import CaseTypeById, VisibleCaseById
from schema.context import Info
from schema.types.case import Case
from schema.types.case_type import CaseType
from schema.types.common import PageInfo
from schema.types.people import User, _user


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
            for b in await survey_breakdowns.breakdown(self._query, "case__assigned_to_id")
        ]

    @strawberry.field(description="Per case type, most surveys first.")
    async def by_case_type(self) -> list[CaseTypeSurveyStats]:
        return [
            CaseTypeSurveyStats(count=b.stats.count, average_rating=b.stats.average, _case_type_id=b.key)
            for b in await survey_breakdowns.breakdown(self._query, "case__case_type_id")
        ]

    @strawberry.field(
        description="The surveys themselves, newest first; `first` is at most 100 (more is refused: VALIDATION_FAILED)."
    )
    async def surveys(self, info: Info, first: int | None = None, after: str | None = None) -> SurveyResultConnection:
        page = await survey_breakdowns.survey_page(info, self._query, first, after)
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
