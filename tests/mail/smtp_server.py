"""A real SMTP server on loopback for the mail tests: aiosmtpd's Controller on 127.0.0.1 and a
free port, in its own thread, keeping every message it accepted."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Accepted:
    envelope_from: str
    recipients: tuple[str, ...]
    message: EmailMessage
    over_tls: bool = False
    login: str | None = None

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
            login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None
            self.accepted.append(
                Accepted(
                    str(envelope.mail_from),
                    tuple(str(r) for r in envelope.rcpt_tos),
                    message,
                    over_tls=server.transport is not None and server.transport.get_extra_info("ssl_object") is not None,
                    login=login.decode() if isinstance(login, bytes) else login,
                )
            )
        return "250 2.0.0 Accepted"

    def to(self, address: str) -> list[Accepted]:
        with self.lock:
            return [mail for mail in self.accepted if address in mail.recipients]


def password_check(login: str, password: str) -> Any:
    """An aiosmtpd authenticator accepting one login and password."""

    def authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        good = isinstance(data, LoginPassword) and (data.login, data.password) == (login.encode(), password.encode())
        return AuthResult(success=good, handled=False, auth_data=data)

    return authenticate


def self_signed_tls() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a fresh certificate for 127.0.0.1, and a client context trusting it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_pem = certificate.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with tempfile.TemporaryDirectory() as directory:
        certificate_file, key_file = Path(directory) / "cert.pem", Path(directory) / "key.pem"
        certificate_file.write_bytes(certificate_pem)
        key_file.write_bytes(key_pem)
        server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server.load_cert_chain(certificate_file, key_file)
    client = ssl.create_default_context(cadata=certificate_pem.decode())
    return server, client


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    def __init__(self, **server_options: Any) -> None:
        self.recorder = Recorder()
        self.port = free_port()
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port, **server_options)

    def url(self, scheme: str = "smtp", credentials: str = "") -> str:
        return f"{scheme}://{credentials}127.0.0.1:{self.port}"

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
