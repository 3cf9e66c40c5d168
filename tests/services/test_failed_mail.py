"""Mails that gave up are listed and queued again (services/failed_mail.py), on both backends:
the deliveries fail for real, at a loopback SMTP server that refuses them for good."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from tortoise.context import TortoiseContext

from casegraph.domain.enums import ErrorCode
from casegraph.domain.errors import DomainError
from casegraph.mail.dispatcher import MailDispatcher
from casegraph.mail.wiring import mail_dispatcher
from casegraph.services import sign_in
from casegraph.services.case_creation import NewCase, create_case
from casegraph.services.failed_mail import failed_mails, retry_failed_mails
from casegraph.settings import Settings, parse_smtp_url
from models import DeliveryStatus, MailDelivery
from tests.helpers import FakeClock, RecordingPublisher, World
from tests.mail.smtp_server import SmtpServer, running_smtp_server

HOUR = timedelta(hours=1)
REFUSAL = "550 5.1.1 No such mailbox"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    yield from running_smtp_server()


@pytest.fixture
def dispatcher(smtp: SmtpServer, clock: FakeClock) -> MailDispatcher:
    settings = Settings(
        jwt_secret="test-secret-for-casegraph-tests-only",
        smtp=parse_smtp_url(smtp.url()),
        mail_from="Roads desk <desk@city.example>",
        public_url="https://city.example",
    )
    return mail_dispatcher(settings, clock=clock)


async def file_refused(
    world: World,
    clock: FakeClock,
    publisher: RecordingPublisher,
    smtp: SmtpServer,
    dispatcher: MailDispatcher,
    title: str,
) -> None:
    """A case whose acknowledgement the SMTP server refuses for good."""
    smtp.recorder.refusals_left += 1
    smtp.recorder.refusal = REFUSAL
    await create_case(
        actor=world.actor("requester"),
        new=NewCase(case_type_code="POTHOLE", title=title),
        now=clock(),
        publisher=publisher,
    )
    await dispatcher.run_once()


async def test_failed_mails_are_listed_with_why_and_a_retry_sends_them(
    db: TortoiseContext,
    world: World,
    clock: FakeClock,
    publisher: RecordingPublisher,
    smtp: SmtpServer,
    dispatcher: MailDispatcher,
) -> None:
    # given: two acknowledgements the server refused for good, and one it took
    await file_refused(world, clock, publisher, smtp, dispatcher, "Hole on Main St")
    await file_refused(world, clock, publisher, smtp, dispatcher, "Lamp out")
    await create_case(
        actor=world.actor("requester"),
        new=NewCase(case_type_code="POTHOLE", title="Bins"),
        now=clock(),
        publisher=publisher,
    )
    await dispatcher.run_once()
    # when
    failed = await failed_mails()
    # then: the two, oldest first, with the recipient, the case and the server's answer
    assert [(mail.recipient, mail.template, mail.attempts) for mail in failed] == [
        ("alice@example.org", "received", 1),
        ("alice@example.org", "received", 1),
    ]
    for mail in failed:
        assert mail.case_number is not None and "550" in (mail.last_error or ""), mail
        assert "No such mailbox" in (mail.last_error or ""), mail
    # when: the operator retries one, and the server now takes it
    retried = await retry_failed_mails(ids=[failed[0].id], now=clock())
    clock.advance(HOUR)
    await dispatcher.run_once()
    # then: that one is delivered (with a fresh count of attempts), the other still failed
    assert retried.queued == (failed[0].id,) and retried.expired_links == ()
    delivered = await MailDelivery.get(id=failed[0].id)
    assert delivered.status is DeliveryStatus.DELIVERED and delivered.attempts == 1
    assert [mail.id for mail in await failed_mails()] == [failed[1].id]
    assert len(smtp.recorder.to("alice@example.org")) == 2
    # when: --all
    assert (await retry_failed_mails(ids=None, now=clock())).queued == (failed[1].id,)
    await dispatcher.run_once()
    assert await failed_mails() == []


async def test_retrying_an_id_that_is_no_failed_delivery_changes_nothing(
    db: TortoiseContext,
    world: World,
    clock: FakeClock,
    publisher: RecordingPublisher,
    smtp: SmtpServer,
    dispatcher: MailDispatcher,
) -> None:
    # given: one failed mail
    await file_refused(world, clock, publisher, smtp, dispatcher, "Hole on Main St")
    [failed] = await failed_mails()
    # when / then: with an unknown id beside it, or a malformed one, nothing is queued
    with pytest.raises(DomainError) as unknown:
        await retry_failed_mails(ids=[failed.id, "3f2b6f1e-0000-4000-8000-000000000000"], now=clock())
    with pytest.raises(DomainError) as malformed:
        await retry_failed_mails(ids=["not-an-id"], now=clock())
    assert unknown.value.code is ErrorCode.NOT_FOUND and malformed.value.code is ErrorCode.VALIDATION_FAILED
    assert [mail.id for mail in await failed_mails()] == [failed.id]


async def test_a_sign_in_mail_whose_link_expired_is_not_sent_again(
    db: TortoiseContext, clock: FakeClock, smtp: SmtpServer, dispatcher: MailDispatcher
) -> None:
    # given: a sign-in link's mail refused for good, and the link's 15 minutes over
    smtp.recorder.refusals_left = 1
    smtp.recorder.refusal = REFUSAL
    await sign_in.request_sign_in_link(
        email="nina@example.org", client="192.0.2.1", locale="en", now=clock(), signing_secret="s" * 32
    )
    await dispatcher.run_once()
    [failed] = await failed_mails()
    clock.advance(sign_in.LINK_LIFETIME)
    # when
    retried = await retry_failed_mails(ids=None, now=clock())
    # then: left failed, and the operator told why
    assert retried.queued == () and retried.expired_links == (failed.id,)
    assert [mail.id for mail in await failed_mails()] == [failed.id]
