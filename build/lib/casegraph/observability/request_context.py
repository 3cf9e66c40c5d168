"""What is known about the request being served, for logs, metrics and the event log.

A context variable, so it follows the request into every task it starts; no web imports, so
services may read it (the event log stamps each event with the request id).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class RequestScope:
    """One HTTP request or WebSocket connection; the GraphQL layer fills in who and what ran."""

    request_id: str
    actor_id: str | None = None
    # (operation type, operation name) for each GraphQL operation run (a batch runs several).
    operations: list[tuple[str, str]] = field(default_factory=list)


_current: ContextVar[RequestScope | None] = ContextVar("casegraph_request", default=None)


def current_scope() -> RequestScope | None:
    return _current.get()


def current_request_id() -> str | None:
    scope = _current.get()
    return scope.request_id if scope is not None else None


@contextlib.contextmanager
def request_scope(scope: RequestScope) -> Iterator[RequestScope]:
    """Make ``scope`` current for the block (and for tasks started in it)."""
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)
