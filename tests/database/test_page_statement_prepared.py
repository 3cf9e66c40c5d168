"""The cases page's statement stays prepared on a PostgreSQL connection.

The page is one statement of a branch per group and status (``database.case_pages``): for an
agent of many groups its text is tens of kilobytes. asyncpg keeps (prepares once, then reuses)
only statements up to ``max_cacheable_statement_size``, 15 KiB by default; a longer one is parsed
and planned on every request, and planning the branches costs far more than running them.
``casegraph.db`` raises the size for its connections.
"""

from __future__ import annotations

from typing import Any, Final

import asyncpg
import pytest
from tortoise.context import TortoiseContext

from casegraph.database.case_pages import page_statement
from casegraph.database.sql import POSTGRES, Statement
from casegraph.db import tortoise_config
from casegraph.domain.enums import Role
from casegraph.domain.relations import Actor
from casegraph.services.case_queries import CaseFilter, OrderField, Ordering, page_request
from casegraph.services.records import CASE_COLUMNS

pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("backend", ["postgres"])]

ASYNCPG_DEFAULT_CACHEABLE: Final = 15 * 1024
PAGE: Final = 50


async def many_groups_page_sql() -> tuple[str, list[Any]]:
    """The page of an agent of 30 groups with no filter: every submitted status, the most branches."""
    actor = Actor("agent-of-many-groups", frozenset({Role.AGENT}), frozenset(range(1, 31)))
    request = await page_request(
        actor=actor,
        flt=CaseFilter(),
        ordering=Ordering(OrderField.UPDATED_AT, descending=True),
        first=PAGE,
        after=None,
        max_page=100,
    )
    statement = Statement(POSTGRES)
    sql = page_statement(
        statement,
        request.page_shape(POSTGRES).branches,
        request.page_shape(POSTGRES).filtered,
        request.after_condition(),
        columns=CASE_COLUMNS,
        order_column="updated_at",
        descending=True,
        limit=PAGE + 1,
    )
    return sql, statement.params


async def test_the_page_of_an_agent_of_many_groups_is_planned_once_per_connection(
    db: TortoiseContext, pg_database_url: str
) -> None:
    # given: the page statement, longer than asyncpg keeps by default
    sql, params = await many_groups_page_sql()
    assert len(sql.encode()) > ASYNCPG_DEFAULT_CACHEABLE
    # and: a connection made as casegraph makes its pool's
    credentials = tortoise_config(pg_database_url)["connections"]["default"]["credentials"]
    connection = await asyncpg.connect(
        pg_database_url.replace("postgres://", "postgresql://", 1),
        max_cacheable_statement_size=credentials.get("max_cacheable_statement_size", ASYNCPG_DEFAULT_CACHEABLE),
    )
    try:
        # when: two requests ask for the page
        for _ in range(2):
            await connection.fetch(sql, *params)
        # then: the statement is prepared on the connection, not parsed and planned per request
        prepared = await connection.fetchval(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%UNION ALL%'"
        )
        assert prepared == 1
    finally:
        await connection.close()
