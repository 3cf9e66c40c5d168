"""Counting the statements pypika builds: the cost guards check that an action's statements were
each rendered once (``casegraph/database/statements.py``), not built per request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from pypika_tortoise.dialects.postgresql import PostgreSQLQueryBuilder
from pypika_tortoise.dialects.sqlite import SQLLiteQueryBuilder
from pypika_tortoise.queries import QueryBuilder


@contextmanager
def counted_query_building(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Statements pypika renders while the block runs (either dialect, either entry point)."""
    built: list[str] = []

    def counting(real: Any) -> Any:
        def render(self: QueryBuilder, *args: Any, **kwargs: Any) -> Any:
            rendered = real(self, *args, **kwargs)
            built.append(str(rendered))
            return rendered

        return render

    with monkeypatch.context() as patched:
        for builder in (QueryBuilder, SQLLiteQueryBuilder, PostgreSQLQueryBuilder):
            for method in ("get_sql", "get_parameterized_sql"):
                if method in vars(builder):
                    patched.setattr(builder, method, counting(vars(builder)[method]))
        yield built
