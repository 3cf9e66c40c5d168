"""``registerPersistedQuery``: the allow-list's registration over GraphQL (ADMIN). The rules and
the command line live in ``casegraph/persisted_queries``."""

from __future__ import annotations

from casegraph.persisted_queries.registry import register_persisted_query as register
from resolvers.pipeline import run_mutation
from schema.context import Info
from schema.inputs import RegisterPersistedQueryInput
from schema.payloads import PersistedQueryPayload, refused


async def register_persisted_query(info: Info, input: RegisterPersistedQueryInput) -> PersistedQueryPayload:
    return await run_mutation(
        info,
        refused=refused(PersistedQueryPayload),
        call=lambda actor: register(actor=actor, document=input.document, name=input.name, now=info.context.clock()),
        done=lambda registration: PersistedQueryPayload(
            sha256=registration.row.sha256, name=registration.row.name, created=registration.created
        ),
    )
