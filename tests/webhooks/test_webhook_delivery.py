"""Outbound webhooks end to end: events enqueued with the change, sent to a real receiver on
loopback by the dispatcher (driven at FakeClock readings), signed, retried, logged, administered."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from casegraph.delivery_queue import FAILED_RETENTION
from casegraph.domain.enums import CaseAction, ErrorCode
from casegraph.domain.errors import DomainError
from casegraph.outbox_dispatcher import OutboxDispatcher
from casegraph.services import webhooks
from casegraph.services.case_actions import ActionRequest, perform
from casegraph.services.case_changes import ActionResult
from casegraph.services.case_creation import NewCase, create_case
from casegraph.settings import Settings
from models import CaseEvent, DeliveryStatus, OutboxDelivery
from tests.helpers import FakeClock, GraphQLClient, RecordingPublisher, World
from tests.webhooks.receiver import Received, Receiver

HOUR = timedelta(hours=1)
CREATE = """mutation Create($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { id url eventTypes caseTypeCodes active }
    errors { code field message } }
}"""
ENDPOINTS = """query {
  webhookEndpoints { id url active lastStatus lastDeliveredAt pendingCount failedCount
    deliveries(first: 10) { id eventId eventType status attempts lastStatusCode lastError nextAttemptAt deliveredAt } }
}"""


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


async def endpoint(
    world: World,
    clock: FakeClock,
    url: str,
    *,
    event_types: list[str] | None = None,
    case_type_codes: list[str] | None = None,
) -> webhooks.CreatedEndpoint:
    return await webhooks.create_endpoint(
        actor=world.actor("admin"),
        url=url,
        event_types=event_types or [],
        case_type_codes=case_type_codes or [],
        allow_private=True,
        now=clock(),
    )


async def file_case(world: World, clock: FakeClock, publisher: RecordingPublisher, case_type: str = "POTHOLE") -> str:
    created = await create_case(
        actor=world.actor("requester"),
        new=NewCase(case_type_code=case_type, title="Hole"),
        now=clock(),
        publisher=publisher,
    )
    return created.case.id


async def drain(dispatcher: OutboxDispatcher, clock: FakeClock, passes: int = 12) -> None:
    """Passes an hour apart: every backoff used here has run out by the next one."""
    for _ in range(passes):
        await dispatcher.run_once()
        clock.advance(HOUR)


def verifies(secret: str, received: Received) -> bool:
    """What a receiver does: HMAC-SHA256 over "<timestamp>.<body>" with its secret."""
    timestamp = received.headers["x-casegraph-timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + received.body, hashlib.sha256)
    return hmac.compare_digest(received.headers["x-casegraph-signature"], "sha256=" + expected.hexdigest())


async def test_every_event_reaches_each_endpoint_once_after_failed_attempts_and_its_signature_verifies(
    world: World, clock: FakeClock, publisher: RecordingPublisher, receiver: Receiver
) -> None:
    # given: a receiver that answers 500 to the first two attempts of every delivery
    receiver.answer = lambda _delivery, attempt: 500 if attempt <= 2 else 200
    first = await endpoint(world, clock, receiver.base_url + "/one")
    second = await endpoint(world, clock, receiver.base_url + "/two")
    case_ids = [await file_case(world, clock, publisher) for _ in range(3)]
    await perform(
        actor=world.actor("agent"),
        request=ActionRequest(CaseAction.ASSIGN_TO_ME, case_ids[0]),
        now=clock(),
        publisher=publisher,
    )
    sequences = sorted(await CaseEvent.all().values_list("sequence", flat=True))
    assert len(sequences) == 4

    # when
    await drain(OutboxDispatcher(interval=0, clock=clock), clock)

    # then: per endpoint, each event accepted exactly once, after three attempts, signed
    for path, created in (("/one", first), ("/two", second)):
        accepted = receiver.accepted(path)
        assert sorted(r.json["event"]["sequence"] for r in accepted) == sequences
        assert len({r.headers["x-casegraph-delivery"] for r in accepted}) == len(accepted)
        assert all(receiver.attempts(r.headers["x-casegraph-delivery"]) == 3 for r in accepted)
        assert all(verifies(created.secret, r) for r in receiver.received if r.path == path)
        assert not any(verifies(created.secret, r) for r in receiver.received if r.path != path)
    # each endpoint got its own copy (its own delivery id)
    one = {r.headers["x-casegraph-delivery"] for r in receiver.accepted("/one")}
    two = {r.headers["x-casegraph-delivery"] for r in receiver.accepted("/two")}
    assert not one & two
    sample = receiver.accepted("/one")[0]
    assert sample.headers["content-type"] == "application/json"
    assert sample.headers["x-casegraph-event"] == sample.json["event"]["type"]
    assert sample.json["deliveryId"] == sample.headers["x-casegraph-delivery"]
    assert set(sample.json["event"]) == {
        "sequence",
        "id",
        "type",
        "action",
        "caseId",
        "caseNumber",
        "fromStage",
        "fromStatus",
        "toStage",
        "toStatus",
        "version",
        "occurredAt",
        "actorId",
    }
    assert await OutboxDelivery.filter(status=DeliveryStatus.DELIVERED).count() == 8


async def test_two_dispatchers_on_one_database_never_send_a_delivery_twice(
    world: World, clock: FakeClock, publisher: RecordingPublisher, receiver: Receiver
) -> None:
    # given: a receiver that accepts everything, and ten events
    await endpoint(world, clock, receiver.base_url + "/hook")
    for _ in range(10):
        await file_case(world, clock, publisher)
    one, two = OutboxDispatcher(interval=0, clock=clock), OutboxDispatcher(interval=0, clock=clock)

    # when: both pass at once, twice
    for _ in range(2):
        await asyncio.gather(one.run_once(), two.run_once())

    # then: ten POSTs, no duplicates at all
    assert len(receiver.received) == 10
    assert len({r.headers["x-casegraph-delivery"] for r in receiver.received}) == 10
    assert await OutboxDelivery.filter(status=DeliveryStatus.DELIVERED, attempts=1).count() == 10


async def test_endpoints_get_only_the_event_types_and_case_types_they_filter_on(
    world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given
    created_only = await endpoint(world, clock, "http://127.0.0.1:9/created", event_types=["CASE_CREATED"])
    questions_only = await endpoint(world, clock, "http://127.0.0.1:9/questions", case_type_codes=["QUESTION"])
    everything = await endpoint(world, clock, "http://127.0.0.1:9/all")

    # when: a pothole filed and taken (two events), a question filed (one)
    pothole = await file_case(world, clock, publisher)
    await perform(
        actor=world.actor("agent"),
        request=ActionRequest(CaseAction.ASSIGN_TO_ME, pothole),
        now=clock(),
        publisher=publisher,
    )
    await file_case(world, clock, publisher, case_type="QUESTION")

    # then
    async def types_for(created: webhooks.CreatedEndpoint) -> list[str]:
        rows = await OutboxDelivery.filter(endpoint_id=created.endpoint.id).order_by("event_sequence")
        return [row.event_type for row in rows]

    assert await types_for(created_only) == ["CASE_CREATED", "CASE_CREATED"]
    assert await types_for(questions_only) == ["CASE_CREATED"]
    assert len(await types_for(everything)) == 3
    assert (
        (await OutboxDelivery.filter(endpoint_id=questions_only.endpoint.id).first())
        .payload[  # type: ignore[union-attr]
            "event"
        ]["caseNumber"]
        .startswith("CS")
    )


async def test_an_inactive_endpoint_gets_nothing_enqueued(
    world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    created = await endpoint(world, clock, "http://127.0.0.1:9/paused")
    await webhooks.update_endpoint(
        actor=world.actor("admin"),
        endpoint_id=str(created.endpoint.id),
        url=None,
        active=False,
        event_types=None,
        case_type_codes=None,
        allow_private=True,
    )
    await file_case(world, clock, publisher)
    assert await OutboxDelivery.all().count() == 0


async def test_a_rolled_back_change_enqueues_nothing(
    world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given
    await endpoint(world, clock, "http://127.0.0.1:9/hook")

    async def fail(_result: ActionResult) -> None:
        raise RuntimeError("the request failed after the event was written")

    # when
    with pytest.raises(RuntimeError):
        await create_case(
            actor=world.actor("requester"),
            new=NewCase(case_type_code="POTHOLE", title="Hole"),
            now=clock(),
            publisher=publisher,
            on_success=fail,
        )

    # then
    assert await CaseEvent.all().count() == 0
    assert await OutboxDelivery.all().count() == 0


async def test_a_delivery_fails_after_the_last_attempt_shows_in_the_log_and_can_be_retried(
    world: World,
    clock: FakeClock,
    publisher: RecordingPublisher,
    receiver: Receiver,
    client: GraphQLClient,
    settings: Settings,
) -> None:
    # given: a receiver that is down (500), three attempts allowed
    receiver.answer = lambda _delivery, _attempt: 500
    await endpoint(world, clock, receiver.base_url + "/down")
    await file_case(world, clock, publisher)
    dispatcher = OutboxDispatcher(interval=0, clock=clock, max_attempts=3)

    # when
    await drain(dispatcher, clock)

    # then: three attempts, FAILED, visible over GraphQL
    assert len(receiver.received) == 3
    admin = world.token(settings, "admin")
    [logged] = (await client.data(ENDPOINTS, token=admin))["webhookEndpoints"]
    assert (logged["lastStatus"], logged["failedCount"], logged["pendingCount"]) == (500, 1, 0)
    assert logged["lastDeliveredAt"] is None
    [delivery] = logged["deliveries"]
    assert delivery | {"id": None, "eventId": None} == {
        "id": None,
        "eventId": None,
        "eventType": "CASE_CREATED",
        "status": "FAILED",
        "attempts": 3,
        "lastStatusCode": 500,
        "lastError": "HTTP 500",
        "nextAttemptAt": None,
        "deliveredAt": None,
    }

    # when: the receiver recovers and an admin retries the delivery
    receiver.answer = lambda _delivery, _attempt: 200
    retry = """mutation($id: ID!) { retryWebhookDelivery(id: $id) { delivery { status attempts } errors { code } } }"""
    retried = (await client.data(retry, {"id": delivery["id"]}, token=admin))["retryWebhookDelivery"]
    assert retried == {"delivery": {"status": "PENDING", "attempts": 0}, "errors": []}
    await drain(dispatcher, clock, passes=1)

    # then
    [logged] = (await client.data(ENDPOINTS, token=admin))["webhookEndpoints"]
    assert (logged["lastStatus"], logged["failedCount"], logged["pendingCount"]) == (200, 0, 0)
    assert logged["lastDeliveredAt"] is not None
    assert logged["deliveries"][0]["status"] == "DELIVERED"
    assert len(receiver.accepted()) == 1
    # a delivered one cannot be retried
    again = (await client.data(retry, {"id": delivery["id"]}, token=admin))["retryWebhookDelivery"]
    assert again["errors"] == [{"code": "VALIDATION_FAILED"}]


async def test_only_administrators_manage_webhooks(client: GraphQLClient, world: World, settings: Settings) -> None:
    agent = world.token(settings, "manager")
    created = await client.data(CREATE, {"input": {"url": "https://example.org/hook"}}, token=agent)
    assert created["createWebhookEndpoint"]["errors"][0]["code"] == "PERMISSION_DENIED"
    assert created["createWebhookEndpoint"]["secret"] is None
    listed = await client.execute(ENDPOINTS, token=agent)
    assert listed["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    retry = """mutation { retryWebhookDelivery(id: "x") { errors { code } } }"""
    assert (await client.data(retry, token=agent))["retryWebhookDelivery"]["errors"] == [{"code": "PERMISSION_DENIED"}]


async def test_the_secret_is_shown_once_on_creation(client: GraphQLClient, world: World, settings: Settings) -> None:
    admin = world.token(settings, "admin")
    created = (
        await client.data(
            CREATE,
            {
                "input": {
                    "url": "https://example.org/hook",
                    "eventTypes": ["CASE_CREATED"],
                    "caseTypeCodes": ["pothole"],
                }
            },
            token=admin,
        )
    )["createWebhookEndpoint"]
    assert len(created["secret"]) == 64 and created["errors"] == []
    assert created["endpoint"]["eventTypes"] == ["CASE_CREATED"]
    assert created["endpoint"]["caseTypeCodes"] == ["POTHOLE"]
    update = """mutation($id: ID!) { updateWebhookEndpoint(input: {id: $id, active: false}) {
      secret endpoint { active } errors { code } } }"""
    updated = (await client.data(update, {"id": created["endpoint"]["id"]}, token=admin))["updateWebhookEndpoint"]
    assert updated == {"secret": None, "endpoint": {"active": False}, "errors": []}
    leaked = await client.execute("query { webhookEndpoints { secret } }", token=admin)
    assert "Cannot query field 'secret'" in leaked["errors"][0]["message"]
    delete = """mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { deletedId errors { code } } }"""
    deleted = (await client.data(delete, {"id": created["endpoint"]["id"]}, token=admin))["deleteWebhookEndpoint"]
    assert deleted == {"deletedId": created["endpoint"]["id"], "errors": []}
    assert (await client.data(ENDPOINTS, token=admin))["webhookEndpoints"] == []


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/hook",
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "not a url",
    ],
)
async def test_production_refuses_urls_that_are_not_public_http(world: World, clock: FakeClock, url: str) -> None:
    with pytest.raises(DomainError) as refusal:
        await webhooks.create_endpoint(
            actor=world.actor("admin"),
            url=url,
            event_types=[],
            case_type_codes=[],
            allow_private=Settings(env="production").webhooks_may_target_private,
            now=clock(),
        )
    assert (refusal.value.code, refusal.value.field) == (ErrorCode.VALIDATION_FAILED, "url")


async def test_unknown_filters_are_refused(world: World, clock: FakeClock) -> None:
    for event_types, case_types, field in ((["NOPE"], [], "eventTypes"), ([], ["NOPE"], "caseTypeCodes")):
        with pytest.raises(DomainError) as refusal:
            await endpoint(
                world, clock, "https://example.org/hook", event_types=event_types, case_type_codes=case_types
            )
        assert refusal.value.field == field


async def test_the_background_dispatcher_sends_without_being_asked_and_stops(
    world: World, clock: FakeClock, publisher: RecordingPublisher, receiver: Receiver
) -> None:
    # given
    await endpoint(world, clock, receiver.base_url + "/hook")
    await file_case(world, clock, publisher)
    dispatcher = OutboxDispatcher(interval=0.01, clock=clock)

    # when
    await dispatcher.start()
    try:
        for _ in range(500):
            if receiver.received:
                break
            await asyncio.sleep(0.01)
    finally:
        await dispatcher.stop()

    # then
    assert len(receiver.accepted()) == 1
    assert not dispatcher.running
    assert await OutboxDelivery.filter(status=DeliveryStatus.DELIVERED).count() == 1


def test_the_dispatcher_interval_and_private_targets_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {"CASEGRAPH_OUTBOX_INTERVAL": "0", "CASEGRAPH_ENV": "production", "CASEGRAPH_WEBHOOK_ALLOW_PRIVATE": "true"}
    )
    assert (settings.outbox_interval, settings.webhooks_may_target_private) == (0.0, True)
    assert Settings.from_env({}).outbox_interval == 1.0
    assert not Settings(env="production").webhooks_may_target_private
    assert Settings().webhooks_may_target_private


async def test_delivered_messages_are_pruned_after_the_retention_and_failed_ones_are_kept(
    world: World, clock: FakeClock, publisher: RecordingPublisher, receiver: Receiver
) -> None:
    # given: a delivery failed for good (410, one attempt allowed), then two delivered
    receiver.answer = lambda _delivery, _attempt: 410
    await endpoint(world, clock, receiver.base_url + "/gone")
    await file_case(world, clock, publisher)
    dispatcher = OutboxDispatcher(interval=0, clock=clock, max_attempts=1)
    await dispatcher.run_once()
    receiver.answer = lambda _delivery, _attempt: 200
    await endpoint(world, clock, receiver.base_url + "/ok")
    await file_case(world, clock, publisher)
    await dispatcher.run_once()
    statuses = sorted(d.status.value for d in await OutboxDelivery.all())
    assert statuses == ["DELIVERED", "DELIVERED", "FAILED"]
    # when: pruning before the retention has passed, then after it
    assert await dispatcher.prune() == 0
    clock.advance(timedelta(days=31))
    assert await dispatcher.prune() == 2
    # then: only the failed one is left, for an administrator to retry
    assert [d.status.value for d in await OutboxDelivery.all()] == ["FAILED"]


@pytest.mark.parametrize("inward", ["127.0.0.1", "64:ff9b::7f00:1"])
async def test_a_host_name_resolving_to_a_private_address_is_not_sent_to_when_private_targets_are_refused(
    world: World,
    clock: FakeClock,
    publisher: RecordingPublisher,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    inward: str,
) -> None:
    # given: an endpoint saved under a public-looking name that now resolves to loopback
    # (the receiver's own port, so a send would succeed if it were made)
    port = receiver.base_url.rsplit(":", 1)[1]
    created = await endpoint(world, clock, f"http://hooks.example.org:{port}/hook")
    real_getaddrinfo = asyncio.get_running_loop().getaddrinfo

    async def resolve(host: str, *args: Any, **kwargs: Any) -> object:
        return await real_getaddrinfo(inward if host == "hooks.example.org" else host, *args, **kwargs)

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", resolve)
    await file_case(world, clock, publisher)
    # when: a production dispatcher (private targets refused) tries
    await OutboxDispatcher(interval=0, clock=clock, allow_private=False).run_once()
    # then: nothing was sent; the attempt failed with the reason, to be retried
    assert receiver.received == []
    [delivery] = await OutboxDelivery.filter(endpoint_id=created.endpoint.id)
    assert delivery.status is DeliveryStatus.PENDING and f"non-public address {ipaddress.ip_address(inward)}" in (
        delivery.last_error or ""
    )


async def test_a_failed_delivery_is_pruned_once_its_retention_after_the_last_attempt_has_passed(
    world: World, clock: FakeClock, publisher: RecordingPublisher, receiver: Receiver
) -> None:
    # given: a delivery failed for good (410, one attempt allowed)
    receiver.answer = lambda _delivery, _attempt: 410
    await endpoint(world, clock, receiver.base_url + "/gone")
    await file_case(world, clock, publisher)
    dispatcher = OutboxDispatcher(interval=0, clock=clock, max_attempts=1)
    await dispatcher.run_once()
    assert [d.status.value for d in await OutboxDelivery.all()] == ["FAILED"]
    # when: pruning just before the failed retention has passed, then after it
    clock.advance(FAILED_RETENTION - timedelta(minutes=1))
    kept = await dispatcher.prune()
    clock.advance(timedelta(minutes=2))
    pruned = await dispatcher.prune()
    # then
    assert (kept, pruned) == (0, 1)
    assert await OutboxDelivery.all().count() == 0
