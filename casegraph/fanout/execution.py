"""One execution of a plan for one event, as Strawberry would run it for one subscriber.

graphql-core's subscription machinery executes the operation once per event with the event as
root value (``execute_subscription_event`` on a per-event copy of the executor). Strawberry
then processes the result: errors are logged (``process_errors``), extension results attached,
and ``on_stream_result`` hooks run — ``MaskErrors`` hides unexpected errors there. The same
steps run here, once per visibility class instead of once per subscriber, and the result is
serialized once into the ``payload`` of a graphql-transport-ws ``next`` message.
"""

from __future__ import annotations

from inspect import isawaitable
from typing import Any

import orjson
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, execute_subscription_event
from strawberry.schema import Schema
from strawberry.types import ExecutionContext
from strawberry.types.execution import ExecutionResult
from strawberry.types.graphql import OperationType

from casegraph.fanout.plans import Plan
from schema.context import Context


async def execute_payload(schema: Schema, plan: Plan, root: object, context: Context) -> str:
    """The event's ``next`` payload for subscribers with this context, as JSON text."""
    executor = plan.executor.build_per_event_executor(root)
    executor.context_value = context
    outcome = execute_subscription_event(executor)
    raw: GraphQLExecutionResult = await outcome if isawaitable(outcome) else outcome
    return await finish(schema, plan, context, raw)


async def failure_payload(schema: Schema, plan: Plan, context: Context, error: Exception) -> str:
    """What Strawberry sends when executing an event raised: the error, masked when unexpected."""
    return await finish(schema, plan, context, GraphQLExecutionResult(None, [_coerce(error)]))


async def finish(schema: Schema, plan: Plan, context: Context, raw: GraphQLExecutionResult) -> str:
    execution_context = ExecutionContext(
        query=plan.query,
        schema=schema,
        allowed_operations=(OperationType.SUBSCRIPTION,),
        context=context,
        variables=plan.variables,
        provided_operation_name=plan.operation_name,
    )
    extensions = schema.get_extensions()
    for extension in extensions:
        extension.execution_context = execution_context
    runner = schema.create_extensions_runner(execution_context, extensions)
    if raw.errors:
        execution_context.pre_execution_errors = raw.errors
        schema.process_errors(raw.errors, execution_context)
    result = ExecutionResult(data=raw.data, errors=raw.errors)
    result.extensions = await runner.get_extensions_results(execution_context)
    execution_context.result = result
    async with runner.on_stream_result(result):
        pass
    return serialize(result)


def serialize(result: ExecutionResult) -> str:
    """The ``next`` message's payload, as Strawberry's ``send_next`` shapes it."""
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return orjson.dumps(payload).decode()


def _coerce(error: Exception) -> GraphQLError:
    return error if isinstance(error, GraphQLError) else GraphQLError(str(error), original_error=error)
