"""Registering an operation for the allow-list over GraphQL (ADMIN). The rules and the command
line live in ``casegraph/persisted_queries``."""

from __future__ import annotations

import strawberry

from casegraph.persisted_queries.registry import register_persisted_query
from resolvers.pipeline import run_mutation
from schema.context import Info
from schema.payloads import refused
from schema.types.common import UserError


@strawberry.input
class RegisterPersistedQueryInput:
    document: str = strawberry.field(
        description="The operation text exactly as clients will send it: its SHA-256 is the hash they name."
    )
    name: str | None = strawberry.field(default=None, description="Defaults to the document's only operation name.")


@strawberry.type(description="The result of registering a persisted query.")
class PersistedQueryPayload:
    sha256: str | None = strawberry.field(default=None, description="Hex SHA-256 of the document (APQ's sha256Hash).")
    name: str | None = None
    created: bool = strawberry.field(default=False, description="False when the document was registered already.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PersistedQueriesMutation:
    @strawberry.mutation(
        description="Register an operation so it runs under the allow-list and by hash alone (ADMIN). "
        "Under the allow-list this mutation must itself be registered: bootstrap with the command line."
    )
    async def register_persisted_query(self, info: Info, input: RegisterPersistedQueryInput) -> PersistedQueryPayload:
        return await run_mutation(
            info,
            refused=refused(PersistedQueryPayload),
            call=lambda actor: register_persisted_query(
                actor=actor, document=input.document, name=input.name, now=info.context.clock()
            ),
            done=lambda registration: PersistedQueryPayload(
                sha256=registration.row.sha256, name=registration.row.name, created=registration.created
            ),
        )
