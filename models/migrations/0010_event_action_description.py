"""``case_events.action`` gets a fixed description instead of the generated list of actions.

Only the column's comment changes. On SQLite Tortoise would rebuild the whole table for it, which
drops the append-only triggers (0007) and the indexes, so there the change is recorded in the
migration state only; PostgreSQL updates the column comment in place.

An earlier rebuild of ``case_events`` on SQLite (0004) lost its (case_id, sequence) index, which
every case history reads: ``restore_history_index`` puts it back (already there on PostgreSQL).
"""

from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from casegraph.domain.enums import CaseAction


class CommentOnlyAlterField(ops.AlterField):
    """An AlterField that leaves SQLite's table alone (a comment is not worth a rebuild)."""

    async def database_forward(self, app_label: str, old_state: Any, new_state: Any, state_editor: Any = None) -> None:
        if state_editor is not None and state_editor.client.capabilities.dialect == "sqlite":
            return
        await super().database_forward(app_label, old_state, new_state, state_editor)

    async def database_backward(self, app_label: str, old_state: Any, new_state: Any, state_editor: Any = None) -> None:
        if state_editor is not None and state_editor.client.capabilities.dialect == "sqlite":
            return
        await super().database_backward(app_label, old_state, new_state, state_editor)


async def restore_history_index(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "sqlite":
        await client.execute_query(
            'CREATE INDEX IF NOT EXISTS "idx_case_events_case_id_5acdcb" ON "case_events" ("case_id", "sequence")'
        )


async def nothing_to_undo(apps: Any, schema_editor: Any) -> None:
    return None


class Migration(migrations.Migration):
    dependencies = [("models", "0009_referrals")]

    initial = False

    operations = [
        CommentOnlyAlterField(
            model_name="CaseEvent",
            name="action",
            field=fields.CharEnumField(description="A CaseAction name.", enum_type=CaseAction, max_length=32),
        ),
        ops.RunPython(restore_history_index, nothing_to_undo),
    ]
