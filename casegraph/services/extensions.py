"""The contract desk features plug into every case change by, without editing the action pipeline.

- ``TRANSITION_CHECKS`` run after the life-cycle table allowed an action and before anything is
  written; they refuse with a DomainError (usually TRANSITION_NOT_ALLOWED naming what is
  missing, e.g. an open playbook step or an open child case).
- ``CHANGE_HOOKS`` run inside the transaction that recorded an event, so what they write (SLA
  timers, links, counters) commits or rolls back with the change itself. They run in two
  phases: first before the event's sequence is taken (they see ``EventDraft``, everything but
  the sequence), then, if the first phase returned a step, after it (the step gets the
  ``EventRecord``). The sequence is taken from a counter whose row lock every writer waits on
  until commit, so what needs no sequence belongs in the first phase; ``after_sequence`` makes
  a hook that needs it from the start run wholly in the second.

This module names the contract and runs what is installed; it imports no feature, so features
can use it without an import circle. The composition root (``casegraph/composition.py``) lists
the features' checks and hooks, in order, in one place, and installs them at start-up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from casegraph.domain.enums import CaseAction
from casegraph.domain.lifecycle import State
from casegraph.domain.relations import Actor
from casegraph.services.records import CaseRecord, EventDraft, EventRecord


@dataclass(frozen=True)
class Transition:
    """An action about to be applied: the case before it, where it goes, who does it."""

    case: CaseRecord
    action: CaseAction
    target: State
    actor: Actor | None
    now: datetime


TransitionCheck = Callable[[Transition], Awaitable[None]]
AfterSequence = Callable[[EventRecord], Awaitable[None]]
ChangeHook = Callable[[CaseRecord, CaseRecord, EventDraft], Awaitable[AfterSequence | None]]
SequencedHook = Callable[[CaseRecord, CaseRecord, EventRecord], Awaitable[None]]

TRANSITION_CHECKS: list[TransitionCheck] = []
CHANGE_HOOKS: list[ChangeHook] = []
_installed = False


class ExtensionsNotInstalled(RuntimeError):
    """A case changed before the composition root installed the checks and hooks: running
    without them would skip rules and side effects (SLA timers, webhooks) silently."""

    def __init__(self) -> None:
        super().__init__(
            "case checks and change hooks are not installed: "
            "call casegraph.composition.install_case_extensions() at start-up"
        )


def install(*, checks: Sequence[TransitionCheck], hooks: Sequence[ChangeHook]) -> None:
    """Make ``checks`` and ``hooks`` the ones that run, in this order (again: the same result)."""
    global _installed
    TRANSITION_CHECKS[:] = checks
    CHANGE_HOOKS[:] = hooks
    _installed = True


async def check_transition(transition: Transition) -> None:
    if not _installed:
        raise ExtensionsNotInstalled()
    for check in TRANSITION_CHECKS:
        await check(transition)


async def prepare_change_hooks(before: CaseRecord, after: CaseRecord, event: EventDraft) -> list[AfterSequence]:
    """Every hook's first phase, in order; the steps to run once the event has its sequence."""
    if not _installed:
        raise ExtensionsNotInstalled()
    steps = []
    for hook in CHANGE_HOOKS:
        step = await hook(before, after, event)
        if step is not None:
            steps.append(step)
    return steps


async def finish_change_hooks(steps: Sequence[AfterSequence], event: EventRecord) -> None:
    for step in steps:
        await step(event)


async def run_change_hooks(before: CaseRecord, after: CaseRecord, event: EventRecord) -> None:
    """Both phases at once, for a change that appended its event already."""
    await finish_change_hooks(await prepare_change_hooks(before, after, event), event)


def after_sequence(hook: SequencedHook) -> ChangeHook:
    """A hook that needs the event's sequence (it writes it, or names it): all in the second phase."""

    async def prepared(before: CaseRecord, after: CaseRecord, event: EventDraft) -> AfterSequence:
        async def step(recorded: EventRecord) -> None:
            await hook(before, after, recorded)

        return step

    prepared.__name__ = prepared.__qualname__ = hook.__name__
    return prepared
