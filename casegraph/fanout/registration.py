"""The seam between a subscription resolver and the fan-out path.

The WebSocket handler offers a registration while Strawberry sets an operation up; the
subscription resolver, once it has authorized the subscriber, hands it over with ``accept``
and ends its generator without yielding. ``casePresence`` and ``queueCounters`` hand theirs over
with ``share`` and a description of the state they follow (``PresenceSpec``, ``CountersSpec``):
every subscriber of the same state in the process is then served by one stream
(``streams.py``). Without an offer (the legacy protocol, schema-level
tests, queries) the resolver serves its feed as a generator, as before.

No schema or Strawberry imports here: the resolvers import this module.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from casegraph.domain.enums import CaseStatus
from casegraph.domain.relations import Actor
from casegraph.events.feed import FeedFilter
from casegraph.events.hub import EventHub
from casegraph.events.live import LiveEvents
from casegraph.events.presence import Viewer


@dataclass(frozen=True)
class PresenceSpec:
    """A ``casePresence`` subscriber: be on the case's board, follow who else is."""

    live: LiveEvents
    case_id: str
    user_id: str
    name: str | None
    editing: bool
    # The subscription field's value for a list of viewers (the schema's objects).
    render: Callable[[list[Viewer]], object]


@dataclass(frozen=True)
class CountersSpec:
    """A ``queueCounters`` subscriber: the open cases of one group, recounted after its events."""

    hub: EventHub
    group_id: int
    group_code: str
    # The subscription field's value for counts per status as of a log sequence.
    render: Callable[[dict[CaseStatus, int], int], object]


StreamSpec = PresenceSpec | CountersSpec


class LiveRegistration(Protocol):
    def accept(self, *, hub: EventHub, actor: Actor, flt: FeedFilter, after: int | None, info: Any) -> None:
        """Follow the events ``flt`` admits for ``actor`` (after ``after``, else from now)."""

    def share(self, *, spec: StreamSpec, info: Any) -> None:
        """Follow the state ``spec`` describes, served with every other subscriber of it."""


_offered: ContextVar[LiveRegistration | None] = ContextVar("casegraph_live_registration", default=None)


def live_registration() -> LiveRegistration | None:
    """The registration offered to the subscription being set up in this task, if any."""
    return _offered.get()


@contextlib.contextmanager
def offering(registration: LiveRegistration) -> Iterator[None]:
    token = _offered.set(registration)
    try:
        yield
    finally:
        _offered.reset(token)
