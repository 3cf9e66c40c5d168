"""Sends outbox deliveries: a background task of each server process (started by the lifespan).

Every ``interval`` seconds (``CASEGRAPH_OUTBOX_INTERVAL``; 0 turns it off) it picks due PENDING
deliveries and claims each with one conditional UPDATE (``attempts`` as the version, pushing
``next_attempt_at`` a lease ahead), so several processes never send the same attempt twice. A
2xx answer marks it DELIVERED; anything else schedules the next attempt with backoff, until
``MAX_ATTEMPTS`` makes it FAILED. A process dying mid-send leaves the lease to expire and another
dispatcher retries: delivery is at least once, and receivers dedupe on X-Casegraph-Delivery.
Picking, claiming and pruning rows are the mail dispatcher's too (casegraph/delivery_queue.py).
Deliveries are sent in order of due time, not strictly per endpoint in event order: receivers
order by the event's ``sequence``.

Referral messages (kinds ``referral`` and ``referral_update``) go the same way to a partner
agency's GraphQL API (casegraph/partner_client.py); a refusal the partner will always repeat
fails them at once. The outcome of a referral is recorded on its case (services/referrals.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx

from casegraph import partner_client
from casegraph.clock import Clock
from casegraph.delivery_queue import ERROR_LIMIT, MAX_ATTEMPTS, DeliveryQueue, Pass, Tally, backoff, log_pass
from casegraph.services import referrals
from casegraph.services.publisher import NullPublisher, Publisher
from casegraph.services.referral_outbox import REFERRAL
from casegraph.services.webhooks import WEBHOOK, private_address_of, signature
from models import DeliveryStatus, OutboxDelivery, PartnerAgency, WebhookEndpoint

log = logging.getLogger("casegraph.outbox")

# A claimed delivery is not picked again for this long (covers the send's timeout many times).
LEASE = timedelta(seconds=60)
TIMEOUT = 5.0


class OutboxDispatcher(DeliveryQueue):
    task_name = "casegraph-outbox-dispatcher"
    log = log
    stop_grace = TIMEOUT * 2  # a send in progress may take its whole timeout
    model = OutboxDelivery
    lease = LEASE

    def __init__(
        self,
        *,
        interval: float,
        clock: Clock,
        max_attempts: int = MAX_ATTEMPTS,
        transport: httpx.AsyncBaseTransport | None = None,
        agency_code: str = "CASEGRAPH",
        publisher: Callable[[], Publisher] | None = None,
        allow_private: bool = True,
    ) -> None:
        super().__init__(interval=interval, clock=clock, max_attempts=max_attempts)
        self.agency_code = agency_code
        self._transport = transport
        self._publisher = publisher or NullPublisher
        # False in production (unless CASEGRAPH_WEBHOOK_ALLOW_PRIVATE): no sends to hosts that
        # resolve to loopback, private or link-local addresses.
        self.allow_private = allow_private

    async def run_once(self) -> Pass:
        now = self._clock()
        due = await self.due(now)
        if not due:
            return Pass()
        tally = Tally()
        async with httpx.AsyncClient(timeout=TIMEOUT, transport=self._transport, follow_redirects=False) as http:
            for row in due:
                if await self.claim(row, now):
                    tally.count(await self._send(http, row["id"], row["attempts"] + 1))
        result = tally.result()
        log_pass(log, "Outbox", result)
        return result

    async def _send(self, http: httpx.AsyncClient, delivery_id: object, attempts: int) -> DeliveryStatus:
        delivery = await OutboxDelivery.get_or_none(id=delivery_id)
        if delivery is not None and delivery.kind != WEBHOOK:
            return await self._send_to_partner(http, delivery, attempts)
        endpoint = await WebhookEndpoint.get_or_none(id=delivery.endpoint_id) if delivery else None
        if delivery is None or endpoint is None:
            return DeliveryStatus.FAILED  # the endpoint was deleted meanwhile, its log with it
        body = json.dumps(delivery.payload, separators=(",", ":")).encode()
        timestamp = int(self._clock().timestamp())
        headers = {
            "Content-Type": "application/json",
            "X-Casegraph-Event": delivery.event_type,
            "X-Casegraph-Delivery": str(delivery.id),
            "X-Casegraph-Timestamp": str(timestamp),
            "X-Casegraph-Signature": signature(endpoint.secret, timestamp, body),
        }
        status_code: int | None = None
        error: str | None = None
        try:
            inward = None if self.allow_private else await private_address_of(endpoint.url)
            if inward is not None:
                raise httpx.ConnectError(f"{endpoint.url} resolves to the non-public address {inward}")
            response = await http.post(endpoint.url, content=body, headers=headers)
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"[:ERROR_LIMIT]
        now = self._clock()
        if error is None:
            outcome = DeliveryStatus.DELIVERED
            changes: dict[str, object] = {"delivered_at": now, "last_error": None}
        elif attempts >= self.max_attempts or not endpoint.active:
            outcome = DeliveryStatus.FAILED
            changes = {"last_error": error}
        else:
            outcome = DeliveryStatus.PENDING
            changes = {"last_error": error, "next_attempt_at": now + backoff(attempts)}
        await OutboxDelivery.filter(id=delivery.id, attempts=attempts).update(
            status=outcome, last_status_code=status_code, **changes
        )
        return outcome

    async def _send_to_partner(
        self, http: httpx.AsyncClient, delivery: OutboxDelivery, attempts: int
    ) -> DeliveryStatus:
        partner = await PartnerAgency.get_or_none(id=delivery.partner_id)
        if partner is None:
            return DeliveryStatus.FAILED  # the partner was removed, its messages with it
        inward = None if self.allow_private else await private_address_of(partner.graphql_url)
        if inward is not None:
            answer = partner_client.Answer(
                False, error=f"{partner.graphql_url} resolves to the non-public address {inward}"
            )
        else:
            answer = await partner_client.send(
                http,
                partner=partner,
                kind=delivery.kind,
                payload=delivery.payload,
                sender=self.agency_code,
                now=self._clock(),
                request_id=f"outbox-{delivery.id}",
            )
        now = self._clock()
        if answer.ok:
            outcome = DeliveryStatus.DELIVERED
            changes: dict[str, object] = {"delivered_at": now, "last_error": None}
        elif answer.permanent or attempts >= self.max_attempts or not partner.active:
            outcome = DeliveryStatus.FAILED
            changes = {"last_error": answer.error}
        else:
            outcome = DeliveryStatus.PENDING
            changes = {"last_error": answer.error, "next_attempt_at": now + backoff(attempts)}
        updated = await OutboxDelivery.filter(id=delivery.id, attempts=attempts).update(
            status=outcome, last_status_code=answer.status_code, **changes
        )
        if updated and delivery.kind == REFERRAL and delivery.referral_id is not None:
            await self._record_referral(delivery.referral_id, outcome, answer, now)
        return outcome

    async def _record_referral(
        self, referral_id: Any, outcome: DeliveryStatus, answer: partner_client.Answer, now: datetime
    ) -> None:
        publisher = self._publisher()
        if outcome is DeliveryStatus.DELIVERED:
            received = (answer.data or {}).get("referral") or {}
            await referrals.mark_delivered(
                referral_id=referral_id,
                remote_case_id=str(received.get("caseId") or ""),
                remote_case_number=str(received.get("caseNumber") or ""),
                now=now,
                publisher=publisher,
            )
        elif outcome is DeliveryStatus.FAILED:
            await referrals.mark_failed(
                referral_id=referral_id, error=answer.error or "Failed.", now=now, publisher=publisher
            )
        else:
            await referrals.note_attempt_error(referral_id=referral_id, error=answer.error or "", now=now)
