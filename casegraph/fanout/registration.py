"""The seam between a subscription resolver and the fan-out path.

The WebSocket handler offers a registration while Strawberry sets an operation up; the
subscription resolver, once it has authorized the subscriber, hands it over with ``accept``
and ends its generator without yielding. Without an offer (the legacy protocol, schema-level
tests, queries) the resolver serves its feed as a generator, as before.

No schema or Strawberry imports here: the resolvers import this module.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, Protocol

from casegraph.domain.relations import Actor
from casegraph.events.feed import FeedFilter
from casegraph.events.hub import EventHub


class LiveRegistration(Protocol):
    def accept(self, *, hub: EventHub, actor: Actor, flt: FeedFilter, after: int | None, info: Any) -> None:
        """Follow the events ``flt`` admits for ``actor`` (after ``after``, else from now)."""


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
