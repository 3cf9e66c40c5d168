"""What the application holds for its requests: settings, clock, publisher, guards, instruments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from casegraph.auth import TokenVerifier
from casegraph.clock import Clock, utc_now
from casegraph.composition import attachment_desk
from casegraph.events.live import LiveEvents
from casegraph.observability.metrics import Metrics
from casegraph.persisted_queries.caches import PersistedQueries
from casegraph.rate_limits import RateLimiter, build_rate_limiter
from casegraph.services.attachments import AttachmentDesk
from casegraph.services.publisher import NullPublisher, Publisher
from casegraph.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider


@dataclass
class Runtime:
    """What the lifespan sets up and requests use; tests may fill it in directly."""

    settings: Settings
    verifier: TokenVerifier
    clock: Clock = utc_now
    publisher: Publisher = field(default_factory=NullPublisher)
    live: LiveEvents | None = None
    persisted_queries: PersistedQueries = field(default_factory=PersistedQueries)
    # This application's own Prometheus instruments (a registry per app: tests do not collide).
    metrics: Metrics = field(default_factory=Metrics)
    # Set from settings.otel_endpoint by create_app; tests inject one with an in-memory exporter.
    tracer_provider: TracerProvider | None = None
    # From settings.rate_limits; reads the clock through the runtime so a test's clock counts.
    rate_limiter: RateLimiter = field(init=False)
    # Attachments' store, scanner and links (issue 18), as the composition root builds them.
    attachments: AttachmentDesk = field(init=False)

    def __post_init__(self) -> None:
        self.rate_limiter = build_rate_limiter(self.settings, clock=lambda: self.clock())
        self.attachments = attachment_desk(self.settings)
