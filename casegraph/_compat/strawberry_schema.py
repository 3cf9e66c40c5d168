# Follows upstream: strawberry-graphql 0.341.2, strawberry/schema/schema.py
# Follows upstream: strawberry-graphql 0.341.2, strawberry/types/info.py
"""The graphql-core objects behind Strawberry's, which Strawberry keeps in private attributes.

The fan-out plans a subscription and the query limits measure a document on graphql-core's
schema and resolve info, which Strawberry wraps without a public accessor.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo, GraphQLSchema


def graphql_schema(schema: Any) -> GraphQLSchema:
    """graphql-core's schema behind a ``strawberry.Schema``."""
    return schema._schema  # type: ignore[no-any-return]


def raw_info(info: Any) -> GraphQLResolveInfo[Any]:
    """graphql-core's resolve info behind a ``strawberry.Info``."""
    return info._raw_info  # type: ignore[no-any-return]
