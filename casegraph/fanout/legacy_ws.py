"""The legacy ``graphql-ws`` protocol (Apollo's subscriptions-transport-ws), served like the modern one.

Strawberry serves this protocol with a task, a generator chain and one execution per event per
subscriber, and only subscriptions: a query or mutation sent with ``start`` failed as an
unexpected error. Here:

- ``caseEvents`` and ``queueEvents`` are *followed* exactly as over graphql-transport-ws
  (``transport_ws.py``): the resolver authorizes, then hands its subscriber to the registration
  on offer; the fan-out dispatcher executes each event once per plan and visibility class for
  subscribers of both protocols alike, and writes the shared payload in a ``data`` message;
- queries and mutations run once through the same pipeline (limits, allow-list, rate limits),
  answer with ``data`` and then ``complete``, as subscriptions-transport-ws servers do;
- a message that is not a JSON object of the protocol's shape closes the socket with 4400,
  as graphql-transport-ws does, instead of raising inside the handler;
- ``connection_init`` and each operation's set-up wait for a place at the process's setup gate
  (``setup_gate.py``), as over graphql-transport-ws: a crowd reconnecting on the legacy protocol
  queues like one on the modern protocol instead of all authenticating and validating at once.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

from starlette.websockets import WebSocket
from strawberry.subscriptions.protocols.graphql_ws.types import (
    CompleteMessage,
    ConnectionInitMessage,
    ErrorMessage,
    OperationMessage,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError

from casegraph._compat.strawberry_schema import raw_info
from casegraph._compat.uvicorn_websockets_sansio import SEND_TEXT_NOW
from casegraph.domain.relations import Actor
from casegraph.events.feed import FeedFilter
from casegraph.events.hub import EventHub
from casegraph.fanout.connection_context import operation_context
from casegraph.fanout.dispatcher import FanoutDispatcher
from casegraph.fanout.followers import Follower
from casegraph.fanout.messages import BAD_MESSAGE, message_problem
from casegraph.fanout.outlet import Outlet
from casegraph.fanout.registration import StreamSpec, offering
from casegraph.fanout.setup_gate import SetupSlot
from casegraph.fanout.streams import StreamFollower
from casegraph.rate_limits import LegacyWSHandler

SUBSCRIPTION_LIMIT_REACHED: Final = "Subscription limit reached"


class LiveLegacyWSHandler(LegacyWSHandler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._followers: dict[str, Follower | StreamFollower] = {}
        self._outlet: Outlet | None = None

    @property
    def dispatcher(self) -> FanoutDispatcher:
        dispatcher: FanoutDispatcher = self.view.fanout  # type: ignore[attr-defined]
        return dispatcher

    @property
    def outlet(self) -> Outlet:
        """This connection's frame writer (made on the first followed subscription)."""
        if self._outlet is None:
            websocket = getattr(self.websocket, "ws", None)
            assert isinstance(websocket, WebSocket), "followed subscriptions need the ASGI WebSocket"
            now = websocket.scope.get("extensions", {}).get(SEND_TEXT_NOW, {}).get("send")
            self._outlet = Outlet(websocket.send_text, now if callable(now) else None)
        return self._outlet

    async def handle_message(self, message: OperationMessage) -> None:
        problem = message_problem(message, start="start", with_id=("start", "stop"))
        if problem is not None:
            await self.websocket.close(code=BAD_MESSAGE, reason=problem)
            return
        if message["type"] == "start":
            operation_id = message["id"]
            # A followed subscription holds no task, so Strawberry's count of tasks misses it.
            if operation_id in self._followers:
                await self.cleanup_operation(operation_id)
            limit = self.max_subscriptions_per_connection
            if limit is not None and len(self.tasks) + len(self._followers) >= limit:
                error: ErrorMessage = {
                    "type": "error",
                    "id": operation_id,
                    "payload": {"message": SUBSCRIPTION_LIMIT_REACHED},
                }
                await self.send_message(error)
                return
        await super().handle_message(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        # Authenticating (token, user row, memberships) is set-up: through the gate.
        slot = SetupSlot()
        try:
            await slot.acquire()
            await super().handle_connection_init(message)
        finally:
            slot.release()

    async def handle_async_results(
        self, operation_id: str, query: str, operation_name: str | None, variables: dict[str, object] | None
    ) -> None:
        """Strawberry's, with a registration on offer and every operation type allowed."""
        registration = LegacyRegistration(self, operation_id, query, operation_name, variables)
        slot = SetupSlot()
        try:
            await slot.acquire()
            with offering(registration):
                result_source = await self.schema.stream(
                    query=query,
                    variable_values=variables,
                    operation_name=operation_name,
                    context_value=operation_context(self.context),
                    root_value=self.root_value,
                )
                self.subscriptions[operation_id] = result_source
                is_first_result = True
                async for result in result_source:
                    slot.release()  # the first result ends the set-up
                    if is_first_result and isinstance(result, PreExecutionError):
                        assert result.errors
                        await self.send_message(
                            ErrorMessage(type="error", id=operation_id, payload=result.errors[0].formatted)
                        )
                        return
                    if isinstance(result, ExecutionResult):  # @defer/@stream frames: not in this schema
                        await self.send_data_message(result, operation_id)
                    is_first_result = False
            follower = registration.follower
            if follower is not None:
                await follower.start(registration.after)
                slot.release()
                return  # followed from now on: no task, no generator
            await self.send_message(CompleteMessage(type="complete", id=operation_id))
        except asyncio.CancelledError:
            await self.send_message(CompleteMessage(type="complete", id=operation_id))
        except Exception:
            if registration.follower is not None:
                registration.follower.close()
                self._followers.pop(operation_id, None)
            raise
        finally:
            slot.release()
            self.subscriptions.pop(operation_id, None)
            self.tasks.pop(operation_id, None)

    async def cleanup_operation(self, operation_id: str) -> None:
        follower = self._followers.pop(operation_id, None)
        if follower is not None:
            follower.close()
            if operation_id not in self.tasks:
                # ``stop`` of a followed subscription: say it is over, as for a cancelled task.
                await self.send_message(CompleteMessage(type="complete", id=operation_id))
                return
        await super().cleanup_operation(operation_id)

    async def cleanup(self) -> None:
        for follower in list(self._followers.values()):
            follower.close()
        self._followers.clear()
        await super().cleanup()
        if self._outlet is not None:
            self._outlet.close()

    def adopt(self, operation_id: str, follower: Follower | StreamFollower) -> None:
        self._followers[operation_id] = follower

    def ended(self, operation_id: str) -> None:
        """The server ended a followed subscription (and sent ``complete``): forget its id."""
        self._followers.pop(operation_id, None)


class LegacyRegistration:
    """Offered to the subscription resolver of one ``start``; accepted at most once."""

    __slots__ = ("handler", "operation_id", "query", "operation_name", "variables", "follower", "after")

    def __init__(
        self,
        handler: LiveLegacyWSHandler,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        self.handler = handler
        self.operation_id = operation_id
        self.query = query
        self.operation_name = operation_name
        self.variables = variables
        self.follower: Follower | StreamFollower | None = None
        self.after: int | None = None

    def accept(self, *, hub: EventHub, actor: Actor, flt: FeedFilter, after: int | None, info: Any) -> None:
        if self.follower is not None:
            raise RuntimeError("a subscription can be followed once")
        handler = self.handler
        resolve_info = raw_info(info)
        dispatcher = handler.dispatcher
        plan = dispatcher.plan_for(
            query=self.query,
            operation_name=self.operation_name,
            variables=self.variables,
            operation=resolve_info.operation,
            fragments=resolve_info.fragments,
        )
        self.follower = dispatcher.follow(
            hub=hub,
            actor=actor,
            flt=flt,
            plan=plan,
            outlet=handler.outlet,
            context=handler.context,
            owner=handler,
            operation_id=self.operation_id,
            frame_type="data",
        )
        self.after = after
        handler.adopt(self.operation_id, self.follower)

    def share(self, *, spec: StreamSpec, info: Any) -> None:
        """casePresence, queueCounters: one stream per state serves every subscriber (streams.py)."""
        if self.follower is not None:
            raise RuntimeError("a subscription can be followed once")
        handler = self.handler
        raw_info = info._raw_info
        dispatcher = handler.dispatcher
        plan = dispatcher.plan_for(
            query=self.query,
            operation_name=self.operation_name,
            variables=self.variables,
            operation=raw_info.operation,
            fragments=raw_info.fragments,
        )
        self.follower = dispatcher.follow_stream(
            spec=spec,
            plan=plan,
            outlet=handler.outlet,
            context=handler.context,
            owner=handler,
            operation_id=self.operation_id,
            frame_type="data",
        )
        handler.adopt(self.operation_id, self.follower)
