"""Indexes that serve a filtered cases page in order, led by the filter (issue 16).

``Query.cases`` with a selective filter — the requester's cases, one agent's assignments, a case
type — for a reader who sees many cases used to walk the reader's visibility branches with the
filter as a row filter: a requester of a dozen cases made the walk read the whole branch before
finding them. With such a filter the page is walked from the filter instead
(``services.case_queries``): one walk per filter value and status over an index led by the filter
column, then the status, the page's order column and id, visibility being the row filter. The
reads are then bounded by the filter's rows, not by the table.

* ``cases_page_requester_*``: requester, status, order column, id (for ``requesterId``);
* ``cases_page_type_*``: case type, status, order column, id (for ``caseTypeCode``);
* ``assignedToId`` is served by 0013's ``cases_page_assignee_*``, whose shape this is.

Partial on live cases (what every branch says literally, see 0013). Each costs the writes that
change its columns (``updated_at`` on every write): eight more over the four orderings.
Created by this migration alone (partial indexes, which models cannot declare).
"""

from typing import Any, Final

from tortoise import migrations
from tortoise.migrations import operations as ops

ORDER_COLUMNS: Final = ("updated_at", "created_at", "priority", "number")
PREFIXES: Final = {
    "requester": ('"requester_id","status"', '"deleted_at" IS NULL'),
    "type": ('"case_type_id","status"', '"deleted_at" IS NULL AND "case_type_id" IS NOT NULL'),
}
INDEXES: Final = {
    f"cases_page_{path}_{column}": f'"cases" ({prefix},"{column}","id") WHERE {where}'
    for path, (prefix, where) in PREFIXES.items()
    for column in ORDER_COLUMNS
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
        await schema_editor.client.execute_query('ANALYZE "cases"')


async def backward(apps: Any, schema_editor: Any) -> None:
    await _run(schema_editor, DOWN)


class Migration(migrations.Migration):
    dependencies = [("models", "0021_scan_indexes")]

    initial = False

    operations = [ops.RunPython(forward, backward)]
