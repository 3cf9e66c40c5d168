"""``Query.me`` on the compiled path: the token's claims, the user row only when a field needs it.

The values are those of ``resolvers.queries.me``: the token's name and e-mail first, the stored
row's otherwise; availability and skills from the row (available, no skills, without one); the
groups of the actor's memberships by code.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, cast

from casegraph._compat import tortoise_models
from casegraph.database.sql import Statement, dialect_of, nested_rows
from casegraph.domain.relations import Actor
from casegraph.fastpath.fields import ROLE_NAMES
from casegraph.fastpath.plan import TYPENAME, Field
from casegraph.fastpath.rows import nested
from casegraph.fastpath.values import text_id
from models import User

_ROW_FIELDS = frozenset({"available", "skills"})


def _needs_row(fields: Sequence[Field], actor: Actor) -> bool:
    for field in fields:
        if field.name in _ROW_FIELDS:
            return True
        if field.name == "name" and actor.name is None:
            return True
        if field.name == "email" and actor.email is None:
            return True
    return False


async def fetch_viewer(fields: Sequence[Field], actor: Actor) -> Callable[[], dict[str, Any]]:
    """Reads what the fields need (at most one statement) and returns the builder of ``me``."""
    wants_row = _needs_row(fields, actor)
    wants_groups = any(f.name == "groups" for f in fields) and bool(actor.group_ids)
    row: Sequence[Any] | None = None
    groups: Sequence[Sequence[Any]] = ()
    if wants_row or wants_groups:
        db = tortoise_models.default_connection(User)
        dialect = dialect_of(db)
        statement = Statement(dialect)
        select = ['"u"."id"', '"u"."name"', '"u"."email"', '"u"."available"', '"u"."skills"']
        if wants_groups:
            members = statement.params_in(sorted(actor.group_ids))
            select.append(
                nested_rows(
                    dialect,
                    ['"g"."id"', '"g"."code"', '"g"."name"'],
                    '"assignment_groups" "g"',
                    f'"g"."id" IN ({members})',
                    '"g"."code"',
                )
            )
        user = statement.param(actor.user_id)
        sql = f'SELECT {",".join(select)} FROM (SELECT 1 AS "one") "o" LEFT JOIN "users" "u" ON "u"."id"={user}'
        _, rows = await db.execute_query(sql, statement.params)
        found = cast(Sequence[Any], rows[0])
        row = found if found[0] is not None else None
        if wants_groups:
            groups = nested(found[5])

    def build() -> dict[str, Any]:
        return {field.key: _value(field, actor, row, groups) for field in fields}

    return build


def _value(field: Field, actor: Actor, row: Sequence[Any] | None, groups: Sequence[Sequence[Any]]) -> Any:
    name = field.name
    if name == TYPENAME:
        return "User"
    if name == "id":
        return actor.user_id
    if name == "name":
        return actor.name or (row[1] if row is not None else None)
    if name == "roles":
        return [ROLE_NAMES(role.value) for role in sorted(actor.roles, key=lambda r: r.value)]
    if name == "agency":
        return actor.agency
    if name == "email":
        return actor.email or (row[2] if row is not None else None)
    if name == "available":
        return bool(row[3]) if row is not None else True
    if name == "skills":
        if row is None:
            return []
        stored = row[4]
        skills = json.loads(stored) if isinstance(stored, (str, bytes)) else stored
        return list(skills or ())
    if name == "groups":
        return [_group(field.children, group) for group in groups]
    raise AssertionError(f"unplanned field of me {name}")  # the planner admits only the fields above


def _group(fields: Sequence[Field], group: Sequence[Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for field in fields:
        if field.name == TYPENAME:
            shown[field.key] = "AssignmentGroup"
        elif field.name == "id":
            shown[field.key] = text_id(group[0])
        elif field.name == "code":
            shown[field.key] = group[1]
        elif field.name == "name":
            shown[field.key] = group[2]
    return shown
