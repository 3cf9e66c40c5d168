"""The schema as plain GraphQL, for tools that know nothing of Apollo Federation.

``schema.graphql`` is the subgraph's SDL: it applies ``@link`` and ``@key`` and lists
``_entities``/``_service``, which a federation gateway reads and plain tools (graphql-js
``buildSchema``, GraphQL Code Generator, graphql-inspector, eslint plugins) refuse as unknown
directives. ``public_sdl`` prints the same API without them: the federation's directives,
scalars, types and root fields left out, every other type, field and description as served.
``casegraph export-schema --public`` prints it into ``schema.public.graphql``.
"""

from __future__ import annotations

from typing import Any, Final

from graphql import GraphQLObjectType, GraphQLSchema, print_schema

from casegraph._compat.strawberry_schema import graphql_schema

FEDERATION_FIELDS: Final = frozenset({"_entities", "_service"})
FEDERATION_TYPES: Final = frozenset({"_Any", "_Entity", "_Service", "_FieldSet", "link__Purpose", "link__Import"})
FEDERATION_DIRECTIVES: Final = frozenset({"key", "link", "shareable", "external", "requires", "provides"})


def public_schema(schema: Any) -> GraphQLSchema:
    """graphql-core's schema of ``schema`` (a federation ``strawberry.Schema``) without federation."""
    served = graphql_schema(schema)
    query = served.query_type
    assert query is not None
    public_query = GraphQLObjectType(
        query.name,
        {name: field for name, field in query.fields.items() if name not in FEDERATION_FIELDS},
        interfaces=query.interfaces,
        description=query.description,
    )
    types = [
        named
        for name, named in served.type_map.items()
        if not name.startswith("__") and name not in FEDERATION_TYPES and name != query.name
    ]
    return GraphQLSchema(
        query=public_query,
        mutation=served.mutation_type,
        subscription=served.subscription_type,
        types=types,
        directives=[directive for directive in served.directives if directive.name not in FEDERATION_DIRECTIVES],
    )


def public_sdl(schema: Any) -> str:
    return print_schema(public_schema(schema))
