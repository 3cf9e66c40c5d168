"""Prometheus instruments of one application, and their exposition.

Each application has its own registry, so tests (and several apps in one process) do not share
counts. Under ``casegraph serve --workers N`` the instruments write to files instead and a scrape
of any worker reports all of them (``worker_metrics``).
"""

from __future__ import annotations

import os
import re
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from casegraph.observability.worker_metrics import multiprocess_mode

OPERATION_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
ERROR_CODE: Final = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
MAX_OPERATION_NAMES: Final = 200
METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
DURATION_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class OperationNames:
    """Bounds the operation_name label: names are chosen by clients, series cost memory."""

    def __init__(self, limit: int = MAX_OPERATION_NAMES) -> None:
        self.limit = limit
        self._seen: set[str] = set()

    def label(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if not OPERATION_NAME.fullmatch(name):
            return "other"
        if name not in self._seen:
            if len(self._seen) >= self.limit:
                return "other"
            self._seen.add(name)
        return name


def error_code_label(code: object) -> str:
    if code is None:
        return "UNSPECIFIED"
    return code if isinstance(code, str) and ERROR_CODE.fullmatch(code) else "OTHER"


def method_label(method: str) -> str:
    return method if method in METHODS else "OTHER"


class Metrics:
    """The instruments; ``exposition()`` renders them (all workers' in multiprocess mode)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        operation_labels = ("operation_type", "operation_name")
        self.operations = Counter(
            "casegraph_graphql_operations",
            "GraphQL operations run, subscriptions counted as they end.",
            operation_labels,
            registry=registry,
        )
        self.operation_duration = Histogram(
            "casegraph_graphql_operation_duration_seconds",
            "Time to answer a query or mutation (subscriptions are not timed: they last as long as clients wish).",
            operation_labels,
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.errors = Counter(
            "casegraph_graphql_errors",
            "Errors by code: top-level errors and the errors listed in mutation payloads.",
            ("code",),
            registry=registry,
        )
        self.http_requests = Counter(
            "casegraph_http_requests",
            "HTTP requests answered.",
            ("method", "route", "status"),
            registry=registry,
        )
        self.http_duration = Histogram(
            "casegraph_http_request_duration_seconds",
            "Time to answer an HTTP request.",
            ("method", "route"),
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.active_subscriptions = Gauge(
            "casegraph_active_subscriptions",
            "GraphQL subscriptions running now.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.operation_names = OperationNames()

    def exposition(self) -> bytes:
        if multiprocess_mode():
            # A fresh registry per scrape: the collector reads every worker's files each time.
            merged = CollectorRegistry()
            MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
            return generate_latest(merged)
        return generate_latest(self.registry)


def forget_this_process() -> None:
    """At a worker's shutdown: drop its live gauges, so a scrape no longer sums them."""
    if multiprocess_mode():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
