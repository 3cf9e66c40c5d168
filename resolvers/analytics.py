"""``analytics(filter)``: the viewer's scope over the cases the filter selects; its aggregates
resolve in ``resolvers/analytics_aggregates.py``. Who sees what: ``casegraph/services/analytics_scope.py``."""

from __future__ import annotations

from casegraph.services.analytics_scope import AnalyticsFilter, analytics_scope
from resolvers.filter_times import as_utc
from resolvers.pipeline import refusals_as_errors
from schema.context import Info
from schema.inputs import AnalyticsFilterInput
from schema.types.analytics import Analytics


async def analytics(info: Info, filter: AnalyticsFilterInput | None) -> Analytics | None:
    actor = info.context.require_actor()
    flt = filter or AnalyticsFilterInput()
    with refusals_as_errors():
        scope = await analytics_scope(
            actor=actor,
            flt=AnalyticsFilter(
                start=as_utc(flt.from_),
                end=as_utc(flt.to),
                group_codes=flt.group_codes,
                case_type_codes=flt.case_type_codes,
            ),
            now=info.context.clock(),
        )
    return Analytics(_scope=scope)
