"""Indexes that serve the cases page in order: one per visibility branch and ordering.

``Query.cases`` merges disjoint branches of visibility (``services.visibility.visibility_branches``),
each walked in the page's order (``database.case_pages``). What serves which branch:

* index-served for all four orderings (UPDATED_AT, CREATED_AT, PRIORITY, NUMBER; either way,
  an index walked backwards serves DESC) — the large paths, whose size grows with the table:
  an agent's group (``cases_page_group_*``: group, status, order column, id), an agent's own
  assignments (``cases_page_assignee_*``: assignee, status, …; they accumulate over the years),
  an administrator's all-cases (``cases_page_all_*``: status, order column, id), a partner's
  agency (``cases_page_agency_*``: agency, status, order column, id). Each branch is one group
  (assignee, agency) and one status, so the status filter of the dashboard (the open statuses)
  is an index prefix: a walk never passes the closed cases that make up most of a large table.
  A group's walk skips the agent's own assignments in it (their branch comes first): few.
* looked up, then sorted — the per-user paths, bounded by that one user's involvement and not
  by the table: requester (its 0011 index), inspector (``cases_inspector``), task assignee
  (0011's ``case_tasks.assignee_id``, then the primary key), own drafts (``cases_draft_author``).
  A text filter (``title`` contains) is a row filter on either kind: a walk stops at the page's
  end, so it is bounded by how far the matches lie, not by an index.

The predicates exclude deleted cases only. Drafts never match a branch's status (they have their
own branch), but a predicate on the status could not be used: SQLite proves a partial index
applies only from literal terms, and PostgreSQL's generic plans of prepared statements do not
know the status parameter either; ``deleted_at IS NULL`` is literal in every branch.

Every index costs each write that changes its columns (``updated_at`` changes on every write):
sixteen over the orderings, two small ones for the per-user paths. The agency and assignee
indexes hold only referred and assigned cases. 0011's indexes stay: they also serve deleted
cases and other readers (the queue counts and the event feed filter on the group). Created by
this migration alone (partial indexes, which models cannot declare).
"""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

ORDER_COLUMNS = ("updated_at", "created_at", "priority", "number")
PREFIXES = {
    "group": ('"assignment_group_id","status"', '"deleted_at" IS NULL AND "assignment_group_id" IS NOT NULL'),
    "assignee": ('"assigned_to_id","status"', '"deleted_at" IS NULL AND "assigned_to_id" IS NOT NULL'),
    "all": ('"status"', '"deleted_at" IS NULL'),
    "agency": ('"referred_agency","status"', '"deleted_at" IS NULL AND "referred_agency" IS NOT NULL'),
}
PAGE_INDEXES = {
    f"cases_page_{path}_{column}": f'"cases" ({prefix},"{column}","id") WHERE {where}'
    for path, (prefix, where) in PREFIXES.items()
    for column in ORDER_COLUMNS
}
LOOKUP_INDEXES = {
    "cases_inspector": '"cases" ("inspector_id") WHERE "inspector_id" IS NOT NULL',
    # Not partial on the status: SQLite would not use it for ``"status"=?`` (a parameter).
    "cases_draft_author": '"cases" ("author_id","status") WHERE "deleted_at" IS NULL',
}
INDEXES = {**PAGE_INDEXES, **LOOKUP_INDEXES}
UP = [f"CREATE INDEX IF NOT EXISTS {name} ON {target}" for name, target in INDEXES.items()]
DOWN = [f"DROP INDEX IF EXISTS {name}" for name in INDEXES]


async def _run(schema_editor: Any, statements: list[str]) -> None:
    client = schema_editor.client
    for sql in statements:
        await client.execute_query(sql)


async def forward(apps: Any, schema_editor: Any) -> None:
    await _run(schema_editor, UP)
    if schema_editor.client.capabilities.dialect == "postgres":
        # The planner weighs the new indexes with the table's real statistics from the start.
        await schema_editor.client.execute_query('ANALYZE "cases"')


async def backward(apps: Any, schema_editor: Any) -> None:
    await _run(schema_editor, DOWN)


class Migration(migrations.Migration):
    dependencies = [("models", "0012_unique_user_email")]

    initial = False

    operations = [ops.RunPython(forward, backward)]
