"""Maintained case counts, so a queue's ``totalCount`` does not count the visible cases per request.

``case_counts`` holds how many submitted (not draft), not deleted cases there are per assignment
group (0 for none), stage, status and partner agency ('' for none). Triggers on ``cases`` keep it
exact for every write, the ORM's, raw SQL's and bulk loads' alike; the table is filled from the
existing rows here, in the migration's transaction (creating the triggers locks out writers until
it commits, so nothing is missed or counted twice).

On PostgreSQL the triggers run once per statement, over its transition tables, and a count is
split into rows per server process (``shard`` = ``pg_backend_pid()``): a process runs one
transaction at a time, so concurrent writers never wait on one another's counter row until
commit (one row per key made 32 writers of one group queue and deadlock), and a reader sums the
shards. ``migrate`` folds the rows of processes that are gone into shard 0. SQLite has row
triggers only and serializes writes anyway: everything is shard 0.

The per-user parts of a total are counted by index: drafts by their author and cases by their
inspector use the partial indexes of 0013.
"""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

TABLE = """
CREATE TABLE IF NOT EXISTS case_counts (
    group_key INT NOT NULL,
    status VARCHAR(32) NOT NULL,
    stage VARCHAR(16) NOT NULL,
    agency VARCHAR(100) NOT NULL,
    shard INT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (group_key, status, stage, agency, shard)
)
"""
BACKFILL = """
INSERT INTO case_counts (group_key, status, stage, agency, shard, n)
SELECT COALESCE(assignment_group_id, 0), status, stage, COALESCE(referred_agency, ''), 0, count(*)
FROM cases WHERE deleted_at IS NULL AND status <> 'DRAFT'
GROUP BY COALESCE(assignment_group_id, 0), status, stage, COALESCE(referred_agency, '')
"""

# One upsert per statement, of the net change per key (rows of this backend's shard only, so no
# other writer waits on them). Statement-level with transition tables rather than per row: within
# one transaction every per-row upsert of a key adds a version of the same counter row that the
# next must walk past, so a bulk load of one group's cases would cost quadratic time.
_POSTGRES_DELTAS = """
INSERT INTO case_counts (group_key, status, stage, agency, shard, n)
SELECT group_key, status, stage, agency, pg_backend_pid(), SUM(delta) FROM ({rows}) AS changed
GROUP BY group_key, status, stage, agency HAVING SUM(delta) <> 0
ON CONFLICT (group_key, status, stage, agency, shard) DO UPDATE SET n = case_counts.n + EXCLUDED.n;
"""
_POSTGRES_ROWS = """
SELECT COALESCE(assignment_group_id, 0) AS group_key, status, stage, COALESCE(referred_agency, '') AS agency,
       {delta} AS delta
FROM {table} WHERE deleted_at IS NULL AND status <> 'DRAFT'
"""
_INSERTED = _POSTGRES_ROWS.format(table="inserted_cases", delta=1)
_DELETED = _POSTGRES_ROWS.format(table="deleted_cases", delta=-1)
_UPDATED = (
    _POSTGRES_ROWS.format(table="old_cases", delta=-1)
    + " UNION ALL "
    + _POSTGRES_ROWS.format(table="new_cases", delta=1)
)
POSTGRES_TRIGGERS = {
    # name: (event and transition tables, the rows whose keys it counts)
    "cases_counted_insert": ("INSERT ON cases REFERENCING NEW TABLE AS inserted_cases", _INSERTED),
    "cases_counted_delete": ("DELETE ON cases REFERENCING OLD TABLE AS deleted_cases", _DELETED),
    # Transition tables allow no column list: an update of other columns nets to zero, no write.
    "cases_counted_update": ("UPDATE ON cases REFERENCING OLD TABLE AS old_cases NEW TABLE AS new_cases", _UPDATED),
}


def _postgres_trigger(name: str, event: str, rows: str) -> list[str]:
    function = f"casegraph_{name}"
    return [
        f"""
        CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
        BEGIN
            {_POSTGRES_DELTAS.format(rows=rows)}
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql
        """,
        f"DROP TRIGGER IF EXISTS {name} ON cases",
        f"CREATE TRIGGER {name} AFTER {event} FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
    ]


POSTGRES_UP = [
    TABLE,
    *(sql for name, (event, rows) in POSTGRES_TRIGGERS.items() for sql in _postgres_trigger(name, event, rows)),
    """
    CREATE OR REPLACE FUNCTION casegraph_uncount_all_cases() RETURNS trigger AS $$
    BEGIN
        DELETE FROM case_counts;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS cases_counted_truncate ON cases",
    """
    CREATE TRIGGER cases_counted_truncate AFTER TRUNCATE ON cases
    FOR EACH STATEMENT EXECUTE FUNCTION casegraph_uncount_all_cases()
    """,
    "DELETE FROM case_counts",
    BACKFILL,
]
POSTGRES_DOWN = [
    *(f"DROP TRIGGER IF EXISTS {name} ON cases" for name in POSTGRES_TRIGGERS),
    "DROP TRIGGER IF EXISTS cases_counted_truncate ON cases",
    *(f"DROP FUNCTION IF EXISTS casegraph_{name}()" for name in POSTGRES_TRIGGERS),
    "DROP FUNCTION IF EXISTS casegraph_uncount_all_cases()",
    "DROP TABLE IF EXISTS case_counts",
]

# SQLite's upsert after INSERT ... SELECT needs a WHERE (its parser would read ON as a join).
_SQLITE_COUNT = """
INSERT INTO case_counts (group_key, status, stage, agency, shard, n)
SELECT COALESCE({row}.assignment_group_id, 0), {row}.status, {row}.stage, COALESCE({row}.referred_agency, ''), 0, {delta}
WHERE {row}.deleted_at IS NULL AND {row}.status <> 'DRAFT'
ON CONFLICT (group_key, status, stage, agency, shard) DO UPDATE SET n = n + excluded.n;
"""
SQLITE_UP = [
    TABLE,
    f"""
    CREATE TRIGGER IF NOT EXISTS cases_counted_insert AFTER INSERT ON cases
    BEGIN {_SQLITE_COUNT.format(row="NEW", delta=1)} END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS cases_counted_delete AFTER DELETE ON cases
    BEGIN {_SQLITE_COUNT.format(row="OLD", delta=-1)} END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS cases_counted_update
    AFTER UPDATE OF assignment_group_id, status, stage, referred_agency, deleted_at ON cases
    WHEN OLD.assignment_group_id IS NOT NEW.assignment_group_id OR OLD.status IS NOT NEW.status
      OR OLD.stage IS NOT NEW.stage OR OLD.referred_agency IS NOT NEW.referred_agency
      OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
    BEGIN {_SQLITE_COUNT.format(row="OLD", delta=-1)} {_SQLITE_COUNT.format(row="NEW", delta=1)} END
    """,
    "DELETE FROM case_counts",
    BACKFILL,
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS cases_counted_insert",
    "DROP TRIGGER IF EXISTS cases_counted_delete",
    "DROP TRIGGER IF EXISTS cases_counted_update",
    "DROP TABLE IF EXISTS case_counts",
]


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
    dependencies = [("models", "0013_case_page_indexes")]

    initial = False

    operations = [ops.RunPython(forward, backward)]
