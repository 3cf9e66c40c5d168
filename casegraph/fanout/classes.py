"""One execution per visibility class: the loop every shared subscription payload goes through.

Subscribers of one plan that were sent the same root value (an event, a case's viewers, a
queue's counts) are grouped by the actor they act as. One of them executes the selection with a
``RecordingContext``; everyone whose actor ``shares`` what that execution read gets the same
payload. Those left over are served the same way, one more execution each time, until every
subscriber has its payload. An execution that read the connection serves its own subscriber
only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from strawberry.schema import Schema

from casegraph.domain.relations import Actor
from casegraph.fanout.execution import execute_payload, failure_payload
from casegraph.fanout.plans import Plan
from casegraph.fanout.viewer_reads import Reads, recording_context, shares
from schema.context import Context

log = logging.getLogger(__name__)


class Subscriber(Protocol):
    @property
    def context(self) -> Context: ...


S = TypeVar("S", bound=Subscriber)

# Called with a subscriber, its payload, and whether the execution failed (then it is the last).
Serve = Callable[[S, str, bool], None]


async def serve_classes(
    schema: Schema, plan: Plan, root: object, entries: Sequence[tuple[Actor, Sequence[S]]], serve: Serve[S]
) -> int:
    """Serve every subscriber in ``entries`` its payload for ``root``; the number of executions."""
    executions = 0
    remaining = [(actor, list(subscribers)) for actor, subscribers in entries if subscribers]
    while remaining:
        actor, subscribers = remaining[0]
        representative = subscribers[0]
        context = recording_context(representative.context, actor)
        executions += 1
        failed = False
        try:
            payload = await execute_payload(schema, plan, root, context)
        except Exception as error:  # as Strawberry: an error result, then the end
            log.exception("executing a subscription event failed")
            payload = await failure_payload(schema, plan, context, error)
            failed = True  # for everyone whose execution would have read the same facts
        reads = context.reads
        if reads & Reads.CONNECTION:
            serve(representative, payload, failed)
            rest = subscribers[1:]
            remaining = ([(actor, rest)] if rest else []) + remaining[1:]
            continue
        left: list[tuple[Actor, list[S]]] = []
        for entry in remaining:
            if shares(reads, actor, entry[0]):
                for subscriber in entry[1]:
                    serve(subscriber, payload, failed)
            else:
                left.append(entry)
        remaining = left
    return executions
