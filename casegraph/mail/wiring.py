"""The mail dispatcher a server process runs, built from its settings."""

from __future__ import annotations

from pathlib import Path

from casegraph.clock import Clock
from casegraph.mail.dispatcher import Links, MailDispatcher
from casegraph.mail.render import MailRenderer
from casegraph.mail.transport import MaildirTransport, MailTransport, SmtpTransport
from casegraph.services.reply_addresses import reply_addresses
from casegraph.settings import Settings


def mail_transport(settings: Settings) -> MailTransport:
    """SMTP when CASEGRAPH_SMTP_URL is set; otherwise the maildir, so no mail is lost unseen."""
    if settings.smtp is not None:
        return SmtpTransport(settings.smtp)
    return MaildirTransport(Path(settings.maildir))


def mail_dispatcher(settings: Settings, *, clock: Clock, transport: MailTransport | None = None) -> MailDispatcher:
    override = Path(settings.mail_templates) if settings.mail_templates else None
    return MailDispatcher(
        interval=settings.outbox_interval,
        clock=clock,
        transport=transport or mail_transport(settings),
        renderer=MailRenderer(sender=settings.sender, override=override, time_zone=settings.mail_timezone),
        links=Links(public_url=settings.public_url, unsubscribe_secret=settings.mail_signing_secret),
        reply=reply_addresses(settings),
        staff_sign_in_elsewhere=settings.oidc_issuer is not None,
    )
