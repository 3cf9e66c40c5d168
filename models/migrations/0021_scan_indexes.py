"""Indexes that bound what a request reads by what it asks for, not by the table (issue 16).

Every ``analytics`` aggregate filters on one time column; each is served by a range walk over an
index of that column, so a one-week request reads that week's rows (of the scope's groups or
case types when it names them) and not every case or event:

* submission (open cases, workload): ``COALESCE(submitted_at, created_at)`` — the analytics'
  ``SUBMITTED_AT`` expression (cases written before ``submitted_at`` existed count from their
  creation; drafts have none and never count) — alone, after the group, after the case type;
* first response: ``first_opened_at``, alone and after the group;
* the event log (backlog, reopen rate, resolution time): ``case_events.occurred_at``;
* SLA compliance: ``case_timers.started_at``; satisfaction (and ``surveyResults``' range and its
  newest-first page): ``surveys.submitted_at``.

The cases indexes are partial on what every analytics query excludes literally (deleted cases,
drafts): SQLite proves a partial index applies from literal terms only, and the terms are
literal in ``Scope.cases``. SQLite matches an index on an expression only when the query writes
the same expression, so ``SUBMITTED_AT`` and these must stay alike. Created by this migration
alone (expressions and partial indexes, which models cannot declare; the plain ones are here too so
that one migration holds what the analytics' plans rely on). Each costs the writes that change its
column: submission and first response are written once per case, events and surveys are inserted
once, timers start once.

Two lists of one user's rows that accumulate over the years: ``notifications`` (newest first) walks
the user's part of ``(user_id, id)`` — partial on unread ones for ``unreadOnly`` — and stops at
the page's end, where ``(user_id, read_at)`` gave every notification of the user to sort;
``myTasks`` reads the assignee's tasks in the states asked for (``(assignee_id, state, due_at)``)
and sorts those, not every task the assignee ever finished.
"""

from typing import Any, Final

from tortoise import migrations
from tortoise.migrations import operations as ops

SUBMITTED: Final = "COALESCE(submitted_at, created_at)"
COUNTED: Final = "deleted_at IS NULL AND status <> 'DRAFT'"
INDEXES: Final = {
    "cases_analytics_submitted": f"cases (({SUBMITTED})) WHERE {COUNTED}",
    "cases_analytics_group_submitted": f"cases (assignment_group_id, ({SUBMITTED})) WHERE {COUNTED}",
    "cases_analytics_type_submitted": f"cases (case_type_id, ({SUBMITTED})) WHERE {COUNTED}",
    "cases_analytics_first_opened": f"cases (first_opened_at) WHERE {COUNTED} AND first_opened_at IS NOT NULL",
    "cases_analytics_group_first_opened": (
        f"cases (assignment_group_id, first_opened_at) WHERE {COUNTED} AND first_opened_at IS NOT NULL"
    ),
    "case_events_occurred_at": "case_events (occurred_at)",
    "case_timers_started_at": "case_timers (started_at)",
    "surveys_submitted_at": "surveys (submitted_at, id)",
    # Lists of one user's rows that grow with the years (``notifications``, ``myTasks``).
    "notifications_user_newest": "notifications (user_id, id)",
    "notifications_user_unread_newest": "notifications (user_id, id) WHERE read_at IS NULL",
    "case_tasks_assignee_state": "case_tasks (assignee_id, state, due_at)",
}
UP: Final = [f"CREATE INDEX IF NOT EXISTS {name} ON {target}" for name, target in INDEXES.items()]
DOWN: Final = [f"DROP INDEX IF EXISTS {name}" for name in INDEXES]


async def _run(schema_editor: Any, statements: list[str]) -> None:
    client = schema_editor.client
    for sql in statements:
        await client.execute_query(sql)


async def forward(apps: Any, schema_editor: Any) -> None:
    await _run(schema_editor, UP)
    if schema_editor.client.capabilities.dialect == "postgres":
        # Statistics on the indexed expressions (PostgreSQL keeps them per expression index), so
        # the planner estimates a period's rows from the start rather than guessing a third.
        for table in ("cases", "case_events", "case_timers", "surveys", "notifications", "case_tasks"):
            await schema_editor.client.execute_query(f'ANALYZE "{table}"')


async def backward(apps: Any, schema_editor: Any) -> None:
    await _run(schema_editor, DOWN)


class Migration(migrations.Migration):
    dependencies = [("models", "0020_attachments")]

    initial = False

    operations = [ops.RunPython(forward, backward)]
