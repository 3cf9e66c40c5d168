# Follows upstream: strawberry-graphql 0.341.2, strawberry/subscriptions/protocols/graphql_transport_ws/handlers.py
"""What the followed graphql-transport-ws handler (``casegraph.fanout.transport_ws``) needs of
Strawberry's handler beyond its public methods.

``LiveTransportWSHandler.run_operation`` is Strawberry's ``run_operation`` with a registration
on offer; it streams results the way Strawberry does (``_send_result_stream``), which ends an
operation that closed the socket with the private ``_OperationStreamClosed``.

``SyntaxErrorsAnswered`` overrides the private ``_get_pre_execution_close_reason``: Strawberry
closes the whole socket (4400) when one operation's document does not parse.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)

__all__ = ["Operation", "OperationStreamClosed", "SyntaxErrorsAnswered", "send_result_stream"]

OperationStreamClosed = _OperationStreamClosed


async def send_result_stream(
    handler: BaseGraphQLTransportWSHandler[Any, Any],
    operation: Operation[Any, Any],
    results: AsyncGenerator[Any, None],
) -> None:
    """Send each result as Strawberry does; raises ``OperationStreamClosed`` if one closed the socket."""
    await handler._send_result_stream(operation, results)


class SyntaxErrorsAnswered(BaseGraphQLTransportWSHandler[Any, Any]):
    """A document that does not parse is answered with an ``error`` message, as one that does not
    validate is, with its ``GRAPHQL_PARSE_FAILED`` code: one bad operation does not end the
    connection's other subscriptions (graphql-transport-ws allows an error for any operation
    that cannot start). Other reasons Strawberry has to close (no operation type) still close."""

    @staticmethod
    def _get_pre_execution_close_reason(error: GraphQLError) -> str | None:
        if isinstance(error, GraphQLSyntaxError):
            return None
        return BaseGraphQLTransportWSHandler._get_pre_execution_close_reason(error)
