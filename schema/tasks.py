"""Case tasks (work orders) from the assignee's side: my tasks, and starting one, resolved by
``resolvers/tasks.py``."""

from __future__ import annotations

import strawberry

from casegraph.domain.enums import TaskState
from resolvers import tasks
from schema.context import Info
from schema.inputs import StartTaskInput
from schema.payloads import TaskPayload
from schema.types.case import CaseTask


@strawberry.type
class TaskQuery:
    @strawberry.field(description="Tasks assigned to the viewer (default: open and in progress), soonest due first.")
    async def my_tasks(
        self, info: Info, states: list[TaskState] | None = None, first: int = tasks.DEFAULT_TASKS
    ) -> list[CaseTask]:
        return await tasks.my_tasks(info, states, first)


@strawberry.type
class TaskMutation:
    @strawberry.mutation(description="Start a task: its assignee, the case's assigned agent or a manager.")
    async def start_task(self, info: Info, input: StartTaskInput) -> TaskPayload:
        return await tasks.start_task(info, input)
