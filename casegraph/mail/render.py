"""A mail of the outbox as a MIME message: plain text and HTML from templates, in the
recipient's language, with the headers that thread it and let the recipient answer or opt out.

Templates are Jinja: ``<name>.txt`` and ``<name>.html`` for each mail, both extending
``layout.txt``/``layout.html``. A directory named by CASEGRAPH_MAIL_TEMPLATES is searched first,
so an agency overrides one file and keeps the others. HTML templates escape every value (the
catalogue's texts, the case's, the agent's); the text ones do not need to.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Final

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from casegraph.mail.catalogs import Catalogs
from casegraph.mail.dates import written_date, written_date_time

BUILT_IN: Final = Path(__file__).resolve().parent / "templates"
# Mails not about a case the recipient filed say so in their own footer.
FOOTERS: Final = {"sign_in": "sign_in.footer", "sign_in_staff": "sign_in.footer"}


@dataclass(frozen=True)
class Mail:
    """One row of the mail outbox, as the renderer needs it."""

    delivery_id: str
    event_sequence: int | None  # None: a staff notification no event caused
    case_id: str | None  # None: a mail about no case (a sign-in link)
    recipient: str
    template: str
    locale: str
    facts: dict[str, Any]


@dataclass(frozen=True)
class Extras:
    """What the sender adds to a row: links, the reply address, the question asked."""

    case_url: str
    reply_address: str | None = None
    reply_token: str | None = None
    unsubscribe_url: str | None = None
    question: str | None = None
    sign_in_url: str | None = None
    # A reply filed as a new request: the case it replied to, where the requester decides on it.
    follows_url: str | None = None
    # The service desk's own page (staff told to sign in there, not by link).
    desk_url: str | None = None


def _lines(text: object) -> Markup:
    """Escaped text whose line breaks stay line breaks in HTML."""
    return Markup("<br>\n").join(escape(line) for line in str(text or "").splitlines())


def one_line(text: str) -> str:
    """Header values hold no line breaks: a title's would otherwise end the header."""
    return " ".join(text.split())


def thread_root(case_id: str, domain: str) -> str:
    """The Message-ID every mail about a case refers to; the first mail (received) carries it."""
    return f"<case.{case_id}@{domain}>"


def message_id(mail: Mail, domain: str) -> str:
    if mail.template == "received" and mail.case_id is not None:
        return thread_root(mail.case_id, domain)
    if mail.event_sequence is None:
        return f"<mail.{mail.delivery_id}@{domain}>"
    recipient = hashlib.sha256(mail.recipient.lower().encode()).hexdigest()[:12]
    return f"<case.{mail.case_id}.{mail.event_sequence}.{recipient}@{domain}>"


class MailRenderer:
    def __init__(
        self, *, sender: str, override: Path | None = None, catalogs: Catalogs | None = None, time_zone: str = "UTC"
    ) -> None:
        self.sender = sender
        self.time_zone = time_zone
        self.catalogs = catalogs or Catalogs(override)
        directories = [str(override)] if override is not None else []
        self.environment = Environment(
            loader=ChoiceLoader([FileSystemLoader([*directories, str(BUILT_IN)])]),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.environment.filters["lines"] = _lines
        parsed = self._sender_address()
        self.domain = parsed.domain or "localhost"

    def _sender_address(self) -> Address:
        message = EmailMessage()
        message["From"] = self.sender
        return message["From"].addresses[0]  # type: ignore[no-any-return]

    def render(self, mail: Mail, extras: Extras, *, now: datetime) -> EmailMessage:
        texts = self.catalogs.texts(mail.locale)
        values = {key: ("" if value is None else value) for key, value in mail.facts.items()}
        # Moments are kept as ISO text in the row; the texts write them in the recipient's language.
        if mail.facts.get("at"):
            values["at"] = written_date_time(mail.facts["at"], texts.language, self.time_zone)
        if mail.facts.get("closes_at"):
            values["closes_on"] = written_date(mail.facts["closes_at"], texts.language, self.time_zone)
        kind = mail.facts.get("kind")
        if kind:
            # A staff notification: its kind in the recipient's words, for the subject.
            values["kind_label"] = texts.text(f"notification.{kind}", values)

        def t(key: str) -> str:
            return texts.text(key, values)

        code = mail.facts.get("resolution_code")
        subject = one_line(t(f"subject.{mail.template}"))
        if extras.reply_token is not None:
            # Replies carry the token back in the subject too, wherever the reply is sent.
            subject += f" [{extras.reply_token}]"
        context = {
            "t": t,
            "lang": texts.language,
            "subject": subject,
            "case": mail.facts,
            "case_url": extras.case_url,
            "question": extras.question or "",
            "reply_by_mail": extras.reply_address is not None,
            "outcome": texts.text(f"resolution.{code}", values) if code else "",
            "unsubscribe_url": extras.unsubscribe_url,
            "sign_in_url": extras.sign_in_url or "",
            "follows_url": extras.follows_url or "",
            "desk_url": extras.desk_url or "",
            "footer_key": FOOTERS.get(mail.template, "notification.footer" if kind else "footer"),
        }
        text = self.environment.get_template(f"{mail.template}.txt").render(context)
        html = self.environment.get_template(f"{mail.template}.html").render(context)

        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.recipient
        message["Subject"] = subject
        message["Date"] = format_datetime(now)
        message["Message-ID"] = message_id(mail, self.domain)
        if mail.template != "received" and mail.case_id is not None:
            root = thread_root(mail.case_id, self.domain)
            message["In-Reply-To"] = root
            message["References"] = root
        if extras.reply_address is not None:
            message["Reply-To"] = extras.reply_address
        if extras.unsubscribe_url is not None:
            # RFC 8058: a mail client's one-click unsubscribe POSTs to the link.
            message["List-Unsubscribe"] = f"<{extras.unsubscribe_url}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        # RFC 3834: out-of-office replies are not sent back to an automatic mail.
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        # After the parts: making the message multipart moves Content-* headers into its first part.
        message["Content-Language"] = texts.language
        return message
