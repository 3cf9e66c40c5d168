"""Registering an operation for the allow-list over GraphQL (ADMIN), resolved by
``resolvers/persisted_queries.py``. The rules and the command line live in ``casegraph/persisted_queries``."""

from __future__ import annotations

import strawberry

from resolvers import persisted_queries
from schema.context import Info
from schema.inputs import RegisterPersistedQueryInput
from schema.payloads import PersistedQueryPayload


@strawberry.type
class PersistedQueriesMutation:
    @strawberry.mutation(
        description="Register an operation so it runs under the allow-list and by hash alone (ADMIN). "
        "Under the allow-list this mutation must itself be registered: bootstrap with the command line."
    )
    async def register_persisted_query(self, info: Info, input: RegisterPersistedQueryInput) -> PersistedQueryPayload:
        return await persisted_queries.register_persisted_query(info, input)
