"""The one way a resolver meets a refusal.

A mutation field decodes its input, names the service to call and how to build its payload;
``run_mutation`` and ``run_case_change`` do the rest: they require the actor, apply the
idempotency key (api.md *Idempotency*), and turn a ``DomainError`` into the payload's ``errors``
(a refusal is data, never a top-level error). Queries and subscriptions, which have no payload,
report a refusal as a top-level error carrying the same code (``refusals_as_errors``) or, where
the contract says a hidden object reads as absent, as ``None`` (``hidden_as_none``).

Outside this module no resolver catches ``DomainError`` (tests/graphql/test_one_pipeline.py).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import Enum
from typing import Any, Protocol, TypeVar, cast

from casegraph.domain.errors import DomainError
from casegraph.domain.relations import Actor
from casegraph.services.case_changes import ActionResult
from casegraph.services.idempotency import input_fingerprint, run_idempotent
from casegraph.services.publisher import Publisher
from resolvers.loaders import UserById
from schema.context import Info, query_error

R = TypeVar("R")
P = TypeVar("P")
T = TypeVar("T")

OnSuccess = Callable[[ActionResult], Awaitable[None]]
Refused = Callable[[DomainError], P]
Done = Callable[[R], "P | Awaitable[P]"]


class CaseChange(Protocol):
    """A service call with its command bound (``functools.partial``) that records a case event.

    ``on_success`` runs inside the change's transaction: the idempotency record is stored there.
    """

    def __call__(
        self, *, actor: Actor, now: datetime, publisher: Publisher, on_success: OnSuccess | None
    ) -> Awaitable[ActionResult]: ...


async def run_mutation(
    info: Info, *, refused: Refused[P], call: Callable[[Actor], Awaitable[R]], done: Done[R, P]
) -> P:
    """A mutation without an idempotency key: the service's refusal becomes the payload's errors."""
    actor = info.context.require_actor()
    try:
        result = await call(actor)
    except DomainError as refusal:
        return refused(refusal)
    return await _payload(done, result)


async def run_anonymous_mutation(
    info: Info, *, refused: Refused[P], call: Callable[[], Awaitable[R]], done: Done[R, P]
) -> P:
    """A mutation a caller without a token may use too (schema.ANONYMOUS_FIELDS): no actor."""
    try:
        result = await call()
    except DomainError as refusal:
        return refused(refusal)
    return await _payload(done, result)


async def run_case_change(
    info: Info,
    operation: str,
    input: object,
    *,
    refused: Refused[P],
    change: CaseChange,
    done: Done[ActionResult, P],
    fingerprint: dict[str, Any] | None = None,
) -> P:
    """A mutation that records a case event; repeats with the input's ``idempotencyKey`` replay it.

    ``fingerprint``: what a repeat must match, when the input's plain fields cannot say it (an
    uploaded file is matched by its bytes' digest).
    """
    actor = info.context.require_actor()
    now = info.context.clock()
    publisher = info.context.publisher

    async def run(on_success: OnSuccess | None) -> ActionResult:
        return await change(actor=actor, now=now, publisher=publisher, on_success=on_success)

    key = getattr(input, "idempotency_key", None)
    try:
        if key is None:
            result = await run(None)
        else:
            result = await run_idempotent(
                user_id=actor.user_id,
                key=key,
                operation=operation,
                input_hash=input_fingerprint(operation, fingerprint or _fingerprint(input)),
                now=now,
                run=run,
            )
    except DomainError as refusal:
        return refused(refusal)
    for user in result.users:
        # What the change committed for these users is what a read would find: no second read.
        info.context.loaders[UserById].prime(user.id, user)
    return await _payload(done, result)


@contextmanager
def refusals_as_errors() -> Iterator[None]:
    """In a query or subscription: a refusal is a top-level error with its code and field."""
    try:
        yield
    except DomainError as refusal:
        raise query_error(refusal) from None


async def hidden_as_none(lookup: Awaitable[T]) -> T | None:
    """A single-object query: what the viewer may not see reads as absent (api.md *Visibility*)."""
    try:
        return await lookup
    except DomainError:
        return None


async def _payload(done: Done[R, P], result: R) -> P:
    payload = done(result)
    if inspect.isawaitable(payload):
        return cast(P, await payload)
    return payload


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _fingerprint(input: object) -> dict[str, Any]:
    """The input by its GraphQL names, idempotency key aside: what a repeat must match.

    Kept byte-for-byte what it was, so keys stored before this code still replay.
    """
    data = _plain(input)
    assert isinstance(data, dict)
    return {name: value for name, value in data.items() if name != "idempotencyKey"}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {_camel(f.name): _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    return value
