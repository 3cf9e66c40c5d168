"""addAttachment and removeAttachment: decoded into a command, one service call, a payload."""

from __future__ import annotations

from functools import partial
from typing import Any, cast

from starlette.datastructures import UploadFile

from casegraph.services import attachments
from casegraph.services.attachment_content import Readable, upload_digest
from casegraph.services.attachments import ATTACHMENT_ID, AddAttachment, AttachmentDesk, RemoveAttachment
from casegraph.services.case_changes import ActionResult
from models import Attachment as AttachmentRow
from resolvers.pipeline import run_case_change
from schema.context import Info
from schema.inputs import AddAttachmentInput, RemoveAttachmentInput
from schema.payloads import AttachmentPayload, refused
from schema.types.attachments import Attachment
from schema.types.case import Case, CaseEvent


async def add_attachment(info: Info, input: AddAttachmentInput) -> AttachmentPayload:
    desk = _desk(info)
    # Strawberry's Upload scalar is typed as bytes; over ASGI a multipart part is Starlette's
    # UploadFile. Anything else (a string in a JSON body) is no file: the service refuses None.
    upload = cast(Readable, input.file) if isinstance(input.file, UploadFile) else None
    command = AddAttachment(
        case_id=str(input.case_id),
        upload=upload,
        comment=input.comment,
        internal=input.internal,
        expected_version=input.expected_version,
    )
    fingerprint: dict[str, Any] | None = None
    if input.idempotency_key is not None and upload is not None:
        # A repeat must send the same bytes, not just a file of the same name.
        fingerprint = {
            "caseId": str(input.case_id),
            "file": {"filename": upload.filename, "sha256": await upload_digest(upload)},
            "comment": input.comment,
            "internal": input.internal,
            "expectedVersion": input.expected_version,
        }
    return await run_case_change(
        info,
        "addAttachment",
        input,
        refused=refused(AttachmentPayload),
        change=partial(attachments.add_attachment, desk=desk, command=command),
        done=_payload,
        fingerprint=fingerprint,
    )


async def remove_attachment(info: Info, input: RemoveAttachmentInput) -> AttachmentPayload:
    command = RemoveAttachment(
        attachment_id=str(input.attachment_id), reason=input.reason, expected_version=input.expected_version
    )
    return await run_case_change(
        info,
        "removeAttachment",
        input,
        refused=refused(AttachmentPayload),
        change=partial(attachments.remove_attachment, desk=_desk(info), command=command),
        done=_payload,
    )


async def _payload(result: ActionResult) -> AttachmentPayload:
    row = await AttachmentRow.get_or_none(id=result.extra[ATTACHMENT_ID])
    return AttachmentPayload(
        attachment=Attachment.from_row(row) if row is not None and row.removed_at is None else None,
        case=Case.from_record(result.case),
        event=CaseEvent.from_record(result.event),
    )


def _desk(info: Info) -> AttachmentDesk:
    desk = info.context.attachments
    if desk is None:  # a schema executed without the application's runtime: a wiring mistake
        raise RuntimeError("No attachment store is configured for this schema's context.")
    return desk
