"""Outbound webhooks over GraphQL (ADMIN): endpoints, their delivery log, retrying a failure.
The rules live in ``casegraph/services/webhooks.py``, sending in ``casegraph/outbox_dispatcher.py``."""

from __future__ import annotations

from datetime import datetime

import strawberry

from casegraph.domain.enums import CaseEventType
from casegraph.services import webhooks
from models import DeliveryStatus as DeliveryStatusModel
from models import OutboxDelivery
from models import WebhookEndpoint as EndpointRow
from resolvers.pipeline import refusals_as_errors, run_mutation
from schema.context import Info
from schema.payloads import refused
from schema.types.common import UserError

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
        row = (
            await OutboxDelivery.filter(endpoint_id=self.id, last_attempt_at__isnull=False)
            .order_by("-last_attempt_at", "-event_sequence")
            .first()
        )
        return row.last_status_code if row else None

    @strawberry.field
    async def last_delivered_at(self) -> datetime | None:
        row = (
            await OutboxDelivery.filter(endpoint_id=self.id, delivered_at__isnull=False)
            .order_by("-delivered_at")
            .first()
        )
        return row.delivered_at if row else None

    @strawberry.field
    async def pending_count(self) -> int:
        return await OutboxDelivery.filter(endpoint_id=self.id, status=DeliveryStatusModel.PENDING).count()

    @strawberry.field
    async def failed_count(self) -> int:
        return await OutboxDelivery.filter(endpoint_id=self.id, status=DeliveryStatusModel.FAILED).count()

    @strawberry.field(description="Most recent events first.")
    async def deliveries(
        self,
        info: Info,
        first: int | None = None,
        status: DeliveryStatus | None = None,  # type: ignore[valid-type]
    ) -> list[WebhookDelivery]:
        limit = min(first or info.context.max_page_size, info.context.max_page_size)
        query = OutboxDelivery.filter(endpoint_id=self.id)
        if status is not None:
            query = query.filter(status=status)
        rows = await query.order_by("-event_sequence").limit(limit)
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


@strawberry.input
class CreateWebhookEndpointInput:
    url: str = strawberry.field(description="http(s); loopback/private addresses are refused in production.")
    event_types: list[CaseEventType] = strawberry.field(default_factory=list, description="Empty: all.")
    case_type_codes: list[str] = strawberry.field(default_factory=list, description="Empty: all.")


@strawberry.input
class UpdateWebhookEndpointInput:
    id: strawberry.ID
    url: str | None = None
    active: bool | None = None
    event_types: list[CaseEventType] | None = None
    case_type_codes: list[str] | None = None


@strawberry.type
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint | None = None
    secret: str | None = strawberry.field(
        default=None, description="The signing secret: returned by createWebhookEndpoint only, never again."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteWebhookEndpointPayload:
    deleted_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class WebhookDeliveryPayload:
    delivery: WebhookDelivery | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class WebhookQuery:
    @strawberry.field(description="Registered webhook endpoints with their delivery logs (ADMIN).")
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint]:
        with refusals_as_errors():
            rows = await webhooks.list_endpoints(actor=info.context.require_actor())
        return [WebhookEndpoint.from_row(row) for row in rows]


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(description="Register an endpoint for case events (ADMIN); its secret is shown once.")
    async def create_webhook_endpoint(self, info: Info, input: CreateWebhookEndpointInput) -> WebhookEndpointPayload:
        return await run_mutation(
            info,
            refused=refused(WebhookEndpointPayload),
            call=lambda actor: webhooks.create_endpoint(
                actor=actor,
                url=input.url,
                event_types=[t.value for t in input.event_types],
                case_type_codes=input.case_type_codes,
                allow_private=info.context.webhooks_may_target_private,
                now=info.context.clock(),
            ),
            done=lambda created: WebhookEndpointPayload(
                endpoint=WebhookEndpoint.from_row(created.endpoint), secret=created.secret
            ),
        )

    @strawberry.mutation(description="Change an endpoint's URL, filter or active flag (ADMIN).")
    async def update_webhook_endpoint(self, info: Info, input: UpdateWebhookEndpointInput) -> WebhookEndpointPayload:
        return await run_mutation(
            info,
            refused=refused(WebhookEndpointPayload),
            call=lambda actor: webhooks.update_endpoint(
                actor=actor,
                endpoint_id=str(input.id),
                url=input.url,
                active=input.active,
                event_types=[t.value for t in input.event_types] if input.event_types is not None else None,
                case_type_codes=input.case_type_codes,
                allow_private=info.context.webhooks_may_target_private,
            ),
            done=lambda row: WebhookEndpointPayload(endpoint=WebhookEndpoint.from_row(row)),
        )

    @strawberry.mutation(description="Remove an endpoint and its delivery log (ADMIN).")
    async def delete_webhook_endpoint(self, info: Info, id: strawberry.ID) -> DeleteWebhookEndpointPayload:
        return await run_mutation(
            info,
            refused=refused(DeleteWebhookEndpointPayload),
            call=lambda actor: webhooks.delete_endpoint(actor=actor, endpoint_id=str(id)),
            done=lambda _: DeleteWebhookEndpointPayload(deleted_id=id),
        )

    @strawberry.mutation(description="Send a FAILED delivery again, from its first attempt (ADMIN).")
    async def retry_webhook_delivery(self, info: Info, id: strawberry.ID) -> WebhookDeliveryPayload:
        return await run_mutation(
            info,
            refused=refused(WebhookDeliveryPayload),
            call=lambda actor: webhooks.retry_delivery(actor=actor, delivery_id=str(id), now=info.context.clock()),
            done=lambda row: WebhookDeliveryPayload(delivery=WebhookDelivery.from_row(row)),
        )
