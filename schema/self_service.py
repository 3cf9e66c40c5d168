"""Helping themselves (the constituent portal): ``recordSelfService``, resolved by
``resolvers/self_service.py``. The figure it feeds is ``analytics.deflection``."""

from __future__ import annotations

import strawberry

from resolvers import self_service
from schema.context import Info
from schema.types.self_service import RecordSelfServiceInput, SelfServicePayload


@strawberry.type
class SelfServiceMutation:
    @strawberry.mutation(
        description=(
            "The portal reports a step of a constituent's draft request (CONSTITUENT only): articles read, "
            "then filed or left; counted once per draft."
        )
    )
    async def record_self_service(self, info: Info, input: RecordSelfServiceInput) -> SelfServicePayload:
        return await self_service.record_self_service(info, input)
