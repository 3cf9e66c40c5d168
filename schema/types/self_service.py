"""Helping themselves: the portal's report of what a constituent read while writing a request."""

from __future__ import annotations

import strawberry

from casegraph.domain.self_service import SelfServiceStep
from schema.types.common import UserError

strawberry.enum(SelfServiceStep, description="A step of a constituent's draft request in the portal.")


@strawberry.input(
    description=(
        "One step of a draft request: an article read (ARTICLE_READ, with serviceCode and articleId), "
        "the form left without filing (ABANDONED), or the request filed (FILED, with caseId)."
    )
)
class RecordSelfServiceInput:
    draft_id: strawberry.ID = strawberry.field(description="A UUID the portal draws when the filing form opens.")
    step: SelfServiceStep
    service_code: str | None = strawberry.field(default=None, description="The service the request is written under.")
    article_id: strawberry.ID | None = strawberry.field(default=None, description="The published article read.")
    case_id: strawberry.ID | None = strawberry.field(default=None, description="The case filed (the viewer's own).")


@strawberry.type(description="Whether the step was counted, or why it was refused.")
class SelfServicePayload:
    recorded: bool = strawberry.field(
        default=False,
        description="false: known already (a repeat, or the draft had ended), or nothing read to count.",
    )
    errors: list[UserError] = strawberry.field(default_factory=list)
