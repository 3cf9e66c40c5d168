"""``splitCase``: decode the children, split through the runner, answer with the children the viewer may see."""

from __future__ import annotations

from functools import partial
from typing import Any

from casegraph.services.case_changes import ActionResult
from casegraph.services.case_splits import ChildSpec, SplitRequest
from casegraph.services.case_splits import split_case as split
from resolvers.loaders import VisibleCaseById
from resolvers.pipeline import run_case_change
from schema.context import Info
from schema.inputs import ChildCaseInput, SplitCaseInput
from schema.payloads import SplitCasePayload, refused
from schema.types.case import Case, CaseEvent


def _child_spec(child: ChildCaseInput) -> ChildSpec:
    return ChildSpec(
        case_type_code=child.case_type_code,
        title=child.title,
        description=child.description,
        impact=child.impact,
        urgency=child.urgency,
    )


async def split_case(info: Info, input: SplitCaseInput) -> SplitCasePayload:
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
        info,
        "splitCase",
        input,
        refused=refused(SplitCasePayload),
        change=partial(split, request=request),
        done=payload,
    )
