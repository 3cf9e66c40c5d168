"""Intake by staff (issue 19): a constituent's phone number, and the indexes the desk's search of
known constituents reads (``services/constituents.py``).

* ``users.phone``: the number as the caller gave it (shown); ``users.phone_digits``: its digits
  alone, which deduplicate registrations and are searched by prefix (``users_phone_digits``).
* ``users_name_lower``, ``users_email_lower``: the lower-cased name and address, searched by
  prefix as a range of that expression. Not partial: SQLite uses a partial index only when the
  query spells its condition the same way, and Tortoise writes ``NOT x IS NULL`` (0012's partial
  ``users_email_lower_unique`` is therefore not read by the search). Expression indexes cannot
  be declared on a model, so this migration creates them, and the number's with them.
"""

from typing import Any, Final

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

INDEXES: Final = {
    "users_name_lower": "users (lower(name))",
    "users_email_lower": "users (lower(email))",
    "users_phone_digits": "users (phone_digits)",
}


async def forward(apps: Any, schema_editor: Any) -> None:
    for name, target in INDEXES.items():
        await schema_editor.client.execute_query(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


async def backward(apps: Any, schema_editor: Any) -> None:
    for name in INDEXES:
        await schema_editor.client.execute_query(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [('models', '0024_perf')]

    initial = False

    operations = [
        ops.AddField(
            model_name='User',
            name='phone',
            field=fields.CharField(null=True, max_length=40),
        ),
        ops.AddField(
            model_name='User',
            name='phone_digits',
            field=fields.CharField(null=True, max_length=40),
        ),
        ops.RunPython(forward, backward),
    ]
