"""Attachments (issue 18): the files on a case, their bytes in the attachment store by SHA-256."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from casegraph.domain.attachments import ScanStatus
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0019_fixes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Attachment',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('case', fields.ForeignKeyField('models.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.RESTRICT)),
                ('uploaded_by', fields.ForeignKeyField('models.User', source_field='uploaded_by_id', db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.RESTRICT)),
                ('filename', fields.CharField(max_length=255)),
                ('content_type', fields.CharField(max_length=128)),
                ('size', fields.BigIntField()),
                ('sha256', fields.CharField(db_index=True, max_length=64)),
                ('thumbnail_sha256', fields.CharField(null=True, db_index=True, max_length=64)),
                ('internal', fields.BooleanField(default=False)),
                ('scan_status', fields.CharEnumField(description='PENDING: PENDING\nCLEAN: CLEAN\nINFECTED: INFECTED\nNOT_SCANNED: NOT_SCANNED', enum_type=ScanStatus, max_length=16)),
                ('comment_id', fields.IntField(null=True)),
                ('work_note_id', fields.IntField(null=True)),
                ('event_sequence', fields.BigIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('removed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('removed_by_id', fields.CharField(null=True, max_length=255)),
                ('removal_reason', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'attachments', 'app': 'models', 'indexes': [Index(fields=['case_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'A file on a case, written with the case event that added it (issue 18).'},
            bases=['Model'],
        ),
    ]
