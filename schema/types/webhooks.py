"""Outbound webhooks' types: endpoints and their delivery log. The log's computed fields resolve
in ``resolvers/webhook_deliveries.py``."""

from __future__ import annotations

from datetime import datetime

import strawberry

from casegraph.domain.enums import CaseEventType
from models import DeliveryStatus as DeliveryStatusModel
from models import OutboxDelivery
from models import WebhookEndpoint as EndpointRow
from resolvers import webhook_deliveries
from schema.context import Info

DeliveryStatus = strawberry.enum(DeliveryStatusModel, name="WebhookDeliveryStatus")


@strawberry.type(description="One event sent (or to be sent) to one endpoint.")
class WebhookDelivery:
    id: strawberry.ID = strawberry.field(description="Also sent as X-Casegraph-Delivery: receivers dedupe on it.")
    event_id: strawberry.ID = strawberry.field(description="The CaseEvent's id.")
    event_type: str
    status: DeliveryStatus  # type: ignore[valid-type]
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None = strawberry.field(description="Null once delivered or failed.")
    delivered_at: datetime | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: OutboxDelivery) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(str(row.id)),
            event_id=strawberry.ID(str(row.event_sequence)),
            event_type=row.event_type,
            status=row.status,
            attempts=row.attempts,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            next_attempt_at=row.next_attempt_at if row.status is DeliveryStatusModel.PENDING else None,
            delivered_at=row.delivered_at,
            created_at=row.created_at,
        )


@strawberry.type(description="A registered receiver of case events, with its delivery log.")
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    event_types: list[CaseEventType] = strawberry.field(description="Empty: every event type.")
    case_type_codes: list[str] = strawberry.field(description="Empty: every case type.")
    active: bool
    created_at: datetime

    @strawberry.field(description="HTTP status of the most recent attempt (null: none yet, or no answer).")
    async def last_status(self) -> int | None:
        return await webhook_deliveries.last_status(str(self.id))

    @strawberry.field
    async def last_delivered_at(self) -> datetime | None:
        return await webhook_deliveries.last_delivered_at(str(self.id))

    @strawberry.field
    async def pending_count(self) -> int:
        return await webhook_deliveries.count_in(str(self.id), DeliveryStatusModel.PENDING)

    @strawberry.field
    async def failed_count(self) -> int:
        return await webhook_deliveries.count_in(str(self.id), DeliveryStatusModel.FAILED)

    @strawberry.field(description="Most recent events first.")
    async def deliveries(
        self,
        info: Info,
        first: int | None = None,
        status: DeliveryStatus | None = None,  # type: ignore[valid-type]
    ) -> list[WebhookDelivery]:
        rows = await webhook_deliveries.deliveries(info, str(self.id), first, status)
        return [WebhookDelivery.from_row(row) for row in rows]

    @classmethod
    def from_row(cls, row: EndpointRow) -> WebhookEndpoint:
        return cls(
            id=strawberry.ID(str(row.id)),
            url=row.url,
            event_types=[CaseEventType(t) for t in row.event_types],
            case_type_codes=list(row.case_type_codes),
            active=row.active,
            created_at=row.created_at,
        )
