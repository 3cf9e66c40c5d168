"""Sign-in with an OpenID provider (issue 17): people's accounts there, and the sign-ins under way."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0016_sign_in')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OidcFlow',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('state_hash', fields.CharField(unique=True, max_length=64)),
                ('browser_hash', fields.CharField(max_length=64)),
                ('nonce', fields.CharField(max_length=64)),
                ('verifier', fields.CharField(max_length=128)),
                ('next_path', fields.CharField(max_length=512)),
                ('client_address', fields.CharField(db_index=True, max_length=64)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'oidc_flows', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One sign-in with an OpenID provider under way: what the callback checks, used once.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UserIdentity',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('issuer', fields.CharField(max_length=255)),
                ('subject', fields.CharField(max_length=255)),
                ('user_id', fields.CharField(db_index=True, max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_signed_in_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'user_identities', 'app': 'models', 'unique_together': (('issuer', 'subject'),), 'pk_attr': 'id', 'table_description': "A person's account at an OpenID provider: (``issuer``, ``subject``) signs in as ``user_id``."},
            bases=['Model'],
        ),
    ]
