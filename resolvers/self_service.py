"""``recordSelfService``: the portal's draft-request steps (rules: ``casegraph/services/self_service.py``)."""

from __future__ import annotations

from casegraph.services import self_service
from resolvers.pipeline import run_mutation
from schema.context import Info
from schema.payloads import refused
from schema.types.self_service import RecordSelfServiceInput, SelfServicePayload


async def record_self_service(info: Info, input: RecordSelfServiceInput) -> SelfServicePayload:
    report = self_service.SelfServiceReport(
        draft_id=str(input.draft_id),
        step=input.step,
        service_code=input.service_code,
        article_id=None if input.article_id is None else str(input.article_id),
        case_id=None if input.case_id is None else str(input.case_id),
    )
    return await run_mutation(
        info,
        refused=refused(SelfServicePayload),
        call=lambda actor: self_service.record_self_service(actor=actor, report=report, now=info.context.clock()),
        done=lambda recorded: SelfServicePayload(recorded=recorded),
    )
