"""Thin glue for case mutations: decode input, call one service, return a payload."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any, Final

from casegraph.domain.enums import CaseAction, TaskState
from casegraph.domain.errors import DomainError
from casegraph.services.case_actions import ActionRequest, perform
from casegraph.services.case_changes import ActionResult
from casegraph.services.case_creation import NewCase, create_case
from casegraph.services.case_tasks import TaskRequest, finish_task
from casegraph.services.idempotency import input_fingerprint, run_idempotent
from models import CaseTask as TaskRow
from schema.context import Info
from schema.payloads import CasePayload, TaskPayload, user_errors
from schema.types import Case, CaseEvent, CaseTask

COMMON_FIELDS: Final = frozenset({"caseId", "expectedVersion", "idempotencyKey"})

Runner = Callable[[Callable[[ActionResult], Awaitable[None]] | None], Awaitable[ActionResult]]


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


def _fingerprint_data(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _fingerprint_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fingerprint_data(v) for v in value]
    return value


async def _run(info: Info, operation: str, input: Any, run: Runner) -> ActionResult:
    actor = info.context.require_actor()
    key = getattr(input, "idempotency_key", None)
    if key is None:
        return await run(None)
    data = {k: v for k, v in _params(input).items() if k != "idempotencyKey"}
    return await run_idempotent(
        user_id=actor.user_id,
        key=key,
        operation=operation,
        input_hash=input_fingerprint(operation, _fingerprint_data(data)),
        now=info.context.clock(),
        run=run,
    )


async def run_case_action(info: Info, action: CaseAction, operation: str, input: Any) -> CasePayload:
    """The shape every case mutation shares; refusals come back as `errors`."""
    actor = info.context.require_actor()
    params = {k: v for k, v in _params(input).items() if k not in COMMON_FIELDS}
    request = ActionRequest(
        action=action,
        case_id=str(input.case_id),
        expected_version=getattr(input, "expected_version", None),
        params=params,
    )

    async def run(on_success: Callable[[ActionResult], Awaitable[None]] | None) -> ActionResult:
        return await perform(
            actor=actor, request=request, now=info.context.clock(), publisher=info.context.publisher,
            on_success=on_success,
        )

    try:
        result = await _run(info, operation, input, run)
    except DomainError as refusal:
        return CasePayload(errors=user_errors(refusal))
    return CasePayload(case=Case.from_record(result.case), event=CaseEvent.from_record(result.event))


async def run_create_case(info: Info, input: Any) -> CasePayload:
    actor = info.context.require_actor()
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

    async def run(on_success: Callable[[ActionResult], Awaitable[None]] | None) -> ActionResult:
        return await create_case(
            actor=actor, new=new, now=info.context.clock(), publisher=info.context.publisher, on_success=on_success
        )

    try:
        result = await _run(info, "createCase", input, run)
    except DomainError as refusal:
        return CasePayload(errors=user_errors(refusal))
    return CasePayload(case=Case.from_record(result.case), event=CaseEvent.from_record(result.event))


async def run_finish_task(info: Info, operation: str, input: Any, finish_as: TaskState) -> TaskPayload:
    actor = info.context.require_actor()
    request = TaskRequest(
        task_id=str(input.task_id),
        finish_as=finish_as,
        text=getattr(input, "note", None) if finish_as is TaskState.DONE else getattr(input, "reason", None),
        expected_version=input.expected_version,
    )

    async def run(on_success: Callable[[ActionResult], Awaitable[None]] | None) -> ActionResult:
        return await finish_task(
            actor=actor, request=request, now=info.context.clock(), publisher=info.context.publisher,
            on_success=on_success,
        )

    try:
        result = await _run(info, operation, input, run)
    except DomainError as refusal:
        return TaskPayload(errors=user_errors(refusal))
    task = await TaskRow.get(id=result.extra["task_id"])
    return TaskPayload(
        task=CaseTask.from_row(task), case=Case.from_record(result.case), event=CaseEvent.from_record(result.event)
    )
