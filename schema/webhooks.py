"""Outbound webhooks over GraphQL (ADMIN): endpoints, their delivery log, retrying a failure,
resolved by ``resolvers/webhooks.py``; the types are ``schema/types/webhooks.py``. The rules live
in ``casegraph/services/webhooks.py``, sending in ``casegraph/outbox_dispatcher.py``."""

from __future__ import annotations

import strawberry

from resolvers import webhooks
from schema.context import Info
from schema.inputs import CreateWebhookEndpointInput, UpdateWebhookEndpointInput
from schema.payloads import DeleteWebhookEndpointPayload, WebhookDeliveryPayload, WebhookEndpointPayload
from schema.types.webhooks import WebhookEndpoint


@strawberry.type
class WebhookQuery:
    @strawberry.field(description="Registered webhook endpoints with their delivery logs (ADMIN).")
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint]:
        return await webhooks.webhook_endpoints(info)


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(description="Register an endpoint for case events (ADMIN); its secret is shown once.")
    async def create_webhook_endpoint(self, info: Info, input: CreateWebhookEndpointInput) -> WebhookEndpointPayload:
        return await webhooks.create_webhook_endpoint(info, input)

    @strawberry.mutation(description="Change an endpoint's URL, filter or active flag (ADMIN).")
    async def update_webhook_endpoint(self, info: Info, input: UpdateWebhookEndpointInput) -> WebhookEndpointPayload:
        return await webhooks.update_webhook_endpoint(info, input)

    @strawberry.mutation(description="Remove an endpoint and its delivery log (ADMIN).")
    async def delete_webhook_endpoint(self, info: Info, id: strawberry.ID) -> DeleteWebhookEndpointPayload:
        return await webhooks.delete_webhook_endpoint(info, id)

    @strawberry.mutation(description="Send a FAILED delivery again, from its first attempt (ADMIN).")
    async def retry_webhook_delivery(self, info: Info, id: strawberry.ID) -> WebhookDeliveryPayload:
        return await webhooks.retry_webhook_delivery(info, id)
