"""The edges of issue 17's sign-in and mail work: whether a person's mail language is their
choice or only the default (``users.locale_chosen``), so that a chosen English is remembered."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0018_deflection')]

    initial = False

    operations = [
        ops.AddField(
            model_name='User',
            name='locale_chosen',
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
