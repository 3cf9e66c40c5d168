"""Partner agencies and referrals, and the outbox made able to address a partner.

Making ``outbox_deliveries.endpoint_id`` nullable rebuilds the table on SQLite, and Tortoise's
rebuild drops the table's other unique constraint and indexes; ``restore_outbox_indexes`` puts
them back (a no-op on PostgreSQL, where ALTER COLUMN keeps them).
"""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.referral import ReferralDirection, ReferralStatus
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import UniqueConstraint

OUTBOX_INDEXES = [
    'CREATE UNIQUE INDEX IF NOT EXISTS "uid_outbox_deli_endpoin_984fc1" ON "outbox_deliveries" ("endpoint_id", "event_sequence")',
    'CREATE INDEX IF NOT EXISTS "idx_outbox_deli_next_at_523fd0" ON "outbox_deliveries" ("next_attempt_at")',
    'CREATE INDEX IF NOT EXISTS "idx_outbox_deli_endpoin_4e647d" ON "outbox_deliveries" ("endpoint_id", "status")',
]


async def restore_outbox_indexes(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "sqlite":
        for sql in OUTBOX_INDEXES:
            await client.execute_query(sql)


async def nothing_to_undo(apps: Any, schema_editor: Any) -> None:
    return None


class Migration(migrations.Migration):
    dependencies = [('models', '0008_webhooks')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PartnerAgency',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=32)),
                ('name', fields.CharField(max_length=200)),
                ('graphql_url', fields.CharField(max_length=2000)),
                ('shared_secret', fields.CharField(max_length=128)),
                ('receive_case_type', fields.ForeignKeyField('models.CaseType', source_field='receive_case_type_id', null=True, db_constraint=True, to_field='id', related_name='partner_agencies', on_delete=OnDelete.SET_NULL)),
                ('active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'partner_agencies', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Another agency running casegraph, configured by an administrator on both sides.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Referral',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('direction', fields.CharEnumField(description='OUTBOUND: OUTBOUND\nINBOUND: INBOUND', enum_type=ReferralDirection, max_length=16)),
                ('partner', fields.ForeignKeyField('models.PartnerAgency', source_field='partner_id', db_constraint=True, to_field='id', related_name='referrals', on_delete=OnDelete.RESTRICT)),
                ('case', fields.ForeignKeyField('models.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='referrals', on_delete=OnDelete.CASCADE)),
                ('task', fields.ForeignKeyField('models.CaseTask', source_field='task_id', null=True, db_constraint=True, to_field='id', related_name='referrals', on_delete=OnDelete.SET_NULL)),
                ('remote_referral_id', fields.UUIDField(null=True)),
                ('status', fields.CharEnumField(default=ReferralStatus.PENDING, description='PENDING: PENDING\nDELIVERED: DELIVERED\nACCEPTED: ACCEPTED\nREJECTED: REJECTED\nFAILED: FAILED', enum_type=ReferralStatus, max_length=16)),
                ('note', fields.TextField(null=True, unique=False)),
                ('reason', fields.TextField(null=True, unique=False)),
                ('remote_case_id', fields.CharField(null=True, max_length=64)),
                ('remote_case_number', fields.CharField(null=True, max_length=32)),
                ('remote_stage', fields.CharField(null=True, max_length=32)),
                ('remote_status', fields.CharField(null=True, max_length=32)),
                ('remote_resolution_code', fields.CharField(null=True, max_length=32)),
                ('remote_resolution_notes', fields.TextField(null=True, unique=False)),
                ('remote_sequence', fields.BigIntField(default=0)),
                ('last_error', fields.CharField(null=True, max_length=500)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='referrals', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'referrals', 'app': 'models', 'unique_together': (('partner', 'remote_referral_id'),), 'indexes': [Index(fields=['case_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One case (or one task of it) handed to a partner: OUTBOUND here, INBOUND at the partner.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReferralUpdate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('referral', fields.ForeignKeyField('models.Referral', source_field='referral_id', db_constraint=True, to_field='id', related_name='updates', on_delete=OnDelete.CASCADE)),
                ('sequence', fields.BigIntField()),
                ('payload', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'referral_updates', 'app': 'models', 'unique_together': (('referral', 'sequence'),), 'pk_attr': 'id', 'table_description': "A partner's update already applied to an OUTBOUND referral: receiving it again is a no-op."},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='OutboxDelivery',
            options={'table': 'outbox_deliveries', 'app': 'models', 'unique_together': (('endpoint', 'event_sequence'), ('partner', 'kind', 'event_sequence')), 'indexes': [Index(fields=['endpoint_id', 'status'])], 'pk_attr': 'id', 'table_description': 'One event to send to one endpoint or partner, enqueued once per (destination, kind, event).'},
        ),
        ops.AlterField(
            model_name='OutboxDelivery',
            name='endpoint',
            field=fields.ForeignKeyField('models.WebhookEndpoint', source_field='endpoint_id', null=True, db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='OutboxDelivery',
            name='partner',
            field=fields.ForeignKeyField('models.PartnerAgency', source_field='partner_id', null=True, db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='OutboxDelivery',
            name='referral',
            field=fields.ForeignKeyField('models.Referral', source_field='referral_id', null=True, db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE),
        ),
        ops.AddConstraint(
            model_name='OutboxDelivery',
            constraint=UniqueConstraint(fields=('partner', 'kind', 'event_sequence'), name=None),
        ),
        ops.RunPython(restore_outbox_indexes, nothing_to_undo),
    ]
