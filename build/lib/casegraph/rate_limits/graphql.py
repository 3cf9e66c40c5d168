"""Mutations counted per user and per client address, refused before they execute."""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from starlette.requests import HTTPConnection
from starlette.responses import Response
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from casegraph.rate_limits.limiter import RateLimiter, Refusal

# HTTP responses (one per request, shared by the operations of a batch) in which a mutation has
# already run. A refusal there must not turn the whole response into a 429: clients read 429 as
# "nothing happened, send it again", which would repeat the mutations that did run.
_ran_mutations: weakref.WeakSet[Response] = weakref.WeakSet()


class MutationRateLimit(SchemaExtension):
    """Each mutation operation (HTTP or WebSocket, each one of a batch) is one hit for its user
    and one for its client address; queries and subscriptions are not counted.

    Over a limit, the operation does not run: a top-level ``RATE_LIMITED`` error with
    ``retryAfter``, and over HTTP status 429 with ``Retry-After``.
    """

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    async def on_execute(self) -> AsyncIterator[None]:
        execution_context = self.execution_context
        if self.limiter.counts_mutations and execution_context.operation_type is OperationType.MUTATION:
            context = execution_context.context
            connection = getattr(context, "request", None)
            actor = getattr(context, "actor", None)
            refusal = await self.limiter.mutation(
                user_id=actor.user_id if actor is not None else None,
                address=self.limiter.address(connection) if isinstance(connection, HTTPConnection) else None,
            )
            response = getattr(context, "response", None)
            if refusal is not None:
                # Refusing takes precedence over an authentication refusal already set: an
                # anonymous client over its address's limit is told to back off.
                execution_context.result = GraphQLExecutionResult(
                    data=None, errors=[GraphQLError(refusal.message, extensions=refusal.extensions)]
                )
                if isinstance(response, Response):
                    _refuse_over_http(response, refusal)
            elif isinstance(response, Response) and execution_context.result is None:
                _ran_mutations.add(response)
        yield


def _refuse_over_http(response: Response, refusal: Refusal) -> None:
    response.headers["Retry-After"] = str(refusal.retry_after)
    if response not in _ran_mutations:
        response.status_code = 429
