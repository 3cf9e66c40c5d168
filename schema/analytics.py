"""Desk analytics for dashboards: `analytics(filter)`, resolved by ``resolvers/analytics.py``; the
types and their aggregates are ``schema/types/analytics.py``."""

from __future__ import annotations

import strawberry

from resolvers import analytics
from schema.context import Info
from schema.inputs import AnalyticsFilterInput
from schema.types.analytics import Analytics


@strawberry.type
class AnalyticsQuery:
    @strawberry.field(
        description=(
            "Desk analytics: ADMIN over every group, AGENT and MANAGER over their own groups; others are refused."
        )
    )
    async def analytics(self, info: Info, filter: AnalyticsFilterInput | None = None) -> Analytics | None:
        return await analytics.analytics(info, filter)
