"""Mutations counted per user and per client address, refused before they execute."""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql import ExecutionResult as GraphQLExecutionResult
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
    """Each mutation field of an operation (HTTP or WebSocket, each operation of a batch) is one
    hit for its user and one for its client address; queries and subscriptions are not counted.

    Fields, not operations: ``{ a: updateCase(…) b: updateCase(…) … }`` runs every aliased field,
    so it costs what as many separate operations would.

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
                fields=mutation_fields(execution_context.graphql_document, execution_context.operation_name),
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


def mutation_fields(document: DocumentNode | None, operation_name: str | None) -> int:
    """The root fields the operation would run: one per response key (an alias or the name).

    Fragments at the root count where they are spread; ``@skip``/``@include`` are ignored, as
    the query limits ignore them: what the document may run is counted, not gamed by a variable.
    Fields with the same response key are merged by GraphQL and run once. At least one.
    """
    if document is None:
        return 1
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    operation = next(
        (d for d in operations if operation_name is None or (d.name is not None and d.name.value == operation_name)),
        None,
    )
    if operation is None:
        return 1
    keys: set[str] = set()
    _response_keys(operation.selection_set, fragments, keys, set())
    return max(1, len(keys))


def _response_keys(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], keys: set[str], entered: set[str]
) -> None:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value != "__typename":
                keys.add((selection.alias or selection.name).value)
        elif isinstance(selection, InlineFragmentNode):
            _response_keys(selection.selection_set, fragments, keys, entered)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in entered:  # a cycle is refused by validation
                entered.add(name)
                _response_keys(fragment.selection_set, fragments, keys, entered)


def _refuse_over_http(response: Response, refusal: Refusal) -> None:
    response.headers["Retry-After"] = str(refusal.retry_after)
    if response not in _ran_mutations:
        response.status_code = 429
