"""Sign-in without tokens (issue 17): mailed sign-in links, the browser sessions they start, and
the deactivation of users (which ends their sessions).

A sign-in link's mail is about no case, so the mail outbox's ``case_id`` may now be empty. On
SQLite altering a column rebuilds the table, which drops its index and unique constraint: they are put back.
"""

from typing import Any
from uuid import uuid4

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

MAIL_INDEXES = [
    'CREATE INDEX IF NOT EXISTS "idx_mail_delive_next_at_ed38b4" ON "mail_deliveries" ("next_attempt_at")',
    'CREATE UNIQUE INDEX IF NOT EXISTS "uid_mail_delive_event_s_2b96cb" ON "mail_deliveries" ("event_sequence", "recipient")',
]


async def restore_mail_indexes(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "sqlite":
        for sql in MAIL_INDEXES:
            await client.execute_query(sql)


async def nothing_to_undo(apps: Any, schema_editor: Any) -> None:
    return None


class Migration(migrations.Migration):
    dependencies = [('models', '0015_mail')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SignInLink',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('email', fields.CharField(db_index=True, max_length=320)),
                ('secret_hash', fields.CharField(unique=True, max_length=64)),
                ('client_address', fields.CharField(db_index=True, max_length=64)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sign_in_links', 'app': 'models', 'pk_attr': 'id', 'table_description': "A single-use link mailed to ``email``: opening it before ``expires_at`` signs its owner in."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BrowserSession',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('family', fields.UUIDField(db_index=True)),
                ('user_id', fields.CharField(db_index=True, max_length=255)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('rotated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'browser_sessions', 'app': 'models', 'pk_attr': 'id', 'table_description': "One refresh token of a browser's session: rotating it writes the next row of its ``family``."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='User',
            name='active',
            field=fields.BooleanField(default=True, db_default=True),
        ),
        ops.AlterField(
            model_name='MailDelivery',
            name='case_id',
            field=fields.UUIDField(null=True),
        ),
        ops.RunPython(restore_mail_indexes, nothing_to_undo),
    ]
