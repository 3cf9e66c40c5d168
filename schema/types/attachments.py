"""A file on a case, as a viewer sees it: its facts and a download link made for them."""

from __future__ import annotations

from datetime import datetime

import strawberry

from casegraph.domain.attachments import SERVABLE_SCAN_STATUSES, Variant
from models import Attachment as AttachmentRow
from schema.context import Info
from schema.enums import ScanStatus
from schema.types.people import User, _user


@strawberry.type(description="A file on a case (a photo, a scanned form, a letter).")
class Attachment:
    id: strawberry.ID
    filename: str = strawberry.field(description="Sanitised: no path, no control or bidi characters.")
    content_type: str = strawberry.field(description="What the bytes are (sniffed), never what the client said.")
    size: int = strawberry.field(description="Bytes, as stored (images re-encoded without their metadata).")
    sha256: str = strawberry.field(description="SHA-256 of the stored bytes, hex.")
    created_at: datetime
    scan_status: ScanStatus
    internal: bool = strawberry.field(description="Staff only, like a work note.")
    _row: strawberry.Private[AttachmentRow]

    @strawberry.field(description="Who attached it.")
    async def uploaded_by(self, info: Info) -> User | None:
        return await _user(info, self._row.uploaded_by_id)

    @strawberry.field(
        description="A short-lived download link for the viewer only (GET it with their token); null "
        "while the file cannot be served (waiting for the scanner, or quarantined)."
    )
    def url(self, info: Info) -> str | None:
        return _link(info, self._row, Variant.ORIGINAL)

    @strawberry.field(description="Like `url`, for an image's thumbnail; null for other files.")
    def thumbnail_url(self, info: Info) -> str | None:
        if self._row.thumbnail_sha256 is None:
            return None
        return _link(info, self._row, Variant.THUMBNAIL)

    @classmethod
    def from_row(cls, row: AttachmentRow) -> Attachment:
        return cls(
            id=strawberry.ID(str(row.id)),
            filename=row.filename,
            content_type=row.content_type,
            size=row.size,
            sha256=row.sha256,
            created_at=row.created_at,
            scan_status=row.scan_status,
            internal=row.internal,
            _row=row,
        )


def _link(info: Info, row: AttachmentRow, variant: Variant) -> str | None:
    desk, actor = info.context.attachments, info.context.actor
    if desk is None or actor is None or row.scan_status not in SERVABLE_SCAN_STATUSES:
        return None
    return desk.links.url(attachment_id=str(row.id), user_id=actor.user_id, variant=variant, now=info.context.clock())
