"""A webhook endpoint's delivery log, as rows ``schema/types/webhooks.py`` wraps: the latest
attempt, the latest delivery, counts per status and the most recent deliveries."""

from __future__ import annotations

from datetime import datetime

from casegraph.services.page_sizes import checked_page_size
from models import DeliveryStatus, OutboxDelivery
from schema.context import Info


async def last_status(endpoint_id: str) -> int | None:
    row = (
        await OutboxDelivery.filter(endpoint_id=endpoint_id, last_attempt_at__isnull=False)
        .order_by("-last_attempt_at", "-event_sequence")
        .first()
    )
    return row.last_status_code if row else None


async def last_delivered_at(endpoint_id: str) -> datetime | None:
    row = (
        await OutboxDelivery.filter(endpoint_id=endpoint_id, delivered_at__isnull=False)
        .order_by("-delivered_at")
        .first()
    )
    return row.delivered_at if row else None


async def count_in(endpoint_id: str, status: DeliveryStatus) -> int:
    return await OutboxDelivery.filter(endpoint_id=endpoint_id, status=status).count()


async def deliveries(
    info: Info, endpoint_id: str, first: int | None, status: DeliveryStatus | None
) -> list[OutboxDelivery]:
    cap = info.context.max_page_size
    limit = checked_page_size(first, cap=cap, default=cap)
    query = OutboxDelivery.filter(endpoint_id=endpoint_id)
    if status is not None:
        query = query.filter(status=status)
    return await query.order_by("-event_sequence").limit(limit)
