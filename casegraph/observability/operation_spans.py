"""Strawberry's OpenTelemetry extension, made safe for personal data and tied to the request id.

Imported only when tracing is on (it needs the ``otel`` extra).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from graphql import GraphQLResolveInfo
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from strawberry.extensions import LifecycleStep
from strawberry.extensions.tracing.opentelemetry import OpenTelemetryExtension

from casegraph.observability.operations import operation_type
from casegraph.observability.request_context import current_request_id

REQUEST_ID_ATTRIBUTE = "casegraph.request_id"


def _no_arguments(arguments: dict[str, Any], info: GraphQLResolveInfo[Any]) -> dict[str, Any]:
    """Resolver arguments are not recorded on spans: they carry names, addresses and case text."""
    return {}


class OperationSpans(OpenTelemetryExtension):
    """One server span per operation with a child per parse, validation and resolver.

    Unlike the stock extension, the query text is left off the span (literals in it may be
    personal data); the request id, the operation type and an error status are put on it, and a
    caller's ``traceparent`` header makes the operation part of the caller's trace.
    """

    def __init__(self, *, tracer_provider: trace.TracerProvider) -> None:
        super().__init__(tracer_provider=tracer_provider, arg_filter=_no_arguments)

    def on_operation(self) -> Generator[None, None, None]:
        context = self.execution_context
        self._operation_name = context.operation_name
        span = self._tracer.start_span(
            _span_name(self._operation_name), kind=SpanKind.SERVER, context=_caller_context(context.context)
        )
        span.set_attribute("component", "graphql")
        request_id = current_request_id()
        if request_id is not None:
            span.set_attribute(REQUEST_ID_ATTRIBUTE, request_id)
        self._span_holder[LifecycleStep.OPERATION] = span
        try:
            yield
        finally:
            if not self._operation_name and context.operation_name:
                span.update_name(_span_name(context.operation_name))
            span.set_attribute("graphql.operation.type", operation_type(context))
            result = context.result
            if result.errors if result is not None else context.pre_execution_errors:
                span.set_status(Status(StatusCode.ERROR))
            span.end()


def _span_name(operation_name: str | None) -> str:
    return f"GraphQL Query: {operation_name}" if operation_name else "GraphQL Query"


def _caller_context(context: object) -> Any:
    request = getattr(context, "request", None)
    headers = getattr(request, "headers", None)
    if headers is None:
        return None
    return propagate.extract({key: value for key, value in headers.items() if key in ("traceparent", "tracestate")})
