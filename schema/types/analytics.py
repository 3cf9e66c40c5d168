"""Desk analytics' types: ``Analytics`` and its aggregates, each resolved (in the database, only
when asked for) by ``resolvers/analytics_aggregates.py``."""

from __future__ import annotations

from datetime import datetime

import strawberry

from casegraph.services.analytics import BacklogInterval, OpenCaseDimension
from casegraph.services.analytics_scope import Scope
from casegraph.services.analytics_times import DurationStats as DurationRecord
from resolvers import analytics_aggregates
from resolvers.loaders import CaseTypeById
from schema.context import Info
from schema.enums import CaseStage, CaseStatus, ComplianceTimerKind
from schema.types.case import Article
from schema.types.case_type import CaseType
from schema.types.people import AssignmentGroup, User, _group, _user
from schema.types.survey_results import RatingCount


@strawberry.type(description="Open cases of one combination of the dimensions asked for; the other keys are null.")
class OpenCaseCount:
    count: int
    stage: CaseStage | None
    status: CaseStatus | None
    priority: int | None
    _group_id: strawberry.Private[int | None]
    _case_type_id: strawberry.Private[int | None]

    @strawberry.field
    async def group(self, info: Info) -> AssignmentGroup | None:
        return await _group(info, self._group_id)

    @strawberry.field
    async def case_type(self, info: Info) -> CaseType | None:
        return await _case_type(info, self._case_type_id)


@strawberry.type(description="Moves in and out of the open set during [start, end), and the open cases at `end`.")
class BacklogBucket:
    start: datetime
    end: datetime
    opened: int = strawberry.field(description="Cases submitted.")
    reopened: int = strawberry.field(description="Resolved cases reopened (solution rejected).")
    resolved: int = strawberry.field(description="Open cases resolved or closed.")
    cancelled: int = strawberry.field(description="Open cases cancelled.")
    open_at_end: int = strawberry.field(description="Cases open at `end`.")


@strawberry.type(description="Durations in seconds (wall-clock, to the millisecond); percentiles by nearest rank.")
class DurationStats:
    count: int
    mean_seconds: float | None
    min_seconds: float | None
    max_seconds: float | None
    p50_seconds: float | None
    p90_seconds: float | None
    p95_seconds: float | None

    @classmethod
    def of(cls, stats: DurationRecord) -> DurationStats:
        return cls(
            count=stats.count,
            mean_seconds=stats.mean,
            min_seconds=stats.minimum,
            max_seconds=stats.maximum,
            p50_seconds=stats.percentiles[50],
            p90_seconds=stats.percentiles[90],
            p95_seconds=stats.percentiles[95],
        )


@strawberry.type(description="SLA timers of one case type, priority and kind.")
class SlaCompliance:
    priority: int
    kind: ComplianceTimerKind
    met: int = strawberry.field(description="Stopped within target.")
    breached: int = strawberry.field(description="Breach recorded, or time counted reached the target.")
    in_progress: int = strawberry.field(description="Still counting (running or paused) within target.")
    compliance_rate: float | None = strawberry.field(description="met / (met + breached); null when neither.")
    _case_type_id: strawberry.Private[int | None]

    @strawberry.field
    async def case_type(self, info: Info) -> CaseType | None:
        return await _case_type(info, self._case_type_id)


@strawberry.type(description="Of the cases resolved in the range, those ever reopened.")
class ReopenRate:
    resolved_cases: int
    reopened_cases: int
    rate: float | None = strawberry.field(description="reopenedCases / resolvedCases; null when none resolved.")


@strawberry.type(description="Satisfaction surveys submitted in the range.")
class SatisfactionSummary:
    count: int
    average_rating: float | None = strawberry.field(description="Null when there is no survey.")
    distribution: list[RatingCount] = strawberry.field(description="Ratings 1 to 5, each with its count.")


@strawberry.type(description="One agent's load and results; a case counts for its current assignee.")
class AgentWorkload:
    open_cases: int = strawberry.field(description="Assigned and open now (submitted in the range).")
    resolved_cases: int = strawberry.field(description="Resolved in the range.")
    mean_resolution_seconds: float | None = strawberry.field(description="Of those resolutions.")
    survey_count: int = strawberry.field(description="Surveys of their cases submitted in the range.")
    average_rating: float | None
    _agent_id: strawberry.Private[str]

    @strawberry.field
    async def agent(self, info: Info) -> User | None:
        return await _user(info, self._agent_id)


@strawberry.type(description="A knowledge article and the requests it deflected in the range.")
class ArticleDeflection:
    article: Article
    deflected_requests: int = strawberry.field(description="Deflected requests in which it was read.")


@strawberry.type(
    description=(
        "Requests not filed after their writer read a knowledge article in the portal, of the draft "
        "sessions whose last step is in the range (a session: one filing form a constituent opened)."
    )
)
class DeflectionSummary:
    deflected_requests: int = strawberry.field(
        description="Sessions that read an article and were left without filing (or idle for a day)."
    )
    filed_after_reading: int = strawberry.field(description="Sessions that read an article, then filed.")
    deflection_rate: float | None = strawberry.field(
        description="deflectedRequests / (deflectedRequests + filedAfterReading); null when neither."
    )
    top_articles: list[ArticleDeflection] = strawberry.field(
        description="The articles read in the most deflected sessions, most first (at most 10)."
    )


@strawberry.type(description="Aggregates over the cases the filter selects and the viewer may see.")
class Analytics:
    _scope: strawberry.Private[Scope]

    @strawberry.field(description="Cases open now (not resolved, closed or cancelled), submitted in the range.")
    async def open_cases(self, by: list[OpenCaseDimension]) -> list[OpenCaseCount]:
        rows = await analytics_aggregates.open_cases(self._scope, by)
        return [
            OpenCaseCount(
                count=r.count,
                stage=r.stage,
                status=r.status,
                priority=r.priority,
                _group_id=r.group_id,
                _case_type_id=r.case_type_id,
            )
            for r in rows
        ]

    @strawberry.field(
        description=(
            "Per bucket from `from` (default: 30 intervals before `to`) to `to` (default: now); at most 366 buckets."
        )
    )
    async def backlog(self, interval: BacklogInterval = BacklogInterval.DAY) -> list[BacklogBucket]:
        buckets = await analytics_aggregates.backlog(self._scope, interval)
        return [
            BacklogBucket(
                start=b.start,
                end=b.end,
                opened=b.opened,
                reopened=b.reopened,
                resolved=b.resolved,
                cancelled=b.cancelled,
                open_at_end=b.open_at_end,
            )
            for b in buckets
        ]

    @strawberry.field(description="Submitted → first OPEN, of cases first opened in the range.")
    async def first_response_time(self) -> DurationStats:
        return DurationStats.of(await analytics_aggregates.first_response_time(self._scope))

    @strawberry.field(description="Submitted → final resolution or close, of cases resolved in the range.")
    async def resolution_time(self) -> DurationStats:
        return DurationStats.of(await analytics_aggregates.resolution_time(self._scope))

    @strawberry.field(description="Per case type, priority and timer kind, of the timers started in the range.")
    async def sla_compliance(self) -> list[SlaCompliance]:
        return [
            SlaCompliance(
                priority=r.priority,
                kind=ComplianceTimerKind(r.kind.value),
                met=r.met,
                breached=r.breached,
                in_progress=r.in_progress,
                compliance_rate=r.compliance_rate,
                _case_type_id=r.case_type_id,
            )
            for r in await analytics_aggregates.sla_compliance(self._scope)
        ]

    @strawberry.field(description="Reopened share of the cases resolved in the range.")
    async def reopen_rate(self) -> ReopenRate:
        found = await analytics_aggregates.reopen_rate(self._scope)
        return ReopenRate(resolved_cases=found.resolved_cases, reopened_cases=found.reopened_cases, rate=found.rate)

    @strawberry.field(description="CSAT of the surveys submitted in the range.")
    async def satisfaction(self) -> SatisfactionSummary:
        found = await analytics_aggregates.satisfaction(self._scope)
        return SatisfactionSummary(
            count=found.count,
            average_rating=found.average,
            distribution=[RatingCount(rating=r, count=n) for r, n in found.distribution.items()],
        )

    @strawberry.field(description="Per agent of the groups in scope (idle ones included), most open cases first.")
    async def agent_workload(self) -> list[AgentWorkload]:
        return [
            AgentWorkload(
                open_cases=w.open_cases,
                resolved_cases=w.resolved_cases,
                mean_resolution_seconds=w.mean_resolution,
                survey_count=w.surveys,
                average_rating=w.average_rating,
                _agent_id=w.agent_id,
            )
            for w in await analytics_aggregates.agent_workload(self._scope)
        ]

    @strawberry.field(
        description=(
            "Requests not filed after reading a knowledge article in the portal, over the range and "
            "the groups and case types of the services they were written under."
        )
    )
    async def deflection(self) -> DeflectionSummary:
        found = await analytics_aggregates.deflection(self._scope)
        return DeflectionSummary(
            deflected_requests=found.deflected,
            filed_after_reading=found.filed_after_reading,
            deflection_rate=found.rate,
            top_articles=[
                ArticleDeflection(article=Article.from_row(each.article), deflected_requests=each.deflected)
                for each in found.top_articles
            ],
        )


async def _case_type(info: Info, case_type_id: int | None) -> CaseType | None:
    if case_type_id is None:
        return None
    row = await info.context.loaders[CaseTypeById].load(case_type_id)
    return CaseType.from_row(row) if row is not None else None
