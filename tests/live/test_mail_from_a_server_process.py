"""A real ``casegraph serve`` process mails requesters: to an SMTP server on loopback when
CASEGRAPH_SMTP_URL is set, else into ``var/mail`` under its working directory."""

from __future__ import annotations

import asyncio
import mailbox
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.live.support import (
    GraphQLHttp,
    ServerProcess,
    create_case,
    live_world,
    sqlite_server,
)
from tests.mail.smtp_server import SmtpServer, running_smtp_server

DEADLINE = 30.0
# Passes of the dispatcher: after a mail arrived, several more show no second copy follows.
INTERVAL = 0.05


def wait_until(condition: Callable[[], bool], server: ServerProcess) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, server.log_tail()
        time.sleep(INTERVAL)


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    yield from running_smtp_server()


@pytest.fixture(scope="module")
def smtp_server(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> Iterator[ServerProcess]:
    with sqlite_server(
        tmp_path_factory,
        "mail-smtp",
        smtp_url=smtp.url(),
        mail_from="Roads desk <desk@city.example>",
        outbox_interval=str(INTERVAL),
    ) as server:
        yield server


@pytest.fixture(scope="module")
def maildir_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with sqlite_server(tmp_path_factory, "mail-maildir", outbox_interval=str(INTERVAL)) as server:
        yield server


async def file_as_alice(server: ServerProcess, title: str) -> None:
    world = await asyncio.to_thread(live_world, server)
    async with GraphQLHttp(server.http_url) as gql:
        await create_case(gql, world, "alice", title)


def test_a_server_with_smtp_sends_the_acknowledgement_once(smtp_server: ServerProcess, smtp: SmtpServer) -> None:
    # when
    asyncio.run(file_as_alice(smtp_server, "Hole on Main St"))

    # then
    wait_until(lambda: len(smtp.recorder.to("alice@example.org")) == 1, smtp_server)
    time.sleep(INTERVAL * 10)  # ten more dispatcher passes
    [mail] = smtp.recorder.to("alice@example.org")
    assert "received: Hole on Main St" in str(mail.message["Subject"])
    assert mail.envelope_from == "desk@city.example"


def test_a_server_without_smtp_writes_the_mail_to_its_maildir(maildir_server: ServerProcess) -> None:
    # given
    maildir = Path(maildir_server.log_path).parent / "var" / "mail"

    # when
    asyncio.run(file_as_alice(maildir_server, "Broken lamp"))

    # then
    wait_until(lambda: (maildir / "new").is_dir() and any((maildir / "new").iterdir()), maildir_server)
    [message] = list(mailbox.Maildir(maildir, create=False))
    assert str(message["To"]) == "alice@example.org"
    assert "received: Broken lamp" in str(message["Subject"])
