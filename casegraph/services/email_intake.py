"""Inbound e-mail (issue 4, *Multichannel intake*; issue 14, section 3).

A mail gateway posts the raw RFC 822 message. A mail carrying a case's reply token (see
``reply_addresses``) in the address it was sent to or in its subject, from the address of that
case's requester, adds its text as a public comment to the case, which (per the life-cycle table)
returns it from AWAITING_INFO.

Every mail to the requester offers that reply address, also those about a case the requester may
no longer comment on (lifecycle.md: no UPDATE by the requester in RESOLVED; nothing changes a
CLOSED or CANCELLED case). A reply to such a case is not dropped: it is filed as a new request of
the same case type for the requester (channel EMAIL), whose description names the case it
replied to, and whose acknowledgement mail says why — for a RESOLVED case, with the link where
the requester accepts or rejects its solution. Any other mail — a bare case number in the subject included —
files a new case of the configured intake case type, channel EMAIL, for the sender, provisioned
as a constituent by address. With the gateway's authserv-id configured, a mail failing DMARC or
DKIM there is refused. Redelivery of the same Message-ID returns the first result and stores
nothing new.

The mail's files — attachments and inline images alike — go onto the new case (or, for a reply,
onto the case commented on) through the same path as a file uploaded in the pages
(``services/attachments``: sniffed, allow-listed, size-limited, images stripped of their
metadata, the scanner's status). They are judged before anything is written: a part that may not
be attached is named with its reason in the case's description or the comment, never dropped
silently.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Final

from casegraph.domain.commands import UpdateCase
from casegraph.domain.enums import CaseAction, CaseStatus, Channel, Role
from casegraph.domain.errors import DomainError, not_found, validation_failed
from casegraph.domain.relations import Actor
from casegraph.domain.validation import TEXT_LIMIT, TITLE_LIMIT, courtesy_text
from casegraph.services.attachment_content import HeldBytes
from casegraph.services.attachments import (
    AddAttachment,
    AttachmentDesk,
    StagedFile,
    attach_staged,
    discard_staged,
    stage_upload,
)
from casegraph.services.case_actions import ActionRequest, perform
from casegraph.services.case_changes import ActionResult
from casegraph.services.case_creation import NewCase, create_case
from casegraph.services.column_limits import max_length
from casegraph.services.idempotency import run_idempotent
from casegraph.services.mail_authentication import refusal
from casegraph.services.publisher import Publisher
from casegraph.services.records import CaseRecord
from casegraph.services.reply_addresses import TOKEN, ReplyAddresses, ReplyToken, tokens_in
from casegraph.services.requester_mail import RequesterMail
from casegraph.services.users import Claims, build_actor, provision
from models import Case, Comment, MailDelivery, User

logger = logging.getLogger(__name__)

EMAIL_USER_PREFIX: Final = "email:"

# Without a configured intake limit (direct callers): what the HTTP endpoint allows by default.
MAX_MESSAGE_BYTES: Final = 10 * 1024 * 1024
TAGS: Final = re.compile(r"<[^>]+>")
# Where a reply token may come back: the addresses a reply is sent to, as the gateway records them.
ADDRESS_HEADERS: Final = ("To", "Cc", "Delivered-To", "X-Original-To", "Reply-To")


@dataclass(frozen=True)
class MailPart:
    """A file the mail carries: its name as the sender's client gave it (unsafe until cleaned)."""

    filename: str | None
    content: bytes

    @property
    def shown_name(self) -> str:
        return self.filename or "attachment"


@dataclass(frozen=True)
class InboundMail:
    address: str
    display_name: str | None
    subject: str
    body: str
    message_id: str | None
    attachments: tuple[MailPart, ...]
    reply_tokens: tuple[ReplyToken, ...] = ()
    authentication_results: tuple[str, ...] = ()


@dataclass(frozen=True)
class IntakeResult:
    action: str  # "created" or "commented"; a reply to a closed case is "created" (see the module)
    case_id: str
    number: str


# The statuses in which a requester's reply cannot become their comment on the case.
CLOSED_TO_REPLIES: Final = frozenset({CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.CANCELLED})


@dataclass(frozen=True)
class RepliedCase:
    """The case whose reply token a mail carries, as intake needs it."""

    case_id: str
    requester_id: str
    number: str
    status: CaseStatus
    case_type_code: str | None

    @property
    def takes_comments(self) -> bool:
        return self.status not in CLOSED_TO_REPLIES


def parse_message(raw: bytes, max_bytes: int = MAX_MESSAGE_BYTES) -> InboundMail:
    """The parts of a raw message we use; VALIDATION_FAILED (field ``message``) if unusable."""
    if len(raw) > max_bytes:
        raise validation_failed("message", f"The message is larger than {max_bytes} bytes.")
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
        attachments = _files_of(message, body_part)
        message_id = str(message["Message-ID"] or "").strip() or None
        addressed = [str(value) for name in ADDRESS_HEADERS for value in message.get_all(name) or ()]
        reply_tokens = tuple(tokens_in([*addressed, subject]))
        authentication_results = tuple(str(value) for value in message.get_all("Authentication-Results") or ())
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
        reply_tokens=reply_tokens,
        authentication_results=authentication_results,
    )


def _files_of(message: EmailMessage, body_part: object) -> tuple[MailPart, ...]:
    """Every leaf part but the text read as the body and its alternative renderings: attachments,
    and inline images (a phone's mail app often sends its photo inline in the HTML)."""
    files: list[MailPart] = []
    for part in message.walk():
        if part.is_multipart() or part is body_part:
            continue
        disposition = part.get_content_disposition()
        is_text_body = part.get_content_maintype() == "text" and disposition != "attachment" and not part.get_filename()
        if is_text_body:
            continue
        content = part.get_payload(decode=True)
        files.append(MailPart(part.get_filename(), content if isinstance(content, bytes) else b""))
    return tuple(files)


async def receive_email(
    *,
    raw: bytes,
    intake_case_type: str | None,
    now: datetime,
    publisher: Publisher,
    reply: ReplyAddresses | None = None,
    authserv_id: str | None = None,
    desk: AttachmentDesk | None = None,
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> IntakeResult:
    """File or comment as the module says; PERMISSION_DENIED if the gateway's verdict refuses it,
    NOT_FOUND for reply tokens that name no case of the sender. Nothing is stored on refusal."""
    mail = parse_message(raw, max_bytes)
    denied = refusal(mail.authentication_results, authserv_id)
    if denied is not None:
        raise denied
    text = mail.body or mail.subject
    if len(text) > TEXT_LIMIT:
        raise validation_failed("message", f"The message text is longer than {TEXT_LIMIT} characters.")
    staged, refused = await _stage_files(mail.attachments, desk)
    try:
        return await _file_mail(
            mail,
            raw,
            text + _refusal_note(refused),
            staged,
            [name for name, _ in refused],
            desk,
            intake_case_type,
            now,
            publisher,
            reply,
        )
    finally:
        # Files not attached (a redelivery answered from its first result, a refusal) are forgotten.
        if desk is not None:
            for file in staged:
                await discard_staged(desk, file)


async def _file_mail(
    mail: InboundMail,
    raw: bytes,
    text: str,
    staged: list[StagedFile],
    refused_names: list[str],
    desk: AttachmentDesk | None,
    intake_case_type: str | None,
    now: datetime,
    publisher: Publisher,
    reply: ReplyAddresses | None,
) -> IntakeResult:
    if len(text) > TEXT_LIMIT:
        raise validation_failed("message", f"The message text is longer than {TEXT_LIMIT} characters.")
    replied = await _case_replied_to(mail, reply)
    user_id = replied.requester_id if replied is not None else await _constituent_for(mail, now)
    actor = await build_actor(
        Claims(sub=user_id, roles=frozenset({Role.CONSTITUENT}), name=mail.display_name, email=mail.address)
    )
    comments = replied is not None and replied.takes_comments
    follows = replied if replied is not None and not replied.takes_comments else None
    # A reply kept as a new request goes under its case's type; should that type take no request
    # by mail now (retired, or needing what a mail cannot give, like a location), under intake's.
    case_types = list(dict.fromkeys(filter(None, [follows.case_type_code if follows else None, intake_case_type])))
    if len(text) + len(_reference(follows)) > TEXT_LIMIT:
        raise validation_failed("message", f"The message text is longer than {TEXT_LIMIT} characters.")

    async def act_on_text(on_success: Callable[[ActionResult], Awaitable[None]] | None) -> ActionResult:
        if replied is not None and comments:
            return await perform(
                actor=actor,
                request=ActionRequest(CaseAction.UPDATE, replied.case_id, command=UpdateCase(comment=text)),
                now=now,
                publisher=publisher,
                on_success=on_success,
            )
        if not case_types:
            raise validation_failed(
                "message", "E-mail intake has no case type configured (CASEGRAPH_INTAKE_CASE_TYPE)."
            )
        for case_type in case_types:
            try:
                # A refusal comes before anything is written (the type and the fields are checked
                # first), so trying the next type leaves nothing behind.
                return await create_case(
                    actor=actor,
                    new=NewCase(
                        case_type_code=case_type,
                        title=_title_of(mail)[:TITLE_LIMIT],
                        description=text + _reference(follows),
                        contact_email=mail.address,
                    ),
                    now=now,
                    publisher=publisher,
                    on_success=_acknowledging(follows, refused_names, on_success),
                    via=Channel.EMAIL,
                )
            except DomainError:
                # Not translated: a type that takes no request by mail any more is passed over for the
                # next (the intake type); the last type's refusal goes up to the caller as it is.
                if case_type == case_types[-1]:
                    raise
        raise AssertionError("unreachable: the last case type's refusal is raised")

    key = "mail:" + hashlib.sha256(mail.message_id.encode()).hexdigest() if mail.message_id is not None else None
    if key is not None:
        result = await run_idempotent(
            user_id=user_id,
            key=key,
            operation="emailIntake",
            input_hash=hashlib.sha256(raw).hexdigest(),
            now=now,
            run=act_on_text,
        )
    else:
        result = await act_on_text(None)
    if desk is not None:
        # After the text, on a first delivery and on a redelivery answered from its first result
        # alike: each file is its own idempotent step under the mail's key, so files the first
        # delivery did not get to (a crash, a lost connection after the text committed) are
        # attached when the gateway delivers the mail again, and no file is attached twice.
        written = (
            await Comment.filter(case_id=result.case.id, event_sequence=result.event.sequence).first()
            if comments
            else None
        )
        await _attach_files(
            staged,
            case=result.case,
            with_comment_id=written.id if written is not None else None,
            mail_key=key,
            user_id=user_id,
            desk=desk,
            actor=actor,
            now=now,
            publisher=publisher,
        )
    return IntakeResult("commented" if comments else "created", result.case.id, result.case.number)


async def _attach_files(
    staged: list[StagedFile],
    *,
    case: CaseRecord,
    with_comment_id: int | None,
    mail_key: str | None,
    user_id: str,
    desk: AttachmentDesk,
    actor: Actor,
    now: datetime,
    publisher: Publisher,
) -> None:
    """Each staged file its own ADD_ATTACHMENT event by the sender, after the text (which may have
    made the case one the sender can attach to again, like an answered question); a reply's files
    are listed under the comment its text became."""
    for index, file in enumerate(list(staged)):
        staged.remove(file)

        async def attach(
            on_success: Callable[[ActionResult], Awaitable[None]] | None, file: StagedFile = file
        ) -> ActionResult:
            return await attach_staged(
                desk=desk,
                staged=file,
                command=AddAttachment(case_id=case.id, upload=None),
                actor=actor,
                now=now,
                publisher=publisher,
                on_success=on_success,
                with_comment_id=with_comment_id,
            )

        try:
            if mail_key is None:
                await attach(None)
            else:
                await run_idempotent(
                    user_id=user_id,
                    key=f"{mail_key}:file:{index}",
                    operation="emailIntakeFile",
                    input_hash=file.sha256,
                    now=now,
                    run=attach,
                )
        except DomainError as refused_file:
            # Not translated: the text is filed already; a file refused now (the case's total
            # reached by files added meanwhile) is logged, and the mail is not refused for it.
            logger.warning("mail file %s not attached to case %s: %s", file.filename, case.number, refused_file)


async def _stage_files(
    parts: tuple[MailPart, ...], desk: AttachmentDesk | None
) -> tuple[list[StagedFile], list[tuple[str, str]]]:
    """The parts kept safely in the store, and for each refused one its name and why."""
    staged: list[StagedFile] = []
    refused: list[tuple[str, str]] = []
    total = 0
    for part in parts:
        if desk is None:
            refused.append((part.shown_name, "files are not kept here"))
            continue
        try:
            file = await stage_upload(desk, HeldBytes(part.content, part.filename))
        except DomainError as refusal_of_part:
            # Not translated: a part that may not be attached is named with its reason in the note
            # and the acknowledgement, and the mail's text is still filed.
            refused.append((part.shown_name, refusal_of_part.message))
            continue
        if total + file.size > desk.case_max_bytes:
            await discard_staged(desk, file)
            refused.append((part.shown_name, "the case's files would be over their limit together"))
            continue
        total += file.size
        staged.append(file)
    return staged, refused


def _refusal_note(refused: list[tuple[str, str]]) -> str:
    """The line that names each refused part and why (for staff and the requester reading the case)."""
    if not refused:
        return ""
    return "\n\n(Attachments not kept: " + "; ".join(f"{name} ({why})" for name, why in refused) + ")"


def _title_of(mail: InboundMail) -> str:
    """The subject (without the reply token a reply carries there), else the first line."""
    subject = TOKEN.sub("", mail.subject).replace("[]", "").strip()
    if subject:
        return subject
    return mail.body.splitlines()[0] if mail.body else mail.subject


def _reference(follows: RepliedCase | None) -> str:
    """The line of a reply filed as a new request that names the case it replied to (for staff)."""
    if follows is None:
        return ""
    return f"\n\n(Replied by e-mail to case {follows.number}, which is {follows.status.value}.)"


def _acknowledging(
    follows: RepliedCase | None,
    refused_names: list[str],
    on_success: Callable[[ActionResult], Awaitable[None]] | None,
) -> Callable[[ActionResult], Awaitable[None]] | None:
    """The acknowledgement mail of a mailed request, written by the change hook in the same
    transaction, also names the files of the mail that were not kept, and, for a reply filed as a
    new request, says which case it replied to and why it could not be added there."""
    if follows is None and not refused_names:
        return on_success
    facts: dict[str, str] = {}
    if follows is not None:
        facts = {"follows": follows.number, "follows_case_id": follows.case_id, "follows_status": follows.status.value}
    if refused_names:
        facts["files_refused"] = ", ".join(refused_names)

    async def mark(result: ActionResult) -> None:
        for row in await MailDelivery.filter(case_id=result.case.id, template=RequesterMail.RECEIVED.value):
            row.facts = {**row.facts, **facts}
            await row.save(update_fields=["facts"])
        if on_success is not None:
            await on_success(result)

    return mark


async def _case_replied_to(mail: InboundMail, reply: ReplyAddresses | None) -> RepliedCase | None:
    """The case whose reply token the mail carries; None without a token; NOT_FOUND when no
    token is genuine for a case requested from the sender's address."""
    if not mail.reply_tokens:
        return None
    senders = await User.filter(email__iexact=mail.address).values_list("id", flat=True)
    for token in mail.reply_tokens:
        rows = await Case.filter(number=token.number).values(
            "id", "requester_id", "contact_email", "status", "case_type__code"
        )
        if not rows or reply is None or not reply.matches(token, case_id=str(rows[0]["id"])):
            continue
        row = rows[0]
        # The sender is the requester: by the address bound to them, or the case's contact address
        # (where mail about the case goes, for requesters whose token bound no address).
        if row["requester_id"] in senders or (row["contact_email"] or "").lower() == mail.address:
            return RepliedCase(
                case_id=str(row["id"]),
                requester_id=str(row["requester_id"]),
                number=token.number,
                status=CaseStatus(row["status"]),
                case_type_code=row["case_type__code"],
            )
    raise not_found()


async def _constituent_for(mail: InboundMail, now: datetime) -> str:
    """The user with this address (the first bound to it), or a new constituent keyed by it."""
    existing = await User.filter(email__iexact=mail.address).order_by("created_at").values_list("id", flat=True)
    user_id = str(existing[0]) if existing else f"{EMAIL_USER_PREFIX}{mail.address}"
    if not existing:
        await provision(
            claims=Claims(sub=user_id, roles=frozenset({Role.CONSTITUENT}), name=mail.display_name, email=mail.address),
            now=now,
        )
    return user_id
