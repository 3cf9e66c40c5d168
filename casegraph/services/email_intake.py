"""Inbound e-mail (issue 4, *Multichannel intake*).

A mail gateway posts the raw RFC 822 message. The sender is provisioned as a constituent by
address. A subject carrying one of the sender's case numbers (``CS0001234``) adds the mail as a
public comment to that case, which (per the life-cycle table) returns it from AWAITING_INFO;
any other mail files a new case of the configured intake case type, channel EMAIL. Redelivery
of the same Message-ID returns the first result and stores nothing new.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Final

from casegraph.domain.enums import CaseAction, Channel, Role
from casegraph.domain.errors import not_found, validation_failed
from casegraph.domain.validation import TEXT_LIMIT, TITLE_LIMIT, courtesy_text
from casegraph.services.case_actions import ActionRequest, perform
from casegraph.services.case_changes import ActionResult
from casegraph.services.case_creation import NewCase, create_case
from casegraph.services.column_limits import max_length
from casegraph.services.idempotency import run_idempotent
from casegraph.services.publisher import Publisher
from casegraph.services.users import Claims, build_actor, provision
from models import Case, User

EMAIL_USER_PREFIX: Final = "email:"

MAX_MESSAGE_BYTES: Final = 1_000_000
CASE_NUMBER: Final = re.compile(r"\bCS\d{7}\b")
TAGS: Final = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class InboundMail:
    address: str
    display_name: str | None
    subject: str
    body: str
    message_id: str | None
    attachments: tuple[str, ...]


@dataclass(frozen=True)
class IntakeResult:
    action: str  # "created" or "commented"
    case_id: str
    number: str


def parse_message(raw: bytes) -> InboundMail:
    """The parts of a raw message we use; VALIDATION_FAILED (field ``message``) if unusable."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise validation_failed("message", f"The message is larger than {MAX_MESSAGE_BYTES} bytes.")
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        sender = message["From"]
        addresses: tuple[Address, ...] = sender.addresses if sender is not None else ()
        subject = str(message["Subject"] or "").strip()
        body_part = message.get_body(preferencelist=("plain", "html"))
        body = body_part.get_content() if body_part is not None else ""
        if body_part is not None and body_part.get_content_type() == "text/html":
            body = TAGS.sub(" ", body)
        attachments = tuple(
            part.get_filename() or "attachment" for part in message.iter_attachments()
        )
        message_id = str(message["Message-ID"] or "").strip() or None
    except (ValueError, LookupError, TypeError, AssertionError, AttributeError) as error:
        raise validation_failed("message", f"Not a readable RFC 822 message ({type(error).__name__}).") from None
    if len(addresses) != 1 or not addresses[0].addr_spec or "@" not in addresses[0].addr_spec:
        raise validation_failed("message", "The message needs exactly one From address.")
    # The sender becomes a user keyed "email:<address>": the address must fit that key.
    longest = max_length(User, "id") - len(EMAIL_USER_PREFIX)
    if len(addresses[0].addr_spec) > longest or "\x00" in addresses[0].addr_spec:
        raise validation_failed("message", f"The From address must be at most {longest} characters.")
    body = "\n".join(line.rstrip() for line in body.strip().splitlines())
    if not subject and not body:
        raise validation_failed("message", "The message has neither a subject nor a text body.")
    return InboundMail(
        address=addresses[0].addr_spec.lower(),
        # A display name is a courtesy: cut to its column, dropped if it holds NUL.
        display_name=(courtesy_text(addresses[0].display_name, max_length(User, "name")) or "").strip() or None,
        subject=subject,
        body=body,
        message_id=message_id,
        attachments=attachments,
    )


async def receive_email(
    *, raw: bytes, intake_case_type: str | None, now: datetime, publisher: Publisher
) -> IntakeResult:
    mail = parse_message(raw)
    user_id = await _constituent_for(mail, now)
    actor = await build_actor(Claims(sub=user_id, roles=frozenset({Role.CONSTITUENT}), name=mail.display_name, email=mail.address))
    numbers = CASE_NUMBER.findall(mail.subject)
    text = mail.body or mail.subject
    if mail.attachments:
        text += "\n\n(Attachments not stored: " + ", ".join(mail.attachments) + ")"
    if len(text) > TEXT_LIMIT:
        raise validation_failed("message", f"The message text is longer than {TEXT_LIMIT} characters.")

    async def act(on_success: Callable[[ActionResult], Awaitable[None]] | None) -> ActionResult:
        if numbers:
            case_id = await Case.filter(number=numbers[0], requester_id=user_id).values_list("id", flat=True)
            if not case_id:
                raise not_found()
            return await perform(
                actor=actor,
                request=ActionRequest(CaseAction.UPDATE, str(case_id[0]), params={"comment": text}),
                now=now, publisher=publisher, on_success=on_success,
            )
        if intake_case_type is None:
            raise validation_failed("message", "E-mail intake has no case type configured (CASEGRAPH_INTAKE_CASE_TYPE).")
        return await create_case(
            actor=actor,
            new=NewCase(
                case_type_code=intake_case_type,
                title=(mail.subject or mail.body.splitlines()[0])[:TITLE_LIMIT],
                description=text,
                contact_email=mail.address,
            ),
            now=now, publisher=publisher, on_success=on_success, via=Channel.EMAIL,
        )

    if mail.message_id is not None:
        key = "mail:" + hashlib.sha256(mail.message_id.encode()).hexdigest()
        result = await run_idempotent(
            user_id=user_id, key=key, operation="emailIntake",
            input_hash=hashlib.sha256(raw).hexdigest(), now=now, run=act,
        )
    else:
        result = await act(None)
    return IntakeResult("commented" if numbers else "created", result.case.id, result.case.number)


async def _constituent_for(mail: InboundMail, now: datetime) -> str:
    """The user with this address, or a new constituent keyed by it."""
    existing = await User.filter(email=mail.address).order_by("created_at").values_list("id", flat=True)
    user_id = str(existing[0]) if existing else f"{EMAIL_USER_PREFIX}{mail.address}"
    if not existing:
        await provision(
            claims=Claims(sub=user_id, roles=frozenset({Role.CONSTITUENT}), name=mail.display_name, email=mail.address),
            now=now,
        )
    return user_id

