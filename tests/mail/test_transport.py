"""Where mails go: a maildir when no SMTP server is configured, else SMTP — STARTTLS before a
password, implicit TLS for smtps:// — to real servers on loopback."""

from __future__ import annotations

import mailbox
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from casegraph.mail.transport import MaildirTransport, SmtpTransport
from casegraph.mail.wiring import mail_dispatcher, mail_transport
from casegraph.services.case_creation import NewCase, create_case
from casegraph.settings import Settings, parse_smtp_url
from models import DeliveryStatus, MailDelivery
from tests.helpers import FakeClock, RecordingPublisher, World
from tests.mail.smtp_server import SmtpServer, password_check, running_smtp_server, self_signed_tls


async def file_case(world: World, clock: FakeClock, publisher: RecordingPublisher) -> str:
    created = await create_case(
        actor=world.actor("requester"),
        new=NewCase(case_type_code="POTHOLE", title="Hole on Main St"),
        now=clock(),
        publisher=publisher,
    )
    return created.case.number


async def test_without_smtp_every_mail_lands_in_var_mail_under_the_working_directory(
    world: World, clock: FakeClock, publisher: RecordingPublisher, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the settings of `make run` (nothing about mail), started in tmp_path
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert isinstance(mail_transport(settings), MaildirTransport)
    number = await file_case(world, clock, publisher)

    # when
    await mail_dispatcher(settings, clock=clock).run_once()

    # then: one mail file, readable with any maildir reader
    [message] = list(mailbox.Maildir(tmp_path / "var" / "mail", create=False))
    assert str(message["To"]) == "alice@example.org"
    assert f"Case {number} received" in str(message["Subject"])
    assert await MailDelivery.filter(status=DeliveryStatus.DELIVERED).count() == 1


@pytest.fixture
def tls() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(the server's, the client's trusting it)"""
    return self_signed_tls()


@pytest.fixture
def starttls_server(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> Iterator[SmtpServer]:
    # STARTTLS required, and AUTH refused before it (aiosmtpd's auth_require_tls default)
    yield from running_smtp_server(
        tls_context=tls[0], require_starttls=True, authenticator=password_check("desk", "s3cret:pass")
    )


@pytest.fixture
def implicit_tls_server(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> Iterator[SmtpServer]:
    yield from running_smtp_server(ssl_context=tls[0])


async def test_smtp_with_credentials_starts_tls_before_it_logs_in(
    world: World,
    clock: FakeClock,
    publisher: RecordingPublisher,
    starttls_server: SmtpServer,
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    # given: smtp://desk:…@127.0.0.1:port, the password URL-encoded
    smtp = parse_smtp_url(starttls_server.url("smtp", "desk:s3cret%3Apass@"))
    assert smtp is not None and smtp.password == "s3cret:pass"
    settings = Settings(smtp=smtp, mail_from="desk@city.example")
    await file_case(world, clock, publisher)

    # when
    await mail_dispatcher(settings, clock=clock, transport=SmtpTransport(smtp, tls_context=tls[1])).run_once()

    # then
    [mail] = starttls_server.recorder.accepted
    assert mail.over_tls and mail.login == "desk"


async def test_smtps_speaks_tls_from_the_first_byte(
    world: World,
    clock: FakeClock,
    publisher: RecordingPublisher,
    implicit_tls_server: SmtpServer,
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    # given: a server that only speaks TLS
    smtp = parse_smtp_url(implicit_tls_server.url("smtps"))
    assert smtp is not None and smtp.implicit_tls
    settings = Settings(smtp=smtp, mail_from="desk@city.example")
    await file_case(world, clock, publisher)

    # when
    await mail_dispatcher(settings, clock=clock, transport=SmtpTransport(smtp, tls_context=tls[1])).run_once()

    # then
    [mail] = implicit_tls_server.recorder.accepted
    assert mail.over_tls


def test_a_password_is_never_sent_to_a_remote_server_without_starttls() -> None:
    remote = parse_smtp_url("smtp://desk:secret@mail.city.example:587")
    local = parse_smtp_url("smtp://127.0.0.1:2525")
    anonymous = parse_smtp_url("smtp://relay.city.example:25")
    implicit = parse_smtp_url("smtps://desk:secret@mail.city.example")
    assert remote is not None and local is not None and anonymous is not None and implicit is not None
    assert SmtpTransport(remote).start_tls is True  # required: refused if the server cannot
    assert SmtpTransport(local).start_tls is None  # when offered
    assert SmtpTransport(anonymous).start_tls is None
    assert SmtpTransport(implicit).start_tls is False and implicit.port == 465
