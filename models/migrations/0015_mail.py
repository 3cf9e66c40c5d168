"""Outbound mail (issue 17): the mail outbox, and each user's language and mail preferences."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.outbox import DeliveryStatus
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0014_case_counts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MailDelivery',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('event_sequence', fields.BigIntField(null=True)),
                ('notification_id', fields.IntField(null=True, unique=True)),
                ('case_id', fields.UUIDField()),
                ('recipient', fields.CharField(max_length=320)),
                ('user_id', fields.CharField(null=True, max_length=255)),
                ('template', fields.CharField(max_length=32)),
                ('locale', fields.CharField(max_length=16)),
                ('essential', fields.BooleanField(default=True)),
                ('facts', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('status', fields.CharEnumField(default=DeliveryStatus.PENDING, description='PENDING: PENDING\nDELIVERED: DELIVERED\nFAILED: FAILED', enum_type=DeliveryStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(null=True, max_length=500)),
                ('last_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'mail_deliveries', 'app': 'models', 'unique_together': (('event_sequence', 'recipient'),), 'pk_attr': 'id', 'table_description': "One mail of ``template`` about one case event to one address, in the recipient's language."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='User',
            name='locale',
            field=fields.CharField(default='en', db_default='en', max_length=16),
        ),
        ops.AddField(
            model_name='User',
            name='non_essential_mail',
            field=fields.BooleanField(default=True, db_default=True),
        ),
        ops.AddField(
            model_name='User',
            name='notification_mail',
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
