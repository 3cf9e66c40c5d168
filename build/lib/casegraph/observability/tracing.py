"""Optional OpenTelemetry tracing: spans for each GraphQL operation, sent over OTLP/HTTP.

On when ``CASEGRAPH_OTEL_ENDPOINT`` is set. The packages are an extra (``casegraph[otel]``), so
nothing here imports them at module level; a server told to trace without them refuses to start.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from strawberry.extensions import SchemaExtension

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

OTEL_MODULES: Final = ("opentelemetry.sdk.trace", "opentelemetry.exporter.otlp.proto.http.trace_exporter")
MISSING_OTEL: Final = (
    "CASEGRAPH_OTEL_ENDPOINT is set but the OpenTelemetry packages are not installed: "
    "pip install 'casegraph[otel]' (or unset CASEGRAPH_OTEL_ENDPOINT)."
)
SERVICE_NAME: Final = "casegraph"


def otel_problem() -> str | None:
    """Why tracing cannot be switched on here, or None."""
    for module in OTEL_MODULES:
        try:
            importlib.import_module(module)
        except ImportError:
            return MISSING_OTEL
    return None


def otlp_tracer_provider(endpoint: str) -> TracerProvider:
    """Spans batched and posted as OTLP/HTTP protobuf to ``endpoint`` (e.g. …:4318/v1/traces)."""
    problem = otel_problem()
    if problem is not None:
        raise RuntimeError(problem)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def tracing_extension(provider: TracerProvider) -> Callable[[], SchemaExtension]:
    from casegraph.observability.operation_spans import OperationSpans

    return lambda: OperationSpans(tracer_provider=provider)
