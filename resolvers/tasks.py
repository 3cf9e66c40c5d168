"""Case tasks from the assignee's side: ``myTasks``, and ``startTask``."""

from __future__ import annotations

from casegraph.domain.enums import TaskState
from casegraph.services.case_tasks import tasks_to_do
from resolvers.case_actions import run_finish_task
from resolvers.page_arguments import list_page_size
from schema.context import Info
from schema.inputs import StartTaskInput
from schema.payloads import TaskPayload
from schema.types.case import CaseTask

# The schema's default `first` (schema/tasks.py).
DEFAULT_TASKS = 50


async def my_tasks(info: Info, states: list[TaskState] | None, first: int) -> list[CaseTask]:
    actor = info.context.require_actor()
    wanted = states or [TaskState.OPEN, TaskState.IN_PROGRESS]
    rows = await tasks_to_do(actor.user_id, wanted, limit=list_page_size(info, first, schema_default=DEFAULT_TASKS))
    return [CaseTask.from_row(row) for row in rows]


async def start_task(info: Info, input: StartTaskInput) -> TaskPayload:
    return await run_finish_task(info, "startTask", input, TaskState.IN_PROGRESS)
