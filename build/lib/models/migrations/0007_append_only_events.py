"""The event log is the audit trail: the database itself refuses to change or remove a row.

The application has no update or delete path for ``case_events``; these triggers make that hold
for anything else connected with the same role too (a stray script, a compromised process).
"""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

POSTGRES_UP = [
    """
    CREATE OR REPLACE FUNCTION casegraph_refuse_event_change() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'case_events is append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS case_events_append_only ON case_events",
    """
    CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events
    FOR EACH ROW EXECUTE FUNCTION casegraph_refuse_event_change()
    """,
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS case_events_append_only ON case_events",
    "DROP FUNCTION IF EXISTS casegraph_refuse_event_change()",
]
SQLITE_UP = [
    """
    CREATE TRIGGER IF NOT EXISTS case_events_no_update BEFORE UPDATE ON case_events
    BEGIN SELECT RAISE(ABORT, 'case_events is append-only: UPDATE refused'); END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS case_events_no_delete BEFORE DELETE ON case_events
    BEGIN SELECT RAISE(ABORT, 'case_events is append-only: DELETE refused'); END
    """,
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS case_events_no_update", "DROP TRIGGER IF EXISTS case_events_no_delete"]


async def _run(schema_editor: Any, statements: dict[str, list[str]]) -> None:
    client = schema_editor.client
    for sql in statements.get(client.capabilities.dialect, []):
        # One statement per call: SQLite's script runner would split the trigger body on ';'.
        await client.execute_query(sql)


async def forward(apps: Any, schema_editor: Any) -> None:
    await _run(schema_editor, {"postgres": POSTGRES_UP, "sqlite": SQLITE_UP})


async def backward(apps: Any, schema_editor: Any) -> None:
    await _run(schema_editor, {"postgres": POSTGRES_DOWN, "sqlite": SQLITE_DOWN})


class Migration(migrations.Migration):
    dependencies = [("models", "0006_public_guard")]

    initial = False

    operations = [ops.RunPython(forward, backward)]
