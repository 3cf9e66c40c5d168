from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from casegraph.domain.attachments import ScanStatus

if TYPE_CHECKING:
    from models.case import Case
    from models.user import User


class Attachment(Model):
    """A file on a case, written with the case event that added it (issue 18).

    The bytes live in the attachment store under their SHA-256 (``sha256``; the thumbnail's
    under ``thumbnail_sha256``); this row is what the case says about them. Removing a file
    keeps the row (the history names it) and purges the bytes: ``removed_at`` is then set.
    ``comment_id``/``work_note_id`` name the note it was sent with, if any; an ``internal``
    file is the staff's only, like a work note.
    """

    id = fields.UUIDField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="attachments", on_delete=fields.RESTRICT
    )
    uploaded_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="attachments", on_delete=fields.RESTRICT
    )
    filename = fields.CharField(max_length=255)
    content_type = fields.CharField(max_length=128)
    size = fields.BigIntField()
    sha256 = fields.CharField(max_length=64, db_index=True)
    thumbnail_sha256 = fields.CharField(max_length=64, null=True, db_index=True)
    internal = fields.BooleanField(default=False)
    scan_status = fields.CharEnumField(ScanStatus, max_length=16)
    comment_id = fields.IntField(null=True)
    work_note_id = fields.IntField(null=True)
    event_sequence = fields.BigIntField()
    created_at = fields.DatetimeField()
    removed_at = fields.DatetimeField(null=True)
    removed_by_id = fields.CharField(max_length=255, null=True)
    removal_reason = fields.TextField(null=True)
    # The scanner (services/attachment_scans.py): a process scanning a pending file holds it until
    # ``scan_lease_until`` (another takes it over after, should that one have crashed); scans
    # that failed for this file alone are counted, and after a few it is given up as UNSCANNABLE.
    scan_lease_until = fields.DatetimeField(null=True)
    scan_attempts = fields.IntField(default=0, db_default=0)
    # When the bytes of a quarantined (INFECTED) file were purged from the store; None while they
    # may still be there (a crash between the verdict's commit and the purge): each scan pass
    # purges those.
    purged_at = fields.DatetimeField(null=True)

    case_id: Any
    uploaded_by_id: str

    class Meta:
        table = "attachments"
        indexes = (("case_id", "created_at"),)
