# Follows upstream: strawberry-graphql 0.341.2, strawberry/subscriptions/protocols/graphql_transport_ws/handlers.py
"""What the followed graphql-transport-ws handler (``casegraph.fanout.transport_ws``) needs of
Strawberry's handler beyond its public methods.

``LiveTransportWSHandler.run_operation`` is Strawberry's ``run_operation`` with a registration
on offer; it streams results the way Strawberry does (``_send_result_stream``), which ends an
operation that closed the socket with the private ``_OperationStreamClosed``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)

__all__ = ["Operation", "OperationStreamClosed", "send_result_stream"]

OperationStreamClosed = _OperationStreamClosed


async def send_result_stream(
    handler: BaseGraphQLTransportWSHandler[Any, Any],
    operation: Operation[Any, Any],
    results: AsyncGenerator[Any, None],
) -> None:
    """Send each result as Strawberry does; raises ``OperationStreamClosed`` if one closed the socket."""
    await handler._send_result_stream(operation, results)
