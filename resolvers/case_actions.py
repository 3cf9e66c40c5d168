"""Thin glue for case mutations: decode input, call one service, return a payload."""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Any, Final

from casegraph.domain.enums import CaseAction, TaskState
from casegraph.services.case_actions import ActionRequest, perform
from casegraph.services.case_changes import ActionResult
from casegraph.services.case_creation import NewCase, create_case
from casegraph.services.case_tasks import TaskRequest, finish_task
from models import CaseTask as TaskRow
from resolvers.pipeline import run_case_change
from schema.context import Info
from schema.payloads import CasePayload, TaskPayload, refused
from schema.types import Case, CaseEvent, CaseTask

COMMON_FIELDS: Final = frozenset({"case_id", "expected_version", "idempotency_key"})


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _params(value: Any) -> Any:
    """Input objects to plain data keyed by their GraphQL names (the life-cycle table's names)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {camel(f.name): _params(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list):
        return [_params(item) for item in value]
    return value


def case_payload(result: ActionResult) -> CasePayload:
    return CasePayload(case=Case.from_record(result.case), event=CaseEvent.from_record(result.event))


async def run_case_action(info: Info, action: CaseAction, operation: str, input: Any) -> CasePayload:
    """The shape every case mutation shares; refusals come back as `errors`."""
    request = ActionRequest(
        action=action,
        case_id=str(input.case_id),
        expected_version=getattr(input, "expected_version", None),
        params={camel(f.name): _params(getattr(input, f.name))
                for f in dataclasses.fields(input) if f.name not in COMMON_FIELDS},
    )
    return await run_case_change(
        info, operation, input, refused=refused(CasePayload), change=partial(perform, request=request),
        done=case_payload,
    )


async def run_create_case(info: Info, input: Any) -> CasePayload:
    new = NewCase(
        case_type_code=input.case_type_code,
        title=input.title,
        description=input.description,
        impact=input.impact,
        urgency=input.urgency,
        channel=input.channel,
        requester_id=None if input.requester_id is None else str(input.requester_id),
        contact_email=input.contact_email,
        contact_phone=input.contact_phone,
        submit=input.submit,
        service_definition_code=input.service_definition_code,
        template_code=input.template_code,
        latitude=input.latitude,
        longitude=input.longitude,
    )
    return await run_case_change(
        info, "createCase", input, refused=refused(CasePayload), change=partial(create_case, new=new),
        done=case_payload,
    )


async def run_finish_task(info: Info, operation: str, input: Any, finish_as: TaskState) -> TaskPayload:
    request = TaskRequest(
        task_id=str(input.task_id),
        finish_as=finish_as,
        text=getattr(input, "note", None) if finish_as is TaskState.DONE else getattr(input, "reason", None),
        expected_version=input.expected_version,
    )

    async def payload(result: ActionResult) -> TaskPayload:
        task = await TaskRow.get(id=result.extra["task_id"])
        return TaskPayload(
            task=CaseTask.from_row(task), case=Case.from_record(result.case), event=CaseEvent.from_record(result.event)
        )

    return await run_case_change(
        info, operation, input, refused=refused(TaskPayload), change=partial(finish_task, request=request),
        done=payload,
    )
