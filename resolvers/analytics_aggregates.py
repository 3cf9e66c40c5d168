"""The aggregates of ``Analytics``, each computed in the database only when asked for, as records
``schema/types/analytics.py`` wraps. Definitions: ``casegraph/services/analytics.py`` (counts)
and ``analytics_times.py`` (durations)."""

from __future__ import annotations

from casegraph.services import analytics as counts
from casegraph.services import analytics_deflection as deflections
from casegraph.services import analytics_times as times
from casegraph.services.analytics import BacklogInterval, OpenCaseDimension
from casegraph.services.analytics_scope import Scope
from resolvers.pipeline import refusals_as_errors


async def open_cases(scope: Scope, by: list[OpenCaseDimension]) -> list[counts.OpenCaseCount]:
    return await counts.open_cases(scope, by)


async def backlog(scope: Scope, interval: BacklogInterval) -> list[counts.BacklogBucket]:
    with refusals_as_errors():
        return await counts.backlog(scope, interval)


async def first_response_time(scope: Scope) -> times.DurationStats:
    return await times.first_response_time(scope)


async def resolution_time(scope: Scope) -> times.DurationStats:
    return await times.resolution_time(scope)


async def sla_compliance(scope: Scope) -> list[counts.SlaCompliance]:
    return await counts.sla_compliance(scope)


async def reopen_rate(scope: Scope) -> counts.ReopenRate:
    return await counts.reopen_rate(scope)


async def satisfaction(scope: Scope) -> counts.Satisfaction:
    return await counts.satisfaction(scope)


async def agent_workload(scope: Scope) -> list[times.AgentWorkload]:
    return await times.agent_workload(scope)


async def deflection(scope: Scope) -> deflections.Deflection:
    return await deflections.deflection(scope)
