"""graphql-transport-ws whose event subscriptions are followed rather than iterated.

Every operation runs through Strawberry exactly as before — parsing, query limits, the
allow-list, validation, authentication, metrics, and the resolver's authorization — with a
registration on offer. ``caseEvents`` and ``queueEvents`` accept it: their subscriber becomes a
``Follower`` and their generator ends without a result. The operation's task then replays what
the client asked for and ends; the subscription stays in ``operations`` (so ``complete``,
duplicate ids and the per-connection limit work as before) with no task behind it. Other
operations never accept, and are answered, then completed, as Strawberry would.

At most ``SETUP_CONCURRENCY`` (``setup_gate.py``) connections or operations per process are being set up at once
(``connection_init``; an operation until its first result, its follower is live, it ends, or
``SETUP_HOLD`` seconds pass). Ten thousand
dashboards reconnecting after a restart then queue for the database instead of all parsing,
validating and querying at once: each setup's transient objects would otherwise be alive at the
same moment, and the heap they grew never returns (most of an idle subscription's memory was
that high-water mark).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any, Protocol, cast

from starlette.websockets import WebSocket
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    CompleteMessage,
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)
from strawberry.utils.aio import aclosing

from casegraph._compat.strawberry_schema import raw_info
from casegraph._compat.strawberry_transport_ws import (
    Operation,
    OperationStreamClosed,
    SyntaxErrorsAnswered,
    send_result_stream,
)
from casegraph._compat.uvicorn_websockets_sansio import SEND_TEXT_NOW
from casegraph.domain.relations import Actor
from casegraph.events.feed import FeedFilter
from casegraph.events.hub import EventHub
from casegraph.fanout.connection_context import operation_context
from casegraph.fanout.dispatcher import FanoutDispatcher
from casegraph.fanout.followers import Follower
from casegraph.fanout.messages import message_problem
from casegraph.fanout.outlet import Outlet
from casegraph.fanout.registration import StreamSpec, offering
from casegraph.fanout.sessions import SessionGuard
from casegraph.fanout.setup_gate import SetupSlot
from casegraph.fanout.streams import StreamFollower
from casegraph.rate_limits import TransportWSHandler


class ServesFanout(Protocol):
    fanout: FanoutDispatcher


class LiveTransportWSHandler(SessionGuard, SyntaxErrorsAnswered, TransportWSHandler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._followers: dict[str, Follower | StreamFollower] | None = None
        self._outlet: Outlet | None = None

    @property
    def dispatcher(self) -> FanoutDispatcher:
        view: ServesFanout = self.view  # type: ignore[assignment]
        return view.fanout

    @property
    def outlet(self) -> Outlet:
        """This connection's frame writer (made on the first followed subscription)."""
        if self._outlet is None:
            websocket = getattr(self.websocket, "ws", None)
            assert isinstance(websocket, WebSocket), "followed subscriptions need the ASGI WebSocket"
            now = websocket.scope.get("extensions", {}).get(SEND_TEXT_NOW, {}).get("send")
            self._outlet = Outlet(websocket.send_text, now if callable(now) else None)
        return self._outlet

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        # Each operation runs as the actor is now, and none once the token has expired (sessions.py).
        if self.connection_acknowledged and not await self.reauthorized():
            return
        await super().handle_subscribe(message)

    async def run_operation(self, operation: Operation[Any, Any]) -> None:
        """Strawberry's ``run_operation``, with a registration on offer while the operation is set up."""
        registration = Registration(self, operation)
        slot = SetupSlot()
        try:
            await slot.acquire()
            with offering(registration):
                result_source = await self.schema.stream(
                    operation.query,
                    variable_values=operation.variables,
                    context_value=operation_context(self.context),
                    root_value=self.root_value,
                    operation_name=operation.operation_name,
                )
                async with aclosing(_releasing(result_source, slot)) as results:
                    await send_result_stream(self, operation, results)
            follower = registration.follower
            if follower is not None:
                await follower.start(registration.after)
                slot.release()
                # The subscription lives on as the follower: this task ends, and nothing holds it
                # (nor the message's copy of the text: the plan has the same).
                operation.task = None
                operation.query = follower.plan.query
                operation.variables = None
                return
            await operation.send_operation_message(CompleteMessage(id=operation.id, type="complete"))
        except OperationStreamClosed:
            return
        except Exception as error:
            if registration.follower is not None:
                registration.follower.close()
                if self._followers:
                    self._followers.pop(operation.id, None)
            await self.handle_task_exception(error)
            try:
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            except Exception:  # noqa: BLE001 - the socket may be gone; the error is logged above
                pass
            self.operations.pop(operation.id, None)
            raise
        finally:
            slot.release()

    async def handle_message(self, message: Message) -> None:
        problem = message_problem(message, start="subscribe", with_id=("subscribe", "complete"))
        if problem is not None:
            await self.handle_invalid_message(problem)  # 4400, not an exception in the handler
            return
        await super().handle_message(message)
        # ``handle`` keeps the last message in a local while it waits for the next, for as long
        # as the socket is quiet: everything needed was taken from it.
        cast(dict[str, Any], message).clear()

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        # Authenticating (token, user row, memberships) is set-up too: through the same gate. The
        # client did say connection_init in time, however long it waits here.
        if self.connection_init_timeout_task is not None:
            self.connection_init_timeout_task.cancel()
        slot = SetupSlot()
        try:
            await slot.acquire()
            await super().handle_connection_init(message)
        finally:
            slot.release()
        # Cancelled by now; a finished task kept for the connection's lifetime is memory wasted.
        self.connection_init_timeout_task = None

    async def cleanup_operation(self, operation_id: str) -> None:
        follower = self._followers.pop(operation_id, None) if self._followers else None
        if follower is not None:
            follower.close()
        operation = self.operations.get(operation_id)
        if operation is not None and operation.task is None:
            del self.operations[operation_id]
            return
        await super().cleanup_operation(operation_id)

    async def shutdown(self) -> None:
        await super().shutdown()
        if self._outlet is not None:
            self._outlet.close()

    def adopt(self, operation_id: str, follower: Follower | StreamFollower) -> None:
        if self._followers is None:
            self._followers = {}
        self._followers[operation_id] = follower

    def ended(self, operation_id: str) -> None:
        """The server ended a followed subscription (and sent ``complete``): forget its id."""
        if self._followers:
            self._followers.pop(operation_id, None)
        self.operations.pop(operation_id, None)


async def _releasing(results: AsyncGenerator[Any, None], slot: SetupSlot) -> AsyncGenerator[Any, None]:
    """The operation's results; the first one ends its setup."""
    try:
        async for result in results:
            slot.release()
            yield result
    finally:
        await results.aclose()


class Registration:
    """Offered to the subscription resolver of one operation; accepted at most once."""

    __slots__ = ("handler", "operation", "follower", "after")

    def __init__(self, handler: LiveTransportWSHandler, operation: Operation[Any, Any]) -> None:
        self.handler = handler
        self.operation = operation
        self.follower: Follower | StreamFollower | None = None
        self.after: int | None = None

    def accept(self, *, hub: EventHub, actor: Actor, flt: FeedFilter, after: int | None, info: Any) -> None:
        if self.follower is not None:
            raise RuntimeError("a subscription can be followed once")
        handler, operation = self.handler, self.operation
        resolve_info = raw_info(info)
        dispatcher = handler.dispatcher
        plan = dispatcher.plan_for(
            query=operation.query,
            operation_name=operation.operation_name,
            variables=operation.variables,
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
            operation_id=operation.id,
        )
        self.after = after
        handler.adopt(operation.id, self.follower)

    def share(self, *, spec: StreamSpec, info: Any) -> None:
        """casePresence, queueCounters: one stream per state serves every subscriber (streams.py)."""
        if self.follower is not None:
            raise RuntimeError("a subscription can be followed once")
        handler, operation = self.handler, self.operation
        raw_info = info._raw_info
        dispatcher = handler.dispatcher
        plan = dispatcher.plan_for(
            query=operation.query,
            operation_name=operation.operation_name,
            variables=operation.variables,
            operation=raw_info.operation,
            fragments=raw_info.fragments,
        )
        self.follower = dispatcher.follow_stream(
            spec=spec,
            plan=plan,
            outlet=handler.outlet,
            context=handler.context,
            owner=handler,
            operation_id=operation.id,
        )
        handler.adopt(operation.id, self.follower)
