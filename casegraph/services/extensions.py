"""Where desk features plug into every case change, without editing the action pipeline.

- ``TRANSITION_CHECKS`` run after the life-cycle table allowed an action and before anything is
  written; they refuse with a DomainError (usually TRANSITION_NOT_ALLOWED naming what is
  missing, e.g. an open playbook step or an open child case).
- ``CHANGE_HOOKS`` run inside the transaction that recorded an event, so what they write (SLA
  timers, links, counters) commits or rolls back with the change itself.

Each feature appends its functions here, explicitly, so the order is visible in one place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from casegraph.domain.enums import CaseAction
from casegraph.domain.lifecycle import State
from casegraph.domain.relations import Actor
from casegraph.services.case_tree import check_children_settled, recheck_children_settled
from casegraph.services.duplicate_links import forget_duplicate_link
from casegraph.services.finished_case_tasks import cancel_tasks_of_finished_case
from casegraph.services.intake import check_required_fields_at_submit
from casegraph.services.playbooks import check_required_steps, copy_playbook_on_submission
from casegraph.services.records import CaseRecord, EventRecord
from casegraph.services.referral_outbox import enqueue_referral_outcomes, enqueue_referral_updates
from casegraph.services.sla_timers import track_sla
from casegraph.services.webhooks import enqueue_webhooks


@dataclass(frozen=True)
class Transition:
    """An action about to be applied: the case before it, where it goes, who does it."""

    case: CaseRecord
    action: CaseAction
    target: State
    actor: Actor | None
    params: dict[str, object]
    now: datetime


TransitionCheck = Callable[[Transition], Awaitable[None]]
ChangeHook = Callable[[CaseRecord, CaseRecord, EventRecord], Awaitable[None]]

TRANSITION_CHECKS: list[TransitionCheck] = [
    check_required_fields_at_submit,  # intake: fields the case type/template require
    check_required_steps,  # playbooks: a stage is not left with required steps open
    check_children_settled,  # parent cases: not resolved/closed while a child is open
]
CHANGE_HOOKS: list[ChangeHook] = [
    copy_playbook_on_submission,  # playbooks: a submitted case gets its type's checklist
    recheck_children_settled,  # parent cases: the same rule again, children locked
    forget_duplicate_link,  # duplicates: a reopened duplicate no longer points at its original
    cancel_tasks_of_finished_case,  # tasks: a closed or cancelled case takes its open tasks with it
    track_sla,  # SLAs: timers run, pause and stop with the case; alerts are planned
    enqueue_webhooks,  # webhooks: one outbox delivery per matching endpoint, sent after commit
    enqueue_referral_updates,  # referrals: a received case's changes go back to the referring agency
    enqueue_referral_outcomes,  # referrals: a referred case's end closes (or reopens) the partner's case
]


async def check_transition(transition: Transition) -> None:
    for check in TRANSITION_CHECKS:
        await check(transition)


async def run_change_hooks(before: CaseRecord, after: CaseRecord, event: EventRecord) -> None:
    for hook in CHANGE_HOOKS:
        await hook(before, after, event)
