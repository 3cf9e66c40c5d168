"""A finished case's open tasks are cancelled with it, so they leave every ``myTasks`` list.

A change hook (services/extensions.py): it runs inside the transaction that closes or cancels the
case, whichever way that happens (an agent's CLOSE, the requester's withdrawal, acceptance,
auto-close, a rejected referral), so the tasks and the case finish together or not at all. Each
task records why, when and by whom, pointing at the case event that finished it.
"""

from __future__ import annotations

from typing import Final

from casegraph.domain import lifecycle
from casegraph.domain.enums import TaskState
from casegraph.services.records import CaseRecord, EventRecord
from models import CaseTask

OPEN_TASK_STATES: Final = (TaskState.OPEN, TaskState.IN_PROGRESS)


async def cancel_tasks_of_finished_case(before: CaseRecord, after: CaseRecord, event: EventRecord) -> None:
    if not lifecycle.is_terminal(after.status) or lifecycle.is_terminal(before.status):
        return
    await CaseTask.filter(case_id=after.id, state__in=OPEN_TASK_STATES).update(
        state=TaskState.CANCELLED,
        note=f"Cancelled with the case ({event.action.value}, event {event.sequence}).",
        finished_at=event.occurred_at,
        finished_by_id=event.actor_id,
    )
