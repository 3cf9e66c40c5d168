"""Full-text search over cases (issue 19): ``cases(filter: {text})`` reads these, not ``cases``.

Per case, the searchable text is its number, title and description and its public comments; its
work notes are searchable by staff only. Triggers on ``cases``, ``comments`` and ``work_notes``
keep the index exact for every write — case creation, ``updateCase``, comments, e-mail intake,
notes, raw SQL and bulk loads alike — in the writing statement's own transaction (every path
ends in a row write there; an application hook would be one more place a new path could miss).
Existing rows are indexed here, in the migration's transaction.

PostgreSQL: ``case_search`` holds two ``tsvector`` per case, each with a GIN index:
``public_vector`` (what a constituent may match) and ``staff_vector`` (the same plus work
notes), so a constituent's search cannot match internal text whatever the query. The 'simple'
configuration: constituents write English and Spanish, and a stemmer for one language mangles the
other (the 'english' one stems "casas" to "casa" but "llueve" not at all, and drops "a", a Spanish
word); 'simple' lowercases and splits, the same for both, after ``casegraph_search_fold`` drops
accents (people type "camion" for "camión"). Weights: number and title A,
description B, comments C, work notes D (``ts_rank`` weighs them so).

SQLite: the FTS5 table ``case_search_fts`` with the same texts in columns (``unicode61``
tokenizer, diacritics folded), ranked by ``bm25`` with column weights in the same order. FTS5
rows need integer ids: ``case_search_keys`` gives each case one (a rowid table's own rowid may
change on VACUUM, these never do).
"""

from typing import Any, Final

from tortoise import migrations
from tortoise.migrations import operations as ops

# Text indexed per part: a tsvector holds at most 1 MB; a case's comments are cut to this many
# characters (far more than a case desk's thread) so a long thread can never make a write fail.
PART_LIMIT: Final = 200_000

# Lowercase without accents, so "camion" finds "camión" as SQLite's ``remove_diacritics`` does
# (the unaccent extension needs a superuser to install; this needs nothing).
FOLD_FROM: Final = "áàâäãåéèêëíìîïóòôöõúùûüñçý"
FOLD_TO: Final = "aaaaaaeeeeiiiiooooouuuuncy"
_POSTGRES_FOLD = f"""
CREATE OR REPLACE FUNCTION casegraph_search_fold(t text) RETURNS text AS $$
    SELECT translate(lower(t), '{FOLD_FROM}', '{FOLD_TO}')
$$ LANGUAGE sql IMMUTABLE PARALLEL SAFE
"""

_POSTGRES_REFRESH = f"""
CREATE OR REPLACE FUNCTION casegraph_case_search_refresh(target uuid) RETURNS void AS $$
    INSERT INTO case_search (case_id, public_vector, staff_vector)
    SELECT c.id, p.v, p.v || n.v
    FROM cases c
    CROSS JOIN LATERAL (
        SELECT setweight(to_tsvector('simple', casegraph_search_fold(c.number)), 'A')
            || setweight(to_tsvector('simple', casegraph_search_fold(left(COALESCE(c.title, ''), {PART_LIMIT}))), 'A')
            || setweight(to_tsvector('simple', casegraph_search_fold(left(COALESCE(c.description, ''), {PART_LIMIT}))), 'B')
            || setweight(to_tsvector('simple', casegraph_search_fold(left(COALESCE(
                (SELECT string_agg(body, ' ' ORDER BY id) FROM comments WHERE case_id = c.id), ''), {PART_LIMIT}))), 'C')
            AS v
    ) p
    CROSS JOIN LATERAL (
        SELECT setweight(to_tsvector('simple', casegraph_search_fold(left(COALESCE(
            (SELECT string_agg(body, ' ' ORDER BY id) FROM work_notes WHERE case_id = c.id), ''), {PART_LIMIT}))), 'D')
            AS v
    ) n
    WHERE c.id = target
    ON CONFLICT (case_id) DO UPDATE
    SET public_vector = EXCLUDED.public_vector, staff_vector = EXCLUDED.staff_vector
$$ LANGUAGE sql
"""

POSTGRES_UP: Final = [
    """
    CREATE TABLE IF NOT EXISTS case_search (
        case_id UUID PRIMARY KEY,
        public_vector TSVECTOR NOT NULL,
        staff_vector TSVECTOR NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS case_search_public ON case_search USING GIN (public_vector)",
    "CREATE INDEX IF NOT EXISTS case_search_staff ON case_search USING GIN (staff_vector)",
    _POSTGRES_FOLD,
    _POSTGRES_REFRESH,
    """
    CREATE OR REPLACE FUNCTION casegraph_case_search_case() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM case_search WHERE case_id = OLD.id;
        ELSE
            PERFORM casegraph_case_search_refresh(NEW.id);
        END IF;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE OR REPLACE FUNCTION casegraph_case_search_note() RETURNS trigger AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            PERFORM casegraph_case_search_refresh(OLD.case_id);
        END IF;
        IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.case_id IS DISTINCT FROM OLD.case_id
                                  OR NEW.body IS DISTINCT FROM OLD.body) THEN
            PERFORM casegraph_case_search_refresh(NEW.case_id);
        END IF;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE OR REPLACE FUNCTION casegraph_case_search_clear() RETURNS trigger AS $$
    BEGIN
        DELETE FROM case_search;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS case_search_case_written ON cases",
    """
    CREATE TRIGGER case_search_case_written
    AFTER INSERT OR DELETE OR UPDATE OF number, title, description ON cases
    FOR EACH ROW EXECUTE FUNCTION casegraph_case_search_case()
    """,
    "DROP TRIGGER IF EXISTS case_search_cases_truncated ON cases",
    """
    CREATE TRIGGER case_search_cases_truncated AFTER TRUNCATE ON cases
    FOR EACH STATEMENT EXECUTE FUNCTION casegraph_case_search_clear()
    """,
    "DROP TRIGGER IF EXISTS case_search_comment_written ON comments",
    """
    CREATE TRIGGER case_search_comment_written AFTER INSERT OR UPDATE OR DELETE ON comments
    FOR EACH ROW EXECUTE FUNCTION casegraph_case_search_note()
    """,
    "DROP TRIGGER IF EXISTS case_search_note_written ON work_notes",
    """
    CREATE TRIGGER case_search_note_written AFTER INSERT OR UPDATE OR DELETE ON work_notes
    FOR EACH ROW EXECUTE FUNCTION casegraph_case_search_note()
    """,
    "DELETE FROM case_search",
    "SELECT casegraph_case_search_refresh(id) FROM cases",
    "ANALYZE case_search",
]
POSTGRES_DOWN: Final = [
    "DROP TRIGGER IF EXISTS case_search_case_written ON cases",
    "DROP TRIGGER IF EXISTS case_search_cases_truncated ON cases",
    "DROP TRIGGER IF EXISTS case_search_comment_written ON comments",
    "DROP TRIGGER IF EXISTS case_search_note_written ON work_notes",
    "DROP FUNCTION IF EXISTS casegraph_case_search_case()",
    "DROP FUNCTION IF EXISTS casegraph_case_search_note()",
    "DROP FUNCTION IF EXISTS casegraph_case_search_clear()",
    "DROP FUNCTION IF EXISTS casegraph_case_search_refresh(uuid)",
    "DROP FUNCTION IF EXISTS casegraph_search_fold(text)",
    "DROP TABLE IF EXISTS case_search",
]


def _sqlite_key(case_id: str) -> str:
    return f"(SELECT search_key FROM case_search_keys WHERE case_id = {case_id})"


def _sqlite_joined(table: str, case_id: str) -> str:
    return f"COALESCE((SELECT group_concat(body, ' ') FROM {table} WHERE case_id = {case_id}), '')"


def _sqlite_note_triggers(table: str, column: str) -> list[str]:
    refresh_new = (
        f"UPDATE case_search_fts SET {column} = {_sqlite_joined(table, 'NEW.case_id')} "
        f"WHERE rowid = {_sqlite_key('NEW.case_id')};"
    )
    refresh_old = (
        f"UPDATE case_search_fts SET {column} = {_sqlite_joined(table, 'OLD.case_id')} "
        f"WHERE rowid = {_sqlite_key('OLD.case_id')};"
    )
    return [
        f"CREATE TRIGGER IF NOT EXISTS case_search_{table}_insert AFTER INSERT ON {table} BEGIN {refresh_new} END",
        f"CREATE TRIGGER IF NOT EXISTS case_search_{table}_update AFTER UPDATE OF body, case_id ON {table} "
        f"BEGIN {refresh_old} {refresh_new} END",
        f"CREATE TRIGGER IF NOT EXISTS case_search_{table}_delete AFTER DELETE ON {table} BEGIN {refresh_old} END",
    ]


SQLITE_UP: Final = [
    "CREATE TABLE IF NOT EXISTS case_search_keys (search_key INTEGER PRIMARY KEY, case_id CHAR(36) NOT NULL UNIQUE)",
    """
    CREATE VIRTUAL TABLE IF NOT EXISTS case_search_fts USING fts5(
        f_number, f_title, f_description, f_comments, f_notes, tokenize = 'unicode61 remove_diacritics 2'
    )
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS case_search_case_insert AFTER INSERT ON cases BEGIN
        INSERT INTO case_search_keys (case_id) VALUES (NEW.id);
        INSERT INTO case_search_fts (rowid, f_number, f_title, f_description, f_comments, f_notes)
        VALUES ({_sqlite_key("NEW.id")}, NEW.number, COALESCE(NEW.title, ''), COALESCE(NEW.description, ''),
                {_sqlite_joined("comments", "NEW.id")}, {_sqlite_joined("work_notes", "NEW.id")});
    END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS case_search_case_update AFTER UPDATE OF number, title, description ON cases
    BEGIN
        UPDATE case_search_fts
        SET f_number = NEW.number, f_title = COALESCE(NEW.title, ''), f_description = COALESCE(NEW.description, '')
        WHERE rowid = {_sqlite_key("NEW.id")};
    END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS case_search_case_delete AFTER DELETE ON cases BEGIN
        DELETE FROM case_search_fts WHERE rowid = {_sqlite_key("OLD.id")};
        DELETE FROM case_search_keys WHERE case_id = OLD.id;
    END
    """,
    *_sqlite_note_triggers("comments", "f_comments"),
    *_sqlite_note_triggers("work_notes", "f_notes"),
    "DELETE FROM case_search_fts",
    "DELETE FROM case_search_keys",
    "INSERT INTO case_search_keys (case_id) SELECT id FROM cases ORDER BY created_at, id",
    f"""
    INSERT INTO case_search_fts (rowid, f_number, f_title, f_description, f_comments, f_notes)
    SELECT k.search_key, c.number, COALESCE(c.title, ''), COALESCE(c.description, ''),
           {_sqlite_joined("comments", "c.id")}, {_sqlite_joined("work_notes", "c.id")}
    FROM cases c JOIN case_search_keys k ON k.case_id = c.id
    """,
]
SQLITE_DOWN: Final = [
    *(
        f"DROP TRIGGER IF EXISTS {name}"
        for name in (
            "case_search_case_insert",
            "case_search_case_update",
            "case_search_case_delete",
            *(f"case_search_{table}_{op}" for table in ("comments", "work_notes") for op in ("insert", "update", "delete")),
        )
    ),
    "DROP TABLE IF EXISTS case_search_fts",
    "DROP TABLE IF EXISTS case_search_keys",
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
    dependencies = [("models", "0026_scan_leases")]

    initial = False

    operations = [ops.RunPython(forward, backward)]
