"""The contract desk features plug into every case change by, without editing the action pipeline.

- ``TRANSITION_CHECKS`` run after the life-cycle table allowed an action and before anything is
  written; they refuse with a DomainError (usually TRANSITION_NOT_ALLOWED naming what is
  missing, e.g. an open playbook step or an open child case).
- ``CHANGE_HOOKS`` run inside the transaction that recorded an event, so what they write (SLA
  timers, links, counters) commits or rolls back with the change itself.

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
from casegraph.services.records import CaseRecord, EventRecord


@dataclass(frozen=True)
class Transition:
    """An action about to be applied: the case before it, where it goes, who does it."""

    case: CaseRecord
    action: CaseAction
    target: State
    actor: Actor | None
    now: datetime


TransitionCheck = Callable[[Transition], Awaitable[None]]
ChangeHook = Callable[[CaseRecord, CaseRecord, EventRecord], Awaitable[None]]

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


async def run_change_hooks(before: CaseRecord, after: CaseRecord, event: EventRecord) -> None:
    if not _installed:
        raise ExtensionsNotInstalled()
    for hook in CHANGE_HOOKS:
        await hook(before, after, event)
