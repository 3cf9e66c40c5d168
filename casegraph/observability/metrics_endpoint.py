"""``GET /metrics``: the instruments, plus what the event log says at scrape time.

SLA breaches and the log's head are read from the database, so every process (and every worker
of ``serve --workers N``) reports the same numbers. The delivered sequence is the answering
process's own hub: the lag says how far that process's live subscribers are behind the log.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from casegraph.domain.enums import CaseEventType
from casegraph.events.hub import EventHub, head_sequence
from casegraph.observability.metrics import Metrics
from models import CaseEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventLogSnapshot:
    sla_breaches: int
    head_sequence: int
    delivered_sequence: int | None  # None: this process runs no hub

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "casegraph_sla_breaches", "SLA_BREACHED events in the event log.", value=self.sla_breaches
        )
        yield GaugeMetricFamily(
            "casegraph_event_log_head_sequence", "Sequence of the newest event in the log.", value=self.head_sequence
        )
        if self.delivered_sequence is not None:
            yield GaugeMetricFamily(
                "casegraph_event_log_delivered_sequence",
                "Last sequence this process's hub has dispatched to its live subscribers.",
                value=self.delivered_sequence,
            )
            yield GaugeMetricFamily(
                "casegraph_event_log_lag_events",
                "Events in the log this process's hub has not dispatched yet.",
                value=max(self.head_sequence - self.delivered_sequence, 0),
            )


async def read_event_log(hub: EventHub | None) -> EventLogSnapshot:
    # The hub's position first: an event committed between the two reads then shows as lag,
    # never as the hub being ahead of the log.
    delivered = hub.last_sequence if hub is not None else None
    breaches = await CaseEvent.filter(type=CaseEventType.SLA_BREACHED).count()
    return EventLogSnapshot(sla_breaches=breaches, head_sequence=await head_sequence(), delivered_sequence=delivered)


def bearer_matches(header: str | None, token: str) -> bool:
    scheme, _, credentials = (header or "").partition(" ")
    # Compared in constant time, whatever the scheme, so timing tells nothing about the token.
    same = hmac.compare_digest(credentials.strip().encode(), token.encode())
    return same and scheme.lower() == "bearer"


def metrics_endpoint(
    metrics: Metrics, *, token: str | None, hub: Callable[[], EventHub | None]
) -> Callable[[Request], Any]:
    async def serve_metrics(request: Request) -> Response:
        if token is not None and not bearer_matches(request.headers.get("authorization"), token):
            return PlainTextResponse(
                "Send 'Authorization: Bearer <CASEGRAPH_METRICS_TOKEN>'.", 401, headers={"WWW-Authenticate": "Bearer"}
            )
        body = metrics.exposition()
        try:
            snapshot = await read_event_log(hub())
        except Exception:  # the process's own metrics still answer while the database is away
            log.warning("metrics: could not read the event log", exc_info=True)
        else:
            body += _render([snapshot])
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return serve_metrics


def _render(collectors: Iterable[EventLogSnapshot]) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry)
