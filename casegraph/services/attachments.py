"""Files on cases (issue 18): adding one, removing one, listing and serving them to who may see them.

Adding is a case action like any other: authorized against ``domain/attachments.ATTACHMENT_RULES``
with the actor's current relations, validated, then one ``ADD_ATTACHMENT`` event and the
attachment's row (and the note sent with it) in one transaction, published after the commit.
The bytes are received, sniffed and made safe *before* that transaction (no file work while the
case is locked), kept in the store under their digest, and forgotten again if the change is
refused or fails: a refused upload leaves no row and no file. What a crash leaves between the
two is swept later (``sweep_orphans``, run periodically: ``casegraph/composition.py``).

Who sees a file: whoever sees the case, except an ``internal`` one, which only staff see (like a
work note). Removed files are gone from every listing and every download; their row stays for
the history, their bytes are purged.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from tortoise.expressions import Q
from tortoise.functions import Sum

from casegraph.database import statements
from casegraph.domain import lifecycle
from casegraph.domain.attachments import (
    ATTACHMENT_RULES,
    SERVABLE_SCAN_STATUSES,
    STAFF_RELATIONS,
    Variant,
    clean_filename,
    sees_internal,
)
from casegraph.domain.enums import CaseAction, CaseEventType
from casegraph.domain.errors import DomainError, not_found, permission_denied, validation_failed, version_conflict
from casegraph.domain.lifecycle import Facts
from casegraph.domain.relations import Actor, relations_of
from casegraph.domain.validation import clean_text, uuid_key
from casegraph.services.attachment_content import Readable, prepare, receive
from casegraph.services.attachment_links import AttachmentLinks
from casegraph.services.attachment_store import AttachmentStore, Scanner
from casegraph.services.case_actions import MAX_ATTEMPTS
from casegraph.services.case_changes import ActionResult, StaleCase, commit_change, refuse_if_pinned, retries_exhausted
from casegraph.services.extensions import Transition, check_transition
from casegraph.services.publisher import Publisher
from casegraph.services.records import CaseRecord, EventRecord
from casegraph.services.visibility import load_visible_case
from models import Attachment, Comment, WorkNote

OnSuccess = Callable[[ActionResult], Awaitable[None]] | None
# A kept file no row names is an orphan only once an upload in flight would have committed.
ORPHAN_GRACE: Final = timedelta(hours=1)
ATTACHMENT_ID: Final = "attachmentId"


@dataclass
class AttachmentDesk:
    """What attachments need at run time: the store, the scanner, the link signer and the limits."""

    store: AttachmentStore
    scanner: Scanner
    links: AttachmentLinks
    max_bytes: int
    case_max_bytes: int


@dataclass(frozen=True)
class AddAttachment:
    case_id: str
    upload: Readable | None  # None: the request carried no file part
    comment: str | None = None
    internal: bool = False
    expected_version: int | None = None


@dataclass(frozen=True)
class RemoveAttachment:
    attachment_id: str
    reason: str | None
    expected_version: int | None = None


# --- adding ------------------------------------------------------------------------------------


async def add_attachment(
    *,
    desk: AttachmentDesk,
    command: AddAttachment,
    actor: Actor,
    now: datetime,
    publisher: Publisher,
    on_success: OnSuccess = None,
) -> ActionResult:
    """One ADD_ATTACHMENT event with the attachment's row (and its note); the bytes kept first."""
    # Every refusal that needs no bytes comes before a byte is read: who first, then what.
    await _judge_add(actor, command)
    clean_text("comment", command.comment, required=False)
    if command.upload is None:
        raise validation_failed(
            "file", "Send the file as a part of a multipart request (GraphQL multipart request spec).", "NOT_A_FILE"
        )
    staged = await stage_upload(desk, command.upload)
    return await attach_staged(
        desk=desk, staged=staged, command=command, actor=actor, now=now, publisher=publisher, on_success=on_success
    )


@dataclass(frozen=True)
class StagedFile:
    """An upload received, judged safe and kept in the store, but on no case yet (an orphan until
    ``attach_staged`` commits its row, forgotten by ``discard_staged`` or else by the sweeper)."""

    filename: str
    content_type: str
    size: int
    sha256: str
    thumbnail_sha256: str | None

    @property
    def digests(self) -> list[str]:
        return [self.sha256, *filter(None, [self.thumbnail_sha256])]


async def stage_upload(desk: AttachmentDesk, upload: Readable) -> StagedFile:
    """Receive, sniff and make safe one file, and keep it: VALIDATION_FAILED (field ``file``) for a
    file that may not be attached (too large, empty, a refused type, an unreadable image)."""
    received = await receive(upload, desk.store, max_bytes=desk.max_bytes)
    try:
        prepared = await prepare(received, desk.store)
    except BaseException:
        received.path.unlink(missing_ok=True)
        raise
    await desk.store.keep(prepared.path, prepared.sha256)
    if prepared.thumbnail is not None:
        await desk.store.keep(prepared.thumbnail.path, prepared.thumbnail.sha256)
    return StagedFile(
        filename=clean_filename(received.filename, prepared.content_type),
        content_type=prepared.content_type,
        size=prepared.size,
        sha256=prepared.sha256,
        thumbnail_sha256=prepared.thumbnail.sha256 if prepared.thumbnail is not None else None,
    )


async def discard_staged(desk: AttachmentDesk, staged: StagedFile) -> None:
    """Forget a staged file no attachment came to name (identical bytes another one names stay)."""
    await _forget_unreferenced(desk.store, staged.digests)


async def attach_staged(
    *,
    desk: AttachmentDesk,
    staged: StagedFile,
    command: AddAttachment,
    actor: Actor,
    now: datetime,
    publisher: Publisher,
    on_success: OnSuccess = None,
    with_comment_id: int | None = None,
) -> ActionResult:
    """The ADD_ATTACHMENT event and row for a staged file; refused or failed, the file is forgotten.

    ``with_comment_id``: the public comment the file came with, written by an earlier action (a
    mailed reply's text), so the file is listed under it; no note is written then."""
    if with_comment_id is not None and (command.comment is not None or command.internal):
        raise ValueError("a file sent with an existing comment brings no note of its own and is public")
    try:
        # Judged again in the commit's loop, with the case as it is then.
        comment = clean_text("comment", command.comment, required=False)
        row = {
            "id": str(uuid.uuid4()),
            "filename": staged.filename,
            "content_type": staged.content_type,
            "size": staged.size,
            "sha256": staged.sha256,
            "thumbnail_sha256": staged.thumbnail_sha256,
            "internal": command.internal,
            "scan_status": desk.scanner.arrival_status,
            "uploaded_by_id": actor.user_id,
            "created_at": now,
        }
        if with_comment_id is not None:
            row["comment_id"] = with_comment_id
        result = await _commit_addition(desk, command, actor, now, row, comment, on_success)
    except BaseException:
        await discard_staged(desk, staged)
        raise
    await publisher.published([result.event])
    return result


async def _judge_add(actor: Actor, command: AddAttachment) -> CaseRecord:
    """The case, if the actor may attach to it now (NOT_FOUND, PERMISSION_DENIED, VERSION_CONFLICT,
    TRANSITION_NOT_ALLOWED otherwise)."""
    case = await load_visible_case(actor, command.case_id)
    relations = relations_of(actor, case.parties())
    grant = lifecycle.authorize(CaseAction.ADD_ATTACHMENT, relations, case.state, rules=ATTACHMENT_RULES)
    if command.internal and not relations & STAFF_RELATIONS:
        raise permission_denied("Only staff handling the case may add internal attachments.", "internal")
    if command.expected_version is not None and command.expected_version != case.version:
        raise version_conflict(command.expected_version, case.version)
    lifecycle.transition(
        action=CaseAction.ADD_ATTACHMENT,
        workflow=case.workflow,
        state=case.state,
        grant=grant,
        facts=Facts(deleted=case.deleted),
        rules=ATTACHMENT_RULES,
    )
    return case


async def _commit_addition(
    desk: AttachmentDesk,
    command: AddAttachment,
    actor: Actor,
    now: datetime,
    row: dict[str, Any],
    comment: str | None,
    on_success: OnSuccess,
) -> ActionResult:
    extra = {ATTACHMENT_ID: row["id"]}

    async def write(case: CaseRecord, event: EventRecord) -> None:
        note: dict[str, Any] = {}
        if comment is not None:
            values: dict[str, Any] = {
                "case_id": case.id,
                "author_id": actor.user_id,
                "body": comment,
                "event_sequence": event.sequence,
                "created_at": now,
            }
            if command.internal:
                note["work_note_id"] = (await WorkNote.create(**values)).id
            else:
                note["comment_id"] = await statements.insert_generated(Comment, values)
        await Attachment.create(**row, **note, case_id=case.id, event_sequence=event.sequence)

    async def then(result: ActionResult) -> None:
        if on_success is not None:
            await on_success(dataclasses.replace(result, extra=extra))

    summary: dict[str, object] = {ATTACHMENT_ID: row["id"], "filename": row["filename"], "internal": command.internal}
    if not command.internal:
        summary["attached"] = row["filename"]  # the requester's history may name a file they see
    if comment is not None:
        # A public comment reads as any comment does; an internal file's note stays the staff's.
        summary["workNote" if command.internal else "comment"] = True if command.internal else comment
    for _ in range(MAX_ATTEMPTS):
        case = await _judge_add(actor, command)
        await check_transition(
            Transition(case=case, action=CaseAction.ADD_ATTACHMENT, target=case.state, actor=actor, now=now)
        )
        await _refuse_over_case_total(case.id, int(str(row["size"])), desk.case_max_bytes)
        try:
            result = await commit_change(
                case=case,
                actor_id=actor.user_id,
                action=CaseAction.ADD_ATTACHMENT,
                event_type=CaseEventType.CASE_UPDATED,
                target=case.state,
                changes={},
                summary=summary,
                now=now,
                side_effects=[write],
                on_success=then,
            )
        except StaleCase:
            await refuse_if_pinned(actor=actor, case_id=command.case_id, expected_version=command.expected_version)
            continue
        return dataclasses.replace(result, extra=extra)
    raise await retries_exhausted(actor=actor, case_id=command.case_id, expected_version=command.expected_version)


async def _refuse_over_case_total(case_id: str, size: int, limit: int) -> None:
    rows = await Attachment.filter(case_id=case_id, removed_at=None).annotate(total=Sum("size")).values("total")
    held = int(rows[0]["total"] or 0) if rows else 0
    if held + size > limit:
        raise validation_failed(
            "file", f"The case's files would be over their limit of {limit} bytes together.", "CASE_FULL"
        )


# --- removing ----------------------------------------------------------------------------------


async def remove_attachment(
    *,
    desk: AttachmentDesk,
    command: RemoveAttachment,
    actor: Actor,
    now: datetime,
    publisher: Publisher,
    on_success: OnSuccess = None,
) -> ActionResult:
    """One REMOVE_ATTACHMENT event; the row kept (marked removed, with the reason), the bytes purged."""
    attachment = await visible_attachment(actor, command.attachment_id)
    case_id = str(attachment.case_id)
    await _judge_remove(actor, case_id, command.expected_version)
    reason = clean_text("reason", command.reason, required=True)
    extra = {ATTACHMENT_ID: str(attachment.id)}

    async def mark(case: CaseRecord, event: EventRecord) -> None:
        marked = await Attachment.filter(id=attachment.id, removed_at=None).update(
            removed_at=now, removed_by_id=actor.user_id, removal_reason=reason
        )
        if marked != 1:  # removed meanwhile by someone else: that removal stands alone
            raise StaleCase(case.id)

    async def then(result: ActionResult) -> None:
        if on_success is not None:
            await on_success(dataclasses.replace(result, extra=extra))

    for _ in range(MAX_ATTEMPTS):
        case = await _judge_remove(actor, case_id, command.expected_version)
        if await Attachment.filter(id=attachment.id, removed_at__isnull=False).exists():
            raise not_found("Attachment")
        try:
            result = await commit_change(
                case=case,
                actor_id=actor.user_id,
                action=CaseAction.REMOVE_ATTACHMENT,
                event_type=CaseEventType.CASE_UPDATED,
                target=case.state,
                changes={},
                # "removalReason", not "reason": an internal file's removal is not the requester's to read.
                summary={
                    ATTACHMENT_ID: extra[ATTACHMENT_ID],
                    "filename": attachment.filename,
                    "removalReason": reason,
                    **({} if attachment.internal else {"detached": attachment.filename}),
                },
                now=now,
                side_effects=[mark],
                on_success=then,
            )
        except StaleCase:
            await refuse_if_pinned(actor=actor, case_id=case_id, expected_version=command.expected_version)
            continue
        await _forget_unreferenced(desk.store, [attachment.sha256, *filter(None, [attachment.thumbnail_sha256])])
        await publisher.published([result.event])
        return dataclasses.replace(result, extra=extra)
    raise await retries_exhausted(actor=actor, case_id=case_id, expected_version=command.expected_version)


async def _judge_remove(actor: Actor, case_id: str, expected_version: int | None) -> CaseRecord:
    """The case, if the actor may remove its files now (PERMISSION_DENIED, VERSION_CONFLICT,
    TRANSITION_NOT_ALLOWED otherwise)."""
    case = await load_visible_case(actor, case_id)
    relations = relations_of(actor, case.parties())
    grant = lifecycle.authorize(CaseAction.REMOVE_ATTACHMENT, relations, case.state, rules=ATTACHMENT_RULES)
    if expected_version is not None and expected_version != case.version:
        raise version_conflict(expected_version, case.version)
    lifecycle.transition(
        action=CaseAction.REMOVE_ATTACHMENT,
        workflow=case.workflow,
        state=case.state,
        grant=grant,
        facts=Facts(deleted=case.deleted),
        rules=ATTACHMENT_RULES,
    )
    return case


# --- reading -----------------------------------------------------------------------------------


async def attachments_of_cases(actor: Actor, case_ids: Iterable[str]) -> dict[str, list[Attachment]]:
    """Live attachments of cases the caller already showed the actor, oldest first; internal ones
    only for staff."""
    ids = list(set(case_ids))
    query = Attachment.filter(case_id__in=ids, removed_at=None)
    if not sees_internal(actor):
        query = query.filter(internal=False)
    grouped: dict[str, list[Attachment]] = {case_id: [] for case_id in ids}
    for row in await query.order_by("created_at", "id"):
        grouped[str(row.case_id)].append(row)
    return grouped


async def attachments_of_notes(
    actor: Actor, *, comment_ids: Iterable[int], work_note_ids: Iterable[int]
) -> list[Attachment]:
    """Live attachments sent with these notes (work notes' only for staff)."""
    condition = Q(comment_id__in=list(comment_ids))
    if sees_internal(actor):
        condition |= Q(work_note_id__in=list(work_note_ids))
    query = Attachment.filter(condition, removed_at=None)
    if not sees_internal(actor):
        query = query.filter(internal=False)
    return list(await query.order_by("created_at", "id"))


async def visible_attachment(actor: Actor, attachment_id: str) -> Attachment:
    """A live attachment the actor may see now (its case visible to them, internal only to staff), or NOT_FOUND."""
    if uuid_key(attachment_id) is None:
        raise not_found("Attachment")
    row = await Attachment.get_or_none(id=attachment_id, removed_at=None)
    if row is None or (row.internal and not sees_internal(actor)):
        raise not_found("Attachment")
    try:
        await load_visible_case(actor, str(row.case_id))
    except DomainError:
        # The file's case hidden from the actor: the file is as absent as the case (not "Case not found").
        raise not_found("Attachment") from None
    return row


@dataclass(frozen=True)
class Download:
    sha256: str
    filename: str
    content_type: str
    variant: Variant


async def downloadable(actor: Actor, attachment_id: str, variant: Variant) -> Download:
    """What the download route may send this actor now; NOT_FOUND, or PERMISSION_DENIED while a
    file is not servable (waiting for the scanner, or quarantined)."""
    row = await visible_attachment(actor, attachment_id)
    if row.scan_status not in SERVABLE_SCAN_STATUSES:
        raise permission_denied(f"This file cannot be downloaded ({row.scan_status.value}).")
    if variant is Variant.THUMBNAIL:
        if row.thumbnail_sha256 is None:
            raise not_found("Thumbnail")
        return Download(row.thumbnail_sha256, row.filename, row.content_type, variant)
    return Download(row.sha256, row.filename, row.content_type, variant)


# --- the store's housekeeping ------------------------------------------------------------------


async def _forget_unreferenced(store: AttachmentStore, digests: Iterable[str]) -> None:
    """Purge bytes no live attachment names any more (identical files share them).

    Another upload of the very same bytes, kept but not yet committed, would lose them here; its
    row would then name missing bytes (served as 404). Identical uploads within the same moment
    are rare enough to accept that, and far better than keeping what a removal must purge.
    """
    for digest in set(digests):
        if not await _referenced(digest):
            await store.delete(digest)


async def _referenced(digest: str) -> bool:
    return await Attachment.filter(Q(sha256=digest) | Q(thumbnail_sha256=digest), removed_at=None).exists()


async def sweep_orphans(store: AttachmentStore, *, now: datetime, grace: timedelta = ORPHAN_GRACE) -> int:
    """Delete kept bytes no live attachment names and staging files a crash left, older than
    ``grace`` (younger ones may belong to an upload still on its way to its commit). How many."""
    swept = 0
    cutoff = now - grace
    async for blob in store.blobs():
        if blob.stored_at <= cutoff and not await _referenced(blob.key):
            await store.delete(blob.key)
            swept += 1
    for staged in list(store.staged()):
        if staged.stored_at <= cutoff:
            store.remove_staged(staged.key)
            swept += 1
    return swept
