"""The attachment scanner across processes and its failures (issue 18): a lease on a pending
file (``scan_lease_until``) so one process scans it and a crashed one's claim runs out, the scans
that failed for the file alone (``scan_attempts``; a few and it is UNSCANNABLE, never served), and
when a quarantined file's bytes were purged (``purged_at``; until then each pass purges them).

``scan_status`` gains UNSCANNABLE: only its generated comment changes, so SQLite's table is not
rebuilt for it (a rebuild drops the indexes; see 0010) and PostgreSQL updates the comment."""

from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from casegraph.domain.attachments import ScanStatus


class CommentOnlyAlterField(ops.AlterField):
    """An AlterField that leaves SQLite's table alone (as 0010's: a comment is not worth a rebuild)."""

    async def database_forward(self, app_label: str, old_state: Any, new_state: Any, state_editor: Any = None) -> None:
        if state_editor is not None and state_editor.client.capabilities.dialect == "sqlite":
            return
        await super().database_forward(app_label, old_state, new_state, state_editor)

    async def database_backward(self, app_label: str, old_state: Any, new_state: Any, state_editor: Any = None) -> None:
        if state_editor is not None and state_editor.client.capabilities.dialect == "sqlite":
            return
        await super().database_backward(app_label, old_state, new_state, state_editor)


class Migration(migrations.Migration):
    dependencies = [('models', '0025_constituents')]

    initial = False

    operations = [
        CommentOnlyAlterField(
            model_name='Attachment',
            name='scan_status',
            field=fields.CharEnumField(description='PENDING: PENDING\nCLEAN: CLEAN\nINFECTED: INFECTED\nNOT_SCANNED: NOT_SCANNED\nUNSCANNABLE: UNSCANNABLE', enum_type=ScanStatus, max_length=16),
        ),
        ops.AddField(
            model_name='Attachment',
            name='scan_lease_until',
            field=fields.DatetimeField(null=True),
        ),
        ops.AddField(
            model_name='Attachment',
            name='scan_attempts',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Attachment',
            name='purged_at',
            field=fields.DatetimeField(null=True),
        ),
    ]
