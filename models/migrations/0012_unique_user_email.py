"""One user per e-mail address: a unique index on the lower-cased address, where it is set.

``provision`` binds a token's address to its user only when no other user holds it, but two
simultaneous first sign-ins claiming the same free address both passed that check and both
bound it; e-mail intake would then file mail from it under either. The database now refuses the
second binding.

Existing duplicates (made by that race) are settled first: the address stays with the user who
had it first (the oldest ``created_at``, then the smallest id) — the one mail from it has been
reaching, as ``provision`` intends — and is removed from the others, whose next token claiming
it is refused the address as any later claimant is. Nothing else of those users changes.
"""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

INDEX = "users_email_lower_unique"

DUPLICATES = """
UPDATE users SET email = NULL
WHERE email IS NOT NULL AND EXISTS (
    SELECT 1 FROM users AS first
    WHERE first.email IS NOT NULL AND lower(first.email) = lower(users.email) AND first.id <> users.id
      AND (first.created_at < users.created_at OR (first.created_at = users.created_at AND first.id < users.id))
)
"""
UP = [DUPLICATES, f"CREATE UNIQUE INDEX IF NOT EXISTS {INDEX} ON users (lower(email)) WHERE email IS NOT NULL"]
DOWN = [f"DROP INDEX IF EXISTS {INDEX}"]


async def _run(schema_editor: Any, statements: list[str]) -> None:
    client = schema_editor.client
    for sql in statements:
        await client.execute_query(sql)


async def forward(apps: Any, schema_editor: Any) -> None:
    await _run(schema_editor, UP)


async def backward(apps: Any, schema_editor: Any) -> None:
    await _run(schema_editor, DOWN)


class Migration(migrations.Migration):
    dependencies = [("models", "0011_lookup_indexes")]

    initial = False

    operations = [ops.RunPython(forward, backward)]
