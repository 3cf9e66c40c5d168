"""The allow-list as a schema extension: every operation's final text must be registered.

It runs for HTTP (GET, POST, batches) and WebSocket operations alike, because it looks at the text
Strawberry is about to validate rather than at the transport. The refusal is put in place of
validation: the document is parsed (bounded by the token limit) but never validated or executed,
and the client learns nothing about the schema from it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension

from casegraph.persisted_queries.caches import PersistedQueries
from casegraph.persisted_queries.protocol import document_hash, not_allowed


class AllowListGate(SchemaExtension):
    def __init__(self, store: PersistedQueries) -> None:
        self.store = store

    async def on_validate(self) -> AsyncIterator[None]:
        query = self.execution_context.query
        if query is None or await self.store.registered.document(document_hash(query)) is None:
            # Set before validation runs: Strawberry then skips it and answers with these errors.
            self.execution_context.pre_execution_errors = [not_allowed().error()]
        yield
