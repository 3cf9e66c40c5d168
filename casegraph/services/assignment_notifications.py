"""Assignment notifications (issue 19): an agent hears of a case given to them or taken from them.

A change hook (installed by the composition root), so it sees every change of a case's assignee
whoever made it — a manager's or agent's ``assignCase``, another agent taking the case, routing's
auto-assign (no actor) — and writes the notifications in the event's transaction, naming its
sequence: they commit or roll back with the change, and one event tells each person once. Whoever
made the change is not told about it: taking a case oneself is no news to oneself.
"""

from __future__ import annotations

from casegraph.services.notifications import NotificationKind, notify
from casegraph.services.records import CaseRecord, EventRecord


async def notify_assignment_change(before: CaseRecord, after: CaseRecord, event: EventRecord) -> None:
    if before.assigned_to_id == after.assigned_to_id:
        return
    given_to = after.assigned_to_id
    taken_from = before.assigned_to_id
    if given_to is not None and given_to != event.actor_id:
        await notify(
            user_ids=[given_to],
            case_id=after.id,
            kind=NotificationKind.ASSIGNED,
            text=f"{after.number} was assigned to you.",
            now=event.occurred_at,
            event_sequence=event.sequence,
        )
    if taken_from is not None and taken_from != event.actor_id:
        await notify(
            user_ids=[taken_from],
            case_id=after.id,
            kind=NotificationKind.UNASSIGNED,
            text=_taken_text(after.number, given_to),
            now=event.occurred_at,
            event_sequence=event.sequence,
        )


def _taken_text(number: str, given_to: str | None) -> str:
    if given_to is None:
        return f"{number} was taken from you."
    return f"{number} was taken from you and assigned to {given_to}."
