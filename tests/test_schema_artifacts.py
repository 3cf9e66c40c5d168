"""Generated artifacts stay in step with the code: the committed SDL and the migrations.

``schema.graphql`` is what ``casegraph export-schema`` prints, ``schema.public.graphql`` what
``export-schema --public`` prints (``make schema`` regenerates both);
``models/migrations`` describes the models exactly (``make migrations`` would add nothing); and
``casegraph.db.migrate`` builds a fresh database and is safe to run again (``serve`` runs it at
every start).
"""

from __future__ import annotations

import importlib
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import pytest
from graphql import GraphQLObjectType, build_schema
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector

from casegraph.db import MIGRATIONS_MODULE, migrate, tortoise_config
from casegraph.services.users import forget_provisioned
from models import Counter, User

REPO_ROOT = Path(__file__).resolve().parents[1]
SDL_PATH = REPO_ROOT / "schema.graphql"
PUBLIC_SDL_PATH = REPO_ROOT / "schema.public.graphql"
MODEL_TABLES = {
    "users",
    "attachments",
    "sign_in_links",
    "browser_sessions",
    "oidc_flows",
    "user_identities",
    "assignment_groups",
    "group_memberships",
    "case_types",
    "cases",
    "case_events",
    "comments",
    "work_notes",
    "case_tasks",
    "surveys",
    "idempotency_records",
    "counters",
    "notifications",
    "case_steps",
    "case_intakes",
    "service_definitions",
    "case_templates",
    "playbook_steps",
    "playbooks",
    "case_type_requirements",
    "case_alerts",
    "case_timers",
    "sla_policies",
    "sla_settings",
    "case_article_links",
    "kb_article_terms",
    "kb_articles",
    "self_service_drafts",
    "self_service_reads",
    "rate_limit_buckets",
    "persisted_queries",
    "webhook_endpoints",
    "outbox_deliveries",
    "partner_agencies",
    "referrals",
    "referral_updates",
    "mail_deliveries",
}

# api.md *Operations (names fixed)*.
QUERIES = {"me", "case", "caseByNumber", "cases", "caseTypes", "assignmentGroups"}
MUTATIONS = {
    "createCase",
    "submitCase",
    "assignCase",
    "acceptCase",
    "assignToMe",
    "updateCase",
    "beginReview",
    "requestInfo",
    "resumeCase",
    "requestInspection",
    "completeInspection",
    "startWork",
    "assignWork",
    "completeWork",
    "proposeSolution",
    "acceptSolution",
    "rejectSolution",
    "closeCase",
    "cancelCase",
    "deleteCase",
    "submitSurvey",
    "completeTask",
    "cancelTask",
    "createAssignmentGroup",
    "addGroupMember",
    "createCaseType",
    "restoreCase",
}


def export_schema(*options: str) -> str:
    """The SDL as the installed console script prints it."""
    script = Path(sys.executable).with_name("casegraph")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "casegraph.cli"]
    completed = subprocess.run(
        [*command, "export-schema", *options], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


@pytest.fixture(autouse=True)
def fresh_backend_caches() -> Iterator[None]:
    """Tortoise caches INSERT statements per connection name; these tests open their own databases."""
    EXECUTOR_CACHE.clear()
    forget_provisioned()
    yield
    EXECUTOR_CACHE.clear()
    forget_provisioned()


# --- the SDL ---------------------------------------------------------------------------------------


def test_the_committed_schema_graphql_is_what_export_schema_prints() -> None:
    # given
    assert SDL_PATH.is_file(), "schema.graphql is missing: run `make schema`"
    committed = SDL_PATH.read_text(encoding="utf-8")
    # when
    exported = export_schema()
    # then
    assert exported == committed, "schema.graphql is stale: run `make schema` and commit the result"


def test_the_committed_schema_public_graphql_is_what_export_schema_public_prints() -> None:
    # given: the plain SDL for tools that do not know federation (tests/schema_tools loads it in graphql-js)
    assert PUBLIC_SDL_PATH.is_file(), "schema.public.graphql is missing: run `make schema`"
    committed = PUBLIC_SDL_PATH.read_text(encoding="utf-8")
    # when
    exported = export_schema("--public")
    # then
    assert exported == committed, "schema.public.graphql is stale: run `make schema` and commit the result"
    assert "@key" not in committed and "@link" not in committed and "_entities" not in committed


def test_the_committed_schema_names_every_operation_of_the_contract() -> None:
    # when
    # (the federation directives, @link and @key, come from the spec @link names, not from the SDL)
    schema = build_schema(SDL_PATH.read_text(encoding="utf-8"), assume_valid_sdl=True)
    # then
    query, mutation = schema.query_type, schema.mutation_type
    assert isinstance(query, GraphQLObjectType) and isinstance(mutation, GraphQLObjectType)
    assert QUERIES - set(query.fields) == set()
    assert MUTATIONS - set(mutation.fields) == set()


# --- migrations ------------------------------------------------------------------------------------


async def test_the_migrations_describe_the_models_exactly() -> None:
    # given: what `tortoise makemigrations` compares (casegraph.db.TORTOISE_ORM, no database needed)
    config = tortoise_config("sqlite://:memory:")
    apps_config = {label: dict(app) for label, app in config["apps"].items()}
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        assert ctx.apps is not None
        autodetector = MigrationAutodetector(ctx.apps, apps_config)
        # when
        writers = await autodetector.changes()
    # then
    pending = "\n\n".join(writer.as_string() for writer in writers)
    assert writers == [], f"the models changed without a migration (run `make migrations`):\n{pending}"


def _tables(path: Path) -> dict[str, str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'index') AND sql IS NOT NULL ORDER BY name"
        ).fetchall()
    connection.close()
    return {str(name): str(sql) for name, sql in rows}


def _columns(path: Path, table: str) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute(f'PRAGMA table_info("{table}")').fetchall()
    connection.close()
    return {str(row[1]) for row in rows}


def _rows(path: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute(query).fetchall()
    connection.close()
    return rows


# Indexes over expressions and partial indexes, which the models cannot declare: created by
# their migration alone.
_PAGE_INDEXES: Final[dict[str, str]] = importlib.import_module(f"{MIGRATIONS_MODULE}.0013_case_page_indexes").INDEXES
_SCAN_INDEXES: Final[dict[str, str]] = importlib.import_module(f"{MIGRATIONS_MODULE}.0021_scan_indexes").INDEXES
_FILTER_INDEXES: Final[dict[str, str]] = importlib.import_module(f"{MIGRATIONS_MODULE}.0024_perf").INDEXES
_SEARCH_INDEXES: Final[dict[str, str]] = importlib.import_module(f"{MIGRATIONS_MODULE}.0025_constituents").INDEXES
MIGRATION_ONLY_INDEXES: Final = frozenset(
    {
        "users_email_lower_unique",  # 0012: lower(email), unique
        *_PAGE_INDEXES,  # 0013: the cases page's branches (partial)
        *_SCAN_INDEXES,  # 0021: the analytics' time ranges (expressions, partial)
        *_FILTER_INDEXES,  # 0024: the cases page led by a selective filter (partial)
        *_SEARCH_INDEXES,  # 0025: lower(name), lower(email): the desk's search of known constituents
    }
)
# Tables no model declares: written by triggers and read by raw SQL alone.
MIGRATION_ONLY_TABLES: Final = frozenset(
    {
        "case_counts",  # 0014: maintained case counts
        # 0025: the search index (SQLite: the FTS5 table, its shadow tables, and the rowid keys)
        "case_search_keys",
        "case_search_fts",
        *(f"case_search_fts_{part}" for part in ("data", "idx", "content", "docsize", "config")),
    }
)


def _indexes(path: Path, table: str) -> set[tuple[bool, tuple[str, ...]]]:
    """(unique, columns) of every index on ``table``, whatever it is named."""
    found = set()
    for row in _rows(path, f"PRAGMA index_list('{table}')"):
        name, unique = row[1], bool(row[2])
        if name in MIGRATION_ONLY_INDEXES:
            continue
        columns = tuple(str(info[2]) for info in _rows(path, f"PRAGMA index_info('{name}')"))
        found.add((unique, columns))
    return found


@pytest.fixture
async def generated_schema(tmp_path: Path) -> AsyncIterator[Path]:
    """A database built straight from the models, to compare the migrated one with."""
    path = tmp_path / "generated.sqlite3"
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(f"sqlite://{path}"))
        await ctx.generate_schemas(safe=False)
    yield path


async def test_migrate_builds_a_fresh_sqlite_database_with_every_model_table(
    tmp_path: Path, generated_schema: Path
) -> None:
    # given
    path = tmp_path / "fresh.sqlite3"
    # when
    await migrate(f"sqlite://{path}")
    # then: every model's table, with the columns the models have
    tables = {name for name, sql in _tables(path).items() if sql.startswith("CREATE TABLE")}
    assert tables >= MODEL_TABLES
    assert tables - MODEL_TABLES <= {"tortoise_migrations", "sqlite_sequence", *MIGRATION_ONLY_TABLES}
    for table in sorted(MODEL_TABLES):
        assert _columns(path, table) == _columns(generated_schema, table), table
    # and: the same indexes and unique constraints (SQLite table rebuilds in migrations drop them)
    for table in sorted(MODEL_TABLES):
        assert _indexes(path, table) == _indexes(generated_schema, table), table
    # and: the counters the event log needs, created up front
    assert sorted(_rows(path, "SELECT name, value FROM counters")) == [("case_number", 1000), ("event_sequence", 0)]
    # and: every migration of the package is recorded as applied
    migration_files = sorted(p.stem for p in (REPO_ROOT / MIGRATIONS_MODULE.replace(".", "/")).glob("[0-9]*.py"))
    applied = sorted(str(row[0]) for row in _rows(path, "SELECT name FROM tortoise_migrations"))
    assert applied == migration_files


async def test_migrate_again_changes_nothing_and_keeps_the_data(tmp_path: Path) -> None:
    # given: a migrated database with some data in it
    path = tmp_path / "twice.sqlite3"
    url = f"sqlite://{path}"
    await migrate(url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
        await User.create(id="kept", name="Kept", roles=["AGENT"], created_at=now, updated_at=now)
        await Counter.filter(name="case_number").update(value=1041)
    schema_before = _tables(path)
    applied_before = _rows(path, "SELECT * FROM tortoise_migrations ORDER BY name")
    # when
    await migrate(url)
    await migrate(url)
    # then
    assert _tables(path) == schema_before
    assert _rows(path, "SELECT * FROM tortoise_migrations ORDER BY name") == applied_before
    assert sorted(_rows(path, "SELECT name, value FROM counters")) == [("case_number", 1041), ("event_sequence", 0)]
    assert _rows(path, "SELECT id, name FROM users") == [("kept", "Kept")]


def test_no_migration_carries_a_semicolon_in_generated_descriptions() -> None:
    """Tortoise copies model docstrings into SQL comments, and its SQLite editor splits on ';'."""
    for path in sorted((REPO_ROOT / "models" / "migrations").glob("0*.py")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if "table_description" in line or "description=" in line:
                assert ";" not in line, f"{path.name}: {line.strip()[:120]}"
