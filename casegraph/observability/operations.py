"""A schema extension recording each GraphQL operation: metrics, and who ran what for the access line."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Final

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from casegraph.observability.metrics import OPERATION_NAME, Metrics, error_code_label
from casegraph.observability.request_context import current_scope

SUBSCRIPTION: Final = "subscription"
# A WebSocket scope lives as long as its connection; its access line lists at most this many.
MAX_RECORDED_OPERATIONS: Final = 20


def operation_type(execution_context: ExecutionContext) -> str:
    """query, mutation or subscription; "unknown" when the document did not parse or name one."""
    try:
        return execution_context.operation_type.value
    except Exception:  # noqa: BLE001 - no document, or operationName names no operation
        return "unknown"


def logged_name(name: str | None) -> str:
    if not name:
        return "anonymous"
    return name if OPERATION_NAME.fullmatch(name) else "other"


def error_codes(errors: Iterable[GraphQLError], data: object) -> Iterator[str]:
    """Top-level error codes, then the codes of errors listed in mutation payloads (when selected)."""
    for error in errors:
        yield error_code_label((error.extensions or {}).get("code"))
    if isinstance(data, dict):
        for payload in data.values():
            listed = payload.get("errors") if isinstance(payload, dict) else None
            if isinstance(listed, list):
                for user_error in listed:
                    if isinstance(user_error, dict) and "code" in user_error:
                        yield error_code_label(user_error["code"])


class OperationInstruments(SchemaExtension):
    def __init__(self, *, metrics: Metrics) -> None:
        self.metrics = metrics
        self._subscribed = False

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        actor = getattr(self.execution_context.context, "actor", None)
        scope = current_scope()
        if scope is not None and actor is not None:
            scope.actor_id = actor.user_id
        try:
            yield
        finally:
            # Also when a subscription's client goes away: its task is cancelled through here.
            self._record(time.perf_counter() - started)

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.result is None and operation_type(context) == SUBSCRIPTION:
            self._subscribed = True
            self.metrics.active_subscriptions.inc()
        yield

    def _record(self, elapsed: float) -> None:
        context = self.execution_context
        kind = operation_type(context)
        name = context.operation_name
        metrics = self.metrics
        labels = (kind, metrics.operation_names.label(name))
        metrics.operations.labels(*labels).inc()
        if kind != SUBSCRIPTION:
            metrics.operation_duration.labels(*labels).observe(elapsed)
        if self._subscribed:
            self._subscribed = False
            metrics.active_subscriptions.dec()
        result = context.result
        errors = (result.errors if result is not None else context.pre_execution_errors) or []
        data = result.data if result is not None and kind == "mutation" else None
        for code in error_codes(errors, data):
            metrics.errors.labels(code).inc()
        scope = current_scope()
        if scope is not None and len(scope.operations) < MAX_RECORDED_OPERATIONS:
            scope.operations.append((kind, logged_name(name)))


def operation_instruments(metrics: Metrics) -> Callable[[], SchemaExtension]:
    """A factory, so every operation gets an instance of its own."""
    return lambda: OperationInstruments(metrics=metrics)
