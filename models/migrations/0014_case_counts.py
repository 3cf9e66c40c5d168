"""Maintained case counts, so a queue's ``totalCount`` does not count the visible cases per request.

``case_counts`` holds how many submitted (not draft), not deleted cases there are per assignment
group (0 for none), stage, status and partner agency ('' for none). Triggers on ``cases`` keep it
exact for every write, the ORM's, raw SQL's and bulk loads' alike; the table is filled from the
existing rows here, in the migration's transaction (creating the triggers locks out writers until
it commits, so nothing is missed or counted twice).

On PostgreSQL a count is split into rows per server process (``shard`` = ``pg_backend_pid()``):
a process runs one transaction at a time, so concurrent writers never wait on one another's
counter row until commit, and a reader sums the shards. ``migrate`` folds the rows of processes
that are gone into shard 0. SQLite serializes writes anyway: everything is shard 0.

Two partial indexes serve the per-user parts of a total, counted by index: drafts by their
author and cases by their inspector.
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
INDEXES = [
    "CREATE INDEX IF NOT EXISTS cases_draft_author ON cases (author_id) WHERE status = 'DRAFT'",
    "CREATE INDEX IF NOT EXISTS cases_inspector ON cases (inspector_id) WHERE inspector_id IS NOT NULL",
]
BACKFILL = """
INSERT INTO case_counts (group_key, status, stage, agency, shard, n)
SELECT COALESCE(assignment_group_id, 0), status, stage, COALESCE(referred_agency, ''), 0, count(*)
FROM cases WHERE deleted_at IS NULL AND status <> 'DRAFT'
GROUP BY COALESCE(assignment_group_id, 0), status, stage, COALESCE(referred_agency, '')
"""

POSTGRES_UP = [
    TABLE,
    *INDEXES,
    """
    CREATE OR REPLACE FUNCTION casegraph_count_case(INT, TEXT, TEXT, TEXT, INT) RETURNS void AS $$
        INSERT INTO case_counts (group_key, status, stage, agency, shard, n)
        VALUES (COALESCE($1, 0), $2, $3, COALESCE($4, ''), pg_backend_pid(), $5)
        ON CONFLICT (group_key, status, stage, agency, shard) DO UPDATE SET n = case_counts.n + EXCLUDED.n
    $$ LANGUAGE sql
    """,
    """
    CREATE OR REPLACE FUNCTION casegraph_count_cases() RETURNS trigger AS $$
    DECLARE
        counted_before BOOLEAN := TG_OP <> 'INSERT' AND OLD.deleted_at IS NULL AND OLD.status <> 'DRAFT';
        counted_after BOOLEAN := TG_OP <> 'DELETE' AND NEW.deleted_at IS NULL AND NEW.status <> 'DRAFT';
    BEGIN
        IF counted_before AND counted_after AND NEW.assignment_group_id IS NOT DISTINCT FROM OLD.assignment_group_id
           AND NEW.status = OLD.status AND NEW.stage = OLD.stage
           AND NEW.referred_agency IS NOT DISTINCT FROM OLD.referred_agency THEN
            RETURN NULL;  -- counted under the same key before and after
        END IF;
        IF counted_before THEN
            PERFORM casegraph_count_case(OLD.assignment_group_id, OLD.status, OLD.stage, OLD.referred_agency, -1);
        END IF;
        IF counted_after THEN
            PERFORM casegraph_count_case(NEW.assignment_group_id, NEW.status, NEW.stage, NEW.referred_agency, 1);
        END IF;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE OR REPLACE FUNCTION casegraph_uncount_all_cases() RETURNS trigger AS $$
    BEGIN
        DELETE FROM case_counts;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS cases_counted ON cases",
    """
    CREATE TRIGGER cases_counted
    AFTER INSERT OR DELETE OR UPDATE OF assignment_group_id, status, stage, referred_agency, deleted_at ON cases
    FOR EACH ROW EXECUTE FUNCTION casegraph_count_cases()
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
    "DROP TRIGGER IF EXISTS cases_counted ON cases",
    "DROP TRIGGER IF EXISTS cases_counted_truncate ON cases",
    "DROP FUNCTION IF EXISTS casegraph_count_cases()",
    "DROP FUNCTION IF EXISTS casegraph_uncount_all_cases()",
    "DROP FUNCTION IF EXISTS casegraph_count_case(INT, TEXT, TEXT, TEXT, INT)",
    "DROP INDEX IF EXISTS cases_draft_author",
    "DROP INDEX IF EXISTS cases_inspector",
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
    *INDEXES,
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
    "DROP INDEX IF EXISTS cases_draft_author",
    "DROP INDEX IF EXISTS cases_inspector",
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
    dependencies = [("models", "0012_unique_user_email")]

    initial = False

    operations = [ops.RunPython(forward, backward)]
