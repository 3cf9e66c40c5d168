"""Outbound webhooks (ADMIN): listing endpoints, registering, changing and removing one, and
retrying a failed delivery. The rules live in ``casegraph/services/webhooks.py``."""

from __future__ import annotations

import strawberry

from casegraph.services import webhooks as rules
from resolvers.pipeline import refusals_as_errors, run_mutation
from schema.context import Info
from schema.inputs import CreateWebhookEndpointInput, UpdateWebhookEndpointInput
from schema.payloads import DeleteWebhookEndpointPayload, WebhookDeliveryPayload, WebhookEndpointPayload, refused
from schema.types.webhooks import WebhookDelivery, WebhookEndpoint


async def webhook_endpoints(info: Info) -> list[WebhookEndpoint]:
    with refusals_as_errors():
        rows = await rules.list_endpoints(actor=info.context.require_actor())
    return [WebhookEndpoint.from_row(row) for row in rows]


async def create_webhook_endpoint(info: Info, input: CreateWebhookEndpointInput) -> WebhookEndpointPayload:
    return await run_mutation(
        info,
        refused=refused(WebhookEndpointPayload),
        call=lambda actor: rules.create_endpoint(
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


async def update_webhook_endpoint(info: Info, input: UpdateWebhookEndpointInput) -> WebhookEndpointPayload:
    return await run_mutation(
        info,
        refused=refused(WebhookEndpointPayload),
        call=lambda actor: rules.update_endpoint(
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


async def delete_webhook_endpoint(info: Info, id: strawberry.ID) -> DeleteWebhookEndpointPayload:
    return await run_mutation(
        info,
        refused=refused(DeleteWebhookEndpointPayload),
        call=lambda actor: rules.delete_endpoint(actor=actor, endpoint_id=str(id)),
        done=lambda _: DeleteWebhookEndpointPayload(deleted_id=id),
    )


async def retry_webhook_delivery(info: Info, id: strawberry.ID) -> WebhookDeliveryPayload:
    return await run_mutation(
        info,
        refused=refused(WebhookDeliveryPayload),
        call=lambda actor: rules.retry_delivery(actor=actor, delivery_id=str(id), now=info.context.clock()),
        done=lambda row: WebhookDeliveryPayload(delivery=WebhookDelivery.from_row(row)),
    )
