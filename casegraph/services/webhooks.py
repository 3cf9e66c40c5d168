"""Outbound webhooks: endpoints an administrator registers, and the deliveries each event gets.

``enqueue_webhooks`` is a change hook (services/extensions.py): it runs inside the transaction
that recorded the event, so the deliveries commit or roll back with the change. Sending is the
dispatcher's job (casegraph/outbox_dispatcher.py). The payload carries only what an outside
system may see: no summaries of the action's input, no internal text.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import secrets
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit

from casegraph.database import statements
from casegraph.domain.enums import CaseEventType
from casegraph.domain.errors import not_found, validation_failed
from casegraph.domain.relations import Actor
from casegraph.services.admin import require_admin
from casegraph.services.extensions import AfterSequence
from casegraph.services.records import CaseRecord, EventDraft, EventRecord
from models import CaseType, DeliveryStatus, OutboxDelivery, WebhookEndpoint

URL_LIMIT = 2000
WEBHOOK = "webhook"


@dataclass(frozen=True)
class CreatedEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown once, here: the database keeps it only to sign with


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over ``<timestamp>.<body>``: the timestamp is signed too,
    so a receiver rejecting old timestamps also rejects replays."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def clean_url(url: str, *, allow_private: bool) -> str:
    """http(s) only; without ``allow_private``, loopback, private and link-local literal
    addresses (and ``localhost``) are refused so an admin token cannot aim the server inward."""
    url = url.strip()
    if len(url) > URL_LIMIT:
        raise validation_failed("url", f"At most {URL_LIMIT} characters.")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise validation_failed("url", "An http:// or https:// URL with a host is required.")
    if not allow_private:
        host = parts.hostname.lower()
        if host == "localhost" or host.endswith(".localhost"):
            raise validation_failed("url", "Loopback addresses are not allowed.")
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return url
        if not is_public(address):
            raise validation_failed("url", "Private, loopback and link-local addresses are not allowed.")
    return url


# IPv6 forms that carry an IPv4 address, and the withdrawn site-local range: IPv4-mapped and
# SIIT-translated, NAT64 (well-known and local-use prefixes), 6to4, IPv4-compatible (``::a.b.c.d``),
# site-local. A gateway or the host's own stack can turn them into the embedded IPv4 address, and
# ``is_global`` judges the IPv6 form, not the address reached: refused whatever they embed.
_V4_CARRYING: Final = tuple(
    ipaddress.IPv6Network(network)
    for network in (
        "::ffff:0:0/96",
        "::ffff:0:0:0/96",
        "64:ff9b::/96",
        "64:ff9b:1::/48",
        "2002::/16",
        "::/96",
        "fec0::/10",
    )
)


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """May the server send to this address when private targets are refused?"""
    if isinstance(address, ipaddress.IPv6Address) and any(address in network for network in _V4_CARRYING):
        return False
    return address.is_global


async def private_address_of(url: str) -> str | None:
    """The first non-public address ``url``'s host resolves to, or None.

    ``clean_url`` refuses literal addresses when an endpoint is saved; a host name can resolve
    inward later, so the dispatcher asks again before each send (an unresolvable name is left to
    the send itself to fail).
    """
    host = urlsplit(url).hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not is_public(address):
            return str(address)
    return None


def _clean_event_types(values: Sequence[str]) -> list[str]:
    known = {t.value for t in CaseEventType}
    cleaned = sorted({v.strip().upper() for v in values})
    unknown = [v for v in cleaned if v not in known]
    if unknown:
        raise validation_failed("eventTypes", f"Unknown event types: {', '.join(unknown)}.")
    return cleaned


async def _clean_case_type_codes(values: Sequence[str]) -> list[str]:
    cleaned = sorted({v.strip().upper() for v in values})
    found: set[str] = set()
    if cleaned:
        found = {str(code) for code in await CaseType.filter(code__in=cleaned).values_list("code", flat=True)}
    unknown = [v for v in cleaned if v not in found]
    if unknown:
        raise validation_failed("caseTypeCodes", f"Unknown case types: {', '.join(unknown)}.")
    return cleaned


async def create_endpoint(
    *,
    actor: Actor,
    url: str,
    event_types: Sequence[str],
    case_type_codes: Sequence[str],
    allow_private: bool,
    now: datetime,
) -> CreatedEndpoint:
    require_admin(actor)
    secret = secrets.token_hex(32)
    endpoint = await WebhookEndpoint.create(
        id=uuid.uuid4(),
        url=clean_url(url, allow_private=allow_private),
        secret=secret,
        event_types=_clean_event_types(event_types),
        case_type_codes=await _clean_case_type_codes(case_type_codes),
        active=True,
        created_by_id=actor.user_id,
        created_at=now,
    )
    return CreatedEndpoint(endpoint=endpoint, secret=secret)


async def _endpoint(endpoint_id: str) -> WebhookEndpoint:
    try:
        key = uuid.UUID(endpoint_id)
    except ValueError:
        raise not_found("Webhook endpoint") from None
    endpoint = await WebhookEndpoint.get_or_none(id=key)
    if endpoint is None:
        raise not_found("Webhook endpoint")
    return endpoint


async def update_endpoint(
    *,
    actor: Actor,
    endpoint_id: str,
    url: str | None,
    active: bool | None,
    event_types: Sequence[str] | None,
    case_type_codes: Sequence[str] | None,
    allow_private: bool,
) -> WebhookEndpoint:
    require_admin(actor)
    endpoint = await _endpoint(endpoint_id)
    if url is not None:
        endpoint.url = clean_url(url, allow_private=allow_private)
    if active is not None:
        endpoint.active = active
    if event_types is not None:
        endpoint.event_types = _clean_event_types(event_types)
    if case_type_codes is not None:
        endpoint.case_type_codes = await _clean_case_type_codes(case_type_codes)
    await endpoint.save()
    return endpoint


async def delete_endpoint(*, actor: Actor, endpoint_id: str) -> None:
    """Removes the endpoint and its delivery log (pending deliveries are not sent)."""
    require_admin(actor)
    endpoint = await _endpoint(endpoint_id)
    await endpoint.delete()


async def retry_delivery(*, actor: Actor, delivery_id: str, now: datetime) -> OutboxDelivery:
    """Requeue a FAILED delivery for a fresh round of attempts, due now."""
    require_admin(actor)
    try:
        key = uuid.UUID(delivery_id)
    except ValueError:
        raise not_found("Delivery") from None
    delivery = await OutboxDelivery.get_or_none(id=key)
    if delivery is None:
        raise not_found("Delivery")
    if delivery.status is not DeliveryStatus.FAILED:
        raise validation_failed("id", "Only a FAILED delivery can be retried.")
    updated = await OutboxDelivery.filter(id=key, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, last_error=None
    )
    if not updated:
        raise validation_failed("id", "Only a FAILED delivery can be retried.")
    await delivery.refresh_from_db()
    return delivery


async def list_endpoints(*, actor: Actor) -> list[WebhookEndpoint]:
    require_admin(actor)
    return await WebhookEndpoint.all().order_by("created_at", "id")


def event_payload(delivery_id: str, event: EventRecord, case: CaseRecord) -> dict[str, Any]:
    return {
        "deliveryId": delivery_id,
        "event": {
            "sequence": event.sequence,
            "id": str(event.sequence),  # the GraphQL CaseEvent id
            "type": event.type.value,
            "action": event.action.value,
            "caseId": event.case_id,
            "caseNumber": case.number,
            "fromStage": event.from_stage.value if event.from_stage else None,
            "fromStatus": event.from_status.value if event.from_status else None,
            "toStage": event.to_stage.value,
            "toStatus": event.to_status.value,
            "version": event.version,
            "occurredAt": event.occurred_at.isoformat(),
            "actorId": event.actor_id,
        },
    }


async def enqueue_webhooks(before: CaseRecord, after: CaseRecord, event: EventDraft) -> AfterSequence | None:
    """Change hook: one PENDING delivery per active endpoint whose filter matches the event.

    With no endpoints this is one small query; endpoints are read afresh so a new or paused
    endpoint counts from the next event in every server process. They are read in the first
    phase; the deliveries, which carry the event's sequence, are written in the second.
    """
    endpoints = await statements.fetch(WebhookEndpoint, {"active": True})
    if not endpoints:
        return None
    case_type_code: str | None = None
    if after.case_type_id is not None and any(e.case_type_codes for e in endpoints):
        row = await CaseType.filter(id=after.case_type_id).first().values("code")
        case_type_code = str(row["code"]) if row else None
    matching = [
        endpoint
        for endpoint in endpoints
        if (not endpoint.event_types or event.type.value in endpoint.event_types)
        and (not endpoint.case_type_codes or case_type_code in endpoint.case_type_codes)
    ]
    if not matching:
        return None

    async def write(recorded: EventRecord) -> None:
        rows = []
        for endpoint in matching:
            delivery_id = uuid.uuid4()
            rows.append(
                OutboxDelivery(
                    id=delivery_id,
                    kind=WEBHOOK,
                    endpoint_id=endpoint.id,
                    event_sequence=recorded.sequence,
                    event_type=recorded.type.value,
                    payload=event_payload(str(delivery_id), recorded, after),
                    status=DeliveryStatus.PENDING,
                    attempts=0,
                    next_attempt_at=recorded.occurred_at,
                    created_at=recorded.occurred_at,
                )
            )
        await OutboxDelivery.bulk_create(rows)

    return write
