"""``Query.cases`` on the compiled path: one statement for the page, its total and every row's relations.

The page request (filter, order, page size, cursor) is checked and built by the service the
resolver uses (``case_queries.page_request``), so refusals are the same — the compiled path
then gives way and the normal execution reports them. The page itself is the statement of
``database.case_pages`` (the branches of visibility merged in index order), as ``list_cases``
runs it; the statement selects the columns the shape needs, joins the users, group and case type it names, and aggregates tasks and SLA timers
per case; ``rows`` builds the response objects from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

from casegraph._compat import tortoise_queryset
from casegraph.database.case_counts import total_sql
from casegraph.database.case_pages import page_statement
from casegraph.database.sql import (
    CONDITIONS,
    POSTGRES,
    ConditionCache,
    Statement,
    dialect_of,
    nested_groups,
    nested_rows,
    render_condition,
)
from casegraph.fastpath.fields import (
    CASE_COLUMNS,
    CASE_TYPE_COLUMNS,
    CASE_USERS,
    GROUP_COLUMNS,
    TASK_COLUMNS,
    TIMER_COLUMNS,
    USER_COLUMNS,
)
from casegraph.fastpath.plan import TYPENAME, Field
from casegraph.fastpath.rows import Request, Row, case_builder
from casegraph.fastpath.values import iso
from casegraph.services.case_queries import PageRequest, encode_cursor

# Tasks as aggregated: their columns, then their assignee's (rows.TASK_POSITIONS, ASSIGNEE_POSITIONS).
_TASK_SELECT: Final = (
    *(f'"x"."{column}"' for column, _ in TASK_COLUMNS.values()),
    *(f'"xu"."{column}"' for column, _ in USER_COLUMNS.values()),
)


@dataclass(frozen=True)
class CaseNeeds:
    """What the statement must select for the fields a request shows."""

    columns: frozenset[str]
    users: frozenset[str]  # Case fields that are users (assignedTo, requester, inspector)
    group: bool
    case_type: bool
    tasks: bool
    timers: bool


def case_needs(nodes: Iterable[Field], order_column: str) -> CaseNeeds:
    columns = {"id", order_column}
    users: set[str] = set()
    group = case_type = tasks = timers = False
    for node in nodes:
        for field in node.children:
            name = field.name
            if name in CASE_COLUMNS:
                columns.add(CASE_COLUMNS[name][0])
            elif name in CASE_USERS:
                users.add(name)
                columns.add(CASE_USERS[name])
            elif name == "assignmentGroup":
                group = True
                columns.add("assignment_group_id")
            elif name == "caseType":
                case_type = True
                columns.add("case_type_id")
            elif name == "tasks":
                tasks = True
            elif name == "slaTimers":
                timers = True
    if timers:
        columns.add("case_type_id")
    return CaseNeeds(frozenset(columns), frozenset(users), group, case_type, tasks, timers)


class _Select:
    """The SELECT list and each value's position in a row."""

    def __init__(self) -> None:
        self.expressions: list[str] = []
        self.index: dict[str, int] = {}

    def add(self, key: str, expression: str) -> None:
        self.index[key] = len(self.expressions)
        self.expressions.append(expression)


@dataclass(frozen=True)
class _Template:
    dialect: str
    select: _Select
    joins: str
    order_column: str
    outer_order: str


_templates: dict[tuple[str, CaseNeeds, str, bool], _Template] = {}


def _template(dialect: str, needs: CaseNeeds, column: str, descending: bool) -> _Template:
    key = (dialect, needs, column, descending)
    found = _templates.get(key)
    if found is not None:
        return found
    select = _Select()
    select.add("total", '"n"."total"')
    for name in sorted(needs.columns):
        select.add(name, f'"p"."{name}"')
    joins = []
    for field in sorted(needs.users):
        alias = f"u_{field}"
        joins.append(f'LEFT JOIN "users" "{alias}" ON "{alias}"."id"="p"."{CASE_USERS[field]}"')
        for name, (user_column, _) in USER_COLUMNS.items():
            select.add(f"{field}.{name}", f'"{alias}"."{user_column}"')
    if needs.group:
        joins.append('LEFT JOIN "assignment_groups" "g" ON "g"."id"="p"."assignment_group_id"')
        for name, (group_column, _) in GROUP_COLUMNS.items():
            select.add(f"assignmentGroup.{name}", f'"g"."{group_column}"')
    if needs.case_type:
        joins.append('LEFT JOIN "case_types" "ct" ON "ct"."id"="p"."case_type_id"')
        for name, (type_column, _) in CASE_TYPE_COLUMNS.items():
            select.add(f"caseType.{name}", f'"ct"."{type_column}"')
    if needs.tasks:
        # case_tasks has no index on case_id: one pass for the whole page (see nested_groups).
        joins.append(
            "LEFT JOIN "
            + nested_groups(
                dialect,
                '"x"."case_id"',
                _TASK_SELECT,
                '"case_tasks" "x" LEFT JOIN "users" "xu" ON "xu"."id"="x"."assignee_id"',
                '"x"."case_id" IN (SELECT "id" FROM "p")',
                '"x"."id"',
            )
            + ' "tk" ON "tk"."key"="p"."id"'
        )
        select.add("tasks", '"tk"."items"')
    if needs.timers:
        select.add(
            "timers",
            nested_rows(
                dialect,
                [f'"t"."{c}"' for c in TIMER_COLUMNS],
                '"case_timers" "t"',
                '"t"."case_id"="p"."id"',
                '"t"."kind"',
            ),
        )
        joins.append('LEFT JOIN "sla_settings" "s" ON "s"."case_type_id"="p"."case_type_id"')
        select.add("business_hours", '"s"."business_hours"')
    direction = "DESC" if descending else "ASC"
    found = _Template(
        dialect=dialect,
        select=select,
        joins=" ".join(joins),
        order_column=column,
        outer_order=f'ORDER BY "p"."{column}" {direction},"p"."id" {direction}',
    )
    if len(_templates) >= 1024:  # shapes come from clients: keep the set of templates bounded
        _templates.clear()
    _templates[key] = found
    return found


async def fetch_page(request: PageRequest, needs: CaseNeeds) -> tuple[int, list[Row], _Template]:
    """The total and the page's rows (one more than the page when more follow)."""
    db = tortoise_queryset.connection_for(request.matching)
    dialect = dialect_of(db)
    column, descending = request.ordering.field.value, request.ordering.descending
    template = _template(dialect, needs, column, descending)
    if request.after is None and request.condition_key is not None:
        # A first page's text and parameters follow from the actor, the filter and the shape
        # alone: a dashboard refreshing its queue sends the same statement each time.
        key = (dialect, request.condition_key, needs, column, descending, request.limit)
        sql, params = _statements.get_built(key, lambda: _page_sql(dialect, request, template, needs))
    else:
        sql, params = _page_sql(dialect, request, template, needs)
    _, fetched = await db.execute_query(sql, list(params))
    rows = cast(list[Row], fetched)
    total = int(rows[0][0]) if rows else 0
    page = [row for row in rows if row[template.select.index["id"]] is not None]
    return total, page, template


# First pages' statements by what determines them (fetch_page); fewer than CONDITIONS keeps, as an
# agent of many groups has a statement of tens of kilobytes.
_statements: Final = ConditionCache(size=512)


def _page_sql(dialect: str, request: PageRequest, template: _Template, needs: CaseNeeds) -> tuple[str, tuple[Any, ...]]:
    """The statement of the page and its total, with its parameters."""
    column, descending = request.ordering.field.value, request.ordering.descending
    shape = request.page_shape(dialect)
    statement = Statement(dialect)
    # Parameters in the order they appear in the text (SQLite numbers them by position).
    page_sql = page_statement(
        statement,
        shape.branches,
        shape.filtered,
        request.after_condition(),
        columns=sorted(needs.columns),
        order_column=column,
        descending=descending,
        limit=request.limit + 1,
    )
    if request.counted is not None:
        counting = f'(SELECT {total_sql(statement, request.counted)} AS "total") "n"'
    else:
        # A filter the maintained counts do not carry (README, Performance: totalCount).
        if request.condition_key is not None:
            counted = CONDITIONS.get((dialect, request.condition_key), request.matching)
        else:
            counted = render_condition(request.matching)
        counting = f'(SELECT count(*) AS "total" FROM "cases" WHERE {statement.condition(counted)}) "n"'
    sql = (
        f'WITH "p" AS ({page_sql}) '
        f"SELECT {','.join(template.select.expressions)} "
        f"FROM {counting} "
        f'LEFT JOIN "p" ON {"TRUE" if dialect == POSTGRES else "1"} {template.joins} {template.outer_order}'
    )
    return sql, tuple(statement.params)


class _Page:
    """One fetched page as the connection's parts read it."""

    __slots__ = ("total", "rows", "shown", "limit", "has_previous", "request", "_cursor_of")

    def __init__(
        self, total: int, rows: list[Row], page: PageRequest, request: Request, cursor_of: Callable[[Row], str]
    ) -> None:
        self.total = total
        self.rows = rows
        self.shown = rows[: page.limit]
        self.limit = page.limit
        self.has_previous = page.after is not None
        self.request = request
        self._cursor_of = cursor_of

    def cursor(self, row: Row) -> str:
        return self._cursor_of(row)

    def cursor_at(self, position: int) -> str | None:
        """Cursors are JSON and base64: encoded only when asked for."""
        return self._cursor_of(self.shown[position]) if self.shown else None


Part = Callable[[_Page], Any]
ConnectionBuilder = Callable[[int, list[Row], PageRequest, Request], dict[str, Any]]
_connections: dict[tuple[int, int], tuple[Field, _Template, ConnectionBuilder]] = {}


def connection_builder(field: Field, template: _Template) -> ConnectionBuilder:
    """Builds the ``CaseConnection`` of a fetched page, following the shape of ``field``; kept per
    (shape, statement template), which both outlive the request."""
    key = (id(field), id(template))
    found = _connections.get(key)
    if found is not None and found[0] is field and found[1] is template:
        return found[2]
    build = _connection_builder(field.children, template)
    if len(_connections) >= 1024:
        _connections.clear()
    _connections[key] = (field, template, build)
    return build


def _connection_builder(fields: Sequence[Field], template: _Template) -> ConnectionBuilder:
    index = template.select.index
    id_at, order_at = index["id"], index[template.order_column]
    timed = template.order_column in ("created_at", "updated_at")

    def cursor_of(row: Row) -> str:
        value = row[order_at]
        return encode_cursor(iso(value) if timed else value, str(row[id_at]))

    parts: list[tuple[str, Part]] = []
    for field in fields:
        name = field.name
        if name == TYPENAME:
            parts.append((field.key, lambda page: "CaseConnection"))
        elif name == "totalCount":
            parts.append((field.key, lambda page: page.total))
        elif name == "pageInfo":
            parts.append((field.key, _page_info(field.children)))
        elif name == "edges":
            parts.append((field.key, _edges(field.children, index, template.dialect == POSTGRES)))

    def build(total: int, rows: list[Row], page_request: PageRequest, request: Request) -> dict[str, Any]:
        page = _Page(total, rows, page_request, request, cursor_of)
        return {key: part(page) for key, part in parts}

    return build


def _page_info(fields: Sequence[Field]) -> Part:
    def page_info(page: _Page) -> dict[str, Any]:
        shown: dict[str, Any] = {}
        for field in fields:
            name = field.name
            if name == TYPENAME:
                shown[field.key] = "PageInfo"
            elif name == "hasNextPage":
                shown[field.key] = len(page.rows) > page.limit
            elif name == "hasPreviousPage":
                shown[field.key] = page.has_previous
            elif name == "startCursor":
                shown[field.key] = page.cursor_at(0)
            elif name == "endCursor":
                shown[field.key] = page.cursor_at(-1)
        return shown

    return page_info


def _edges(fields: Sequence[Field], index: dict[str, int], native_times: bool) -> Part:
    parts: list[tuple[str, Any]] = []
    for field in fields:
        if field.name == TYPENAME:
            parts.append((field.key, "CaseEdge"))
        elif field.name == "cursor":
            parts.append((field.key, None))
        elif field.name == "node":
            parts.append((field.key, case_builder(field.children, index, native_times=native_times)))

    def edges(page: _Page) -> list[dict[str, Any]]:
        built = []
        request = page.request
        for row in page.shown:
            edge: dict[str, Any] = {}
            for key, part in parts:
                if part is None:
                    edge[key] = page.cursor(row)
                elif isinstance(part, str):
                    edge[key] = part
                else:
                    edge[key] = part(row, request)
            built.append(edge)
        return built

    return edges
