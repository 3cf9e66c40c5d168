"""Where rendered mails go: an SMTP server (CASEGRAPH_SMTP_URL), or a local maildir without one.

A send either succeeds or raises ``SendFailure``, which says whether trying again later can help:
a 4xx answer, a refused or broken connection or a timeout can; a 5xx refusal of the sender, the
recipient or the message cannot (the mail is failed at once, like a partner's permanent refusal).
"""

from __future__ import annotations

import asyncio
import mailbox
import ssl
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Final, Protocol

import aiosmtplib

from casegraph.settings import SmtpServer

# Seconds per SMTP step (connect, each command): a slow server is retried later, not waited on.
TIMEOUT: Final = 15.0


class SendFailure(Exception):
    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


class MailTransport(Protocol):
    async def send(self, message: EmailMessage, recipient: str) -> None: ...


class MaildirTransport:
    """Every mail becomes a file in ``path``'s ``new/`` (Python's ``mailbox.Maildir``): what a
    newcomer's ``make run`` mails, readable with any mail client or ``cat``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def send(self, message: EmailMessage, recipient: str) -> None:
        try:
            await asyncio.to_thread(self._add, message)
        except OSError as error:
            raise SendFailure(f"maildir {self.path}: {error}", permanent=False) from None

    def _add(self, message: EmailMessage) -> None:
        # Maildir creates its own directory only, not var/ above it.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        mailbox.Maildir(self.path, create=True).add(message)


class SmtpTransport:
    """One connection per mail (mails are few, and a connection kept open would go stale).

    ``smtps://``: TLS from the start. ``smtp://``: STARTTLS whenever the server offers it, and
    insisted on before a password goes to a host that is not loopback, so credentials never cross
    the network in the clear.
    """

    def __init__(self, server: SmtpServer, *, timeout: float = TIMEOUT, tls_context: ssl.SSLContext | None = None):
        self.server = server
        self.timeout = timeout
        self.tls_context = tls_context

    @property
    def start_tls(self) -> bool | None:
        if self.server.implicit_tls:
            return False
        if self.server.username is not None and not self.server.loopback:
            return True
        return None  # upgrade when offered

    async def send(self, message: EmailMessage, recipient: str) -> None:
        sender = parseaddr(str(message["From"]))[1]
        try:
            await aiosmtplib.send(
                message,
                sender=sender,
                recipients=[recipient],
                hostname=self.server.host,
                port=self.server.port,
                username=self.server.username,
                password=self.server.password,
                use_tls=self.server.implicit_tls,
                start_tls=self.start_tls,
                tls_context=self.tls_context,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as refused:
            codes = [r.code for r in refused.recipients]
            raise SendFailure(f"recipient refused: {refused}", permanent=all(c >= 500 for c in codes)) from None
        except (aiosmtplib.SMTPSenderRefused, aiosmtplib.SMTPDataError) as refused:
            raise SendFailure(f"SMTP {refused.code}: {refused.message}", permanent=refused.code >= 500) from None
        except aiosmtplib.SMTPResponseException as answer:
            # Greeting, HELO, AUTH, STARTTLS refused: the server or our configuration, not this mail.
            raise SendFailure(f"SMTP {answer.code}: {answer.message}", permanent=False) from None
        except (aiosmtplib.SMTPException, OSError) as error:
            raise SendFailure(f"{type(error).__name__}: {error}", permanent=False) from None
