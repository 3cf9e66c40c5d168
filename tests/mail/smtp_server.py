"""A real SMTP server on loopback for the mail tests: aiosmtpd's Controller on 127.0.0.1 and a
free port, in its own thread, keeping every message it accepted."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True)
class Accepted:
    envelope_from: str
    recipients: tuple[str, ...]
    message: EmailMessage

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())

    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        assert part is not None
        return str(part.get_content())


@dataclass
class Recorder:
    """The handler: answers DATA with ``refusal`` while ``refusals_left`` lasts, then accepts."""

    accepted: list[Accepted] = field(default_factory=list)
    refusal: str = "451 4.3.0 Mailbox busy, try again later"
    refusals_left: int = 0
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        with self.lock:
            if self.refusals_left > 0:
                self.refusals_left -= 1
                self.refused += 1
                return self.refusal
            raw = envelope.original_content or b""
            message = BytesParser(policy=policy.default).parsebytes(raw)
            assert isinstance(message, EmailMessage)
            self.accepted.append(Accepted(str(envelope.mail_from), tuple(str(r) for r in envelope.rcpt_tos), message))
        return "250 2.0.0 Accepted"

    def to(self, address: str) -> list[Accepted]:
        with self.lock:
            return [mail for mail in self.accepted if address in mail.recipients]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    def __init__(self, **server_options: Any) -> None:
        self.recorder = Recorder()
        self.port = free_port()
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port, **server_options)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


def running_smtp_server(**server_options: Any) -> Iterator[SmtpServer]:
    server = SmtpServer(**server_options)
    server.start()
    try:
        yield server
    finally:
        server.stop()
