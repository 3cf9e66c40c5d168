"""Case tasks (work orders) from the assignee's side: my tasks, and starting one."""

from __future__ import annotations

import strawberry

from casegraph.domain.enums import TaskState
from models import CaseTask as TaskRow
from resolvers.case_actions import run_finish_task
from schema.context import Info
from schema.inputs import EXPECTED_VERSION, IDEMPOTENCY_KEY
from schema.payloads import TaskPayload
from schema.types.case import CaseTask


@strawberry.input(description="Start working on a task (OPEN → IN_PROGRESS).")
class StartTaskInput:
    task_id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description=EXPECTED_VERSION)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type
class TaskQuery:
    @strawberry.field(description="Tasks assigned to the viewer (default: open and in progress), soonest due first.")
    async def my_tasks(self, info: Info, states: list[TaskState] | None = None, first: int = 50) -> list[CaseTask]:
        actor = info.context.require_actor()
        wanted = states or [TaskState.OPEN, TaskState.IN_PROGRESS]
        rows = (
            await TaskRow.filter(assignee_id=actor.user_id, state__in=wanted, case__deleted_at__isnull=True)
            .order_by("due_at", "id")
            .limit(max(0, min(first, info.context.max_page_size)))
        )
        # Tasks without a due date come after dated ones, whatever the database's NULL order.
        rows.sort(key=lambda row: (row.due_at is None, row.due_at or row.created_at, row.id))
        return [CaseTask.from_row(row) for row in rows]


@strawberry.type
class TaskMutation:
    @strawberry.mutation(description="Start a task: its assignee, the case's assigned agent or a manager.")
    async def start_task(self, info: Info, input: StartTaskInput) -> TaskPayload:
        return await run_finish_task(info, "startTask", input, TaskState.IN_PROGRESS)
