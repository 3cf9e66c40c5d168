"""Thin glue for case mutations: decode input, call one service, return a payload."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Final

from casegraph.domain import commands
from casegraph.domain.commands import Command
from casegraph.domain.enums import CaseAction, TaskState
from casegraph.services.case_actions import ActionRequest, perform
from casegraph.services.case_changes import ActionResult
from casegraph.services.case_creation import NewCase, create_case
from casegraph.services.case_tasks import TaskRequest, finish_task
from models import CaseTask as TaskRow
from resolvers.pipeline import run_case_change
from schema.context import Info
from schema.payloads import CasePayload, TaskPayload, case_payload, refused
from schema.types.case import Case, CaseEvent, CaseTask

# Each action's input decoded into its command (casegraph/domain/commands.py); the rest take none.
COMMANDS: Final[dict[CaseAction, Callable[[Any], Command]]] = {
    CaseAction.ASSIGN: lambda input: commands.Assign(assignee_id=input.assignee_id),
    CaseAction.UPDATE: lambda input: commands.UpdateCase(
        title=input.title,
        description=input.description,
        impact=input.impact,
        urgency=input.urgency,
        contact_email=input.contact_email,
        contact_phone=input.contact_phone,
        comment=input.comment,
        work_note=input.work_note,
        case_type_code=input.case_type_code,
        latitude=input.latitude,
        longitude=input.longitude,
    ),
    CaseAction.REQUEST_INFO: lambda input: commands.RequestInfo(question=input.question),
    CaseAction.REQUEST_INSPECTION: lambda input: commands.RequestInspection(inspector_id=input.inspector_id),
    CaseAction.COMPLETE_INSPECTION: lambda input: commands.CompleteInspection(findings=input.findings),
    CaseAction.ASSIGN_WORK: lambda input: commands.AssignWork(
        tasks=tuple(
            commands.TaskSpec(title=task.title, assignee_id=task.assignee_id, due_at=task.due_at)
            for task in input.tasks
        )
    ),
    CaseAction.PROPOSE_SOLUTION: lambda input: commands.ProposeSolution(
        resolution_code=input.resolution_code, resolution_notes=input.resolution_notes
    ),
    CaseAction.REJECT_SOLUTION: lambda input: commands.RejectSolution(reason=input.reason),
    CaseAction.CLOSE: lambda input: commands.Close(resolution_notes=input.resolution_notes),
    CaseAction.CANCEL: lambda input: commands.Cancel(reason=input.reason),
    CaseAction.SUBMIT_SURVEY: lambda input: commands.SubmitSurvey(rating=input.rating, comment=input.comment),
}


async def run_case_action(info: Info, action: CaseAction, operation: str, input: Any) -> CasePayload:
    """The shape every case mutation shares; refusals come back as `errors`."""
    request = ActionRequest(
        action=action,
        case_id=str(input.case_id),
        expected_version=getattr(input, "expected_version", None),
        command=COMMANDS[action](input) if action in COMMANDS else commands.NoInput(),
    )
    return await run_case_change(
        info,
        operation,
        input,
        refused=refused(CasePayload),
        change=partial(perform, request=request),
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
        info,
        "createCase",
        input,
        refused=refused(CasePayload),
        change=partial(create_case, new=new),
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
        info,
        operation,
        input,
        refused=refused(TaskPayload),
        change=partial(finish_task, request=request),
        done=payload,
    )
