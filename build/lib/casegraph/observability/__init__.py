"""Request ids, structured logs, Prometheus metrics and optional OpenTelemetry tracing.

``request_context`` has no web imports: services read the current request id from it.
"""
