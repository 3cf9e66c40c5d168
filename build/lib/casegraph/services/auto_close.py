"""Excluding a case from auto-close (lifecycle.md *SLAs*): a staff decision recorded as an event.

The assigned agent or a manager of the case's group sets or clears ``auto_close_excluded`` on
a case that is not finished. It is an ``UPDATE`` event like any other change (version + 1), so
the SLA change hook drops pending auto-close alerts when a case is excluded and plans them again
(counted from when the case was resolved) when it is included again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Final

from casegraph.domain.enums import CaseAction, CaseEventType, CaseStatus, Relation
from casegraph.domain.errors import permission_denied, transition_not_allowed, validation_failed, version_conflict
from casegraph.domain.relations import Actor, relations_of
from casegraph.services.case_changes import ActionResult, StaleCase, commit_change, refuse_if_pinned, retries_exhausted
from casegraph.services.publisher import Publisher
from casegraph.services.visibility import load_visible_case

DECIDERS: Final = frozenset({Relation.ASSIGNEE, Relation.MANAGER})
FINISHED: Final = frozenset({CaseStatus.DRAFT, CaseStatus.CLOSED, CaseStatus.CANCELLED})
MAX_ATTEMPTS: Final = 1000


async def set_auto_close_excluded(
    *,
    actor: Actor,
    case_id: str,
    excluded: bool,
    expected_version: int | None,
    now: datetime,
    publisher: Publisher,
    on_success: Callable[[ActionResult], Awaitable[None]] | None = None,
) -> ActionResult:
    """Same order as every action: see, may, version, state; then one event; publish after commit."""
    for _ in range(MAX_ATTEMPTS):
        case = await load_visible_case(actor, case_id)
        if not relations_of(actor, case.parties()) & DECIDERS:
            raise permission_denied("Only the assigned agent or a manager may exclude a case from auto-close.")
        if expected_version is not None and expected_version != case.version:
            raise version_conflict(expected_version, case.version)
        if case.status in FINISHED or case.deleted:
            raise transition_not_allowed(f"Auto-close does not apply to a case in {case.status.value}.")
        if case.auto_close_excluded is excluded:
            raise validation_failed("excluded", "The case is already so.")
        try:
            result = await commit_change(
                case=case,
                actor_id=actor.user_id,
                action=CaseAction.UPDATE,
                event_type=CaseEventType.CASE_UPDATED,
                target=case.state,
                changes={"auto_close_excluded": excluded},
                summary={"changed": ["auto_close_excluded"], "autoCloseExcluded": excluded},
                now=now,
                on_success=on_success,
            )
        except StaleCase:
            await refuse_if_pinned(actor=actor, case_id=case_id, expected_version=expected_version)
            continue
        await publisher.published([result.event])
        return result
    raise await retries_exhausted(actor=actor, case_id=case_id, expected_version=expected_version)
