"""Splitting a case into child cases (`splitCase`). A child's `parent` and a parent's `children`
are fields of ``Case`` (``schema/types/case.py``, resolved by ``resolvers/case_tree.py``)."""

from __future__ import annotations

from functools import partial
from typing import Any

import strawberry

from casegraph.services.case_changes import ActionResult
from casegraph.services.case_splits import ChildSpec, SplitRequest, split_case
from casegraph.services.case_tree import progress
from resolvers.loaders import VisibleCaseById
from resolvers.pipeline import run_case_change
from schema.context import Info
from schema.inputs import CaseActionInput
from schema.payloads import refused
from schema.types.case import Case, CaseEvent
from schema.types.common import UserError


@strawberry.input(description="One child case: its own case type (and so group), title and description.")
class ChildCaseInput:
    case_type_code: str
    title: str
    description: str | None = strawberry.field(default=None, description="Default: the parent's description.")
    impact: int | None = strawberry.field(default=None, description="Default: the parent's.")
    urgency: int | None = strawberry.field(default=None, description="Default: the parent's.")


@strawberry.input(description="Split a case into child cases with the same requester.")
class SplitCaseInput(CaseActionInput):
    children: list[ChildCaseInput]


@strawberry.type(description="The result of splitting a case: the parent, its SPLIT_CASE event, the new children.")
class SplitCasePayload:
    case: Case | None = None
    event: CaseEvent | None = None
    children: list[Case] = strawberry.field(
        default_factory=list, description="The new children the viewer may see."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


def _child_spec(child: ChildCaseInput) -> ChildSpec:
    return ChildSpec(
        case_type_code=child.case_type_code, title=child.title, description=child.description,
        impact=child.impact, urgency=child.urgency,
    )


@strawberry.type
class CaseTreeMutation:
    @strawberry.mutation(description="Split a case into child cases: its assigned agent or a manager of its group.")
    async def split_case(self, info: Info, input: SplitCaseInput) -> SplitCasePayload:
        request = SplitRequest(
            case_id=str(input.case_id),
            children=[_child_spec(child) for child in input.children],
            expected_version=input.expected_version,
        )

        async def payload(result: ActionResult) -> SplitCasePayload:
            child_ids: list[Any] = result.extra.get("child_ids", [])
            visible = await info.context.loaders[VisibleCaseById].load_many([str(i) for i in child_ids])
            return SplitCasePayload(
                case=Case.from_record(result.case),
                event=CaseEvent.from_record(result.event),
                children=[Case.from_record(child) for child in visible if child is not None],
            )

        return await run_case_change(
            info, "splitCase", input, refused=refused(SplitCasePayload), change=partial(split_case, request=request),
            done=payload,
        )
