"""The compiled path inside graphql-core's execution: planned operations skip per-field resolution.

Strawberry runs every request through its extensions (authentication, the query limits, the
persisted-query allow-list, rate limits, metrics, error masking) and graphql-core's executor,
which coerces the variables; only then does ``execute_operation`` resolve the fields. That is
the step this executor replaces for operations the planner knows (``plan``): the response is
built from a few statements' plain rows. Everything before and after is untouched, so the guards
apply to both paths alike.

Anything the compiled path cannot answer exactly — an operation it does not know, resolver
middleware (tracing spans per resolver), a refusal of the page request (a bad cursor, page or
filter), an unexpected failure — is executed normally, which answers it as it always did.
"""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Sequence
from typing import Any, Final, cast

from graphql import ExecutionResult, GraphQLObjectType, OperationDefinitionNode

from casegraph._compat.graphql_core_executor import EventExecutor, field_arguments
from casegraph.database.sql import Unsupported
from casegraph.domain.errors import DomainError
from casegraph.fastpath.case_page import case_needs, connection_builder, fetch_page
from casegraph.fastpath.plan import TYPENAME, Field, OperationPlan, plan_operation
from casegraph.fastpath.rows import Request
from casegraph.fastpath.viewer import fetch_viewer
from casegraph.services import case_queries

log = logging.getLogger("casegraph.fastpath")

# How operations were executed: "compiled", or "normal" with why ("unplanned", "middleware",
# "refused", "failed"). Read by the regression guards and /metrics.
EXECUTIONS: Final[Counter[str]] = Counter()
_PLANS_KEPT: Final = 512


class _Plans:
    """Plans by operation node (documents come from the document cache, so nodes recur)."""

    def __init__(self, size: int = _PLANS_KEPT) -> None:
        self.size = size
        self._entries: OrderedDict[int, tuple[OperationDefinitionNode, OperationPlan | None]] = OrderedDict()

    def get(self, executor: EventExecutor) -> OperationPlan | None:
        operation = executor.operation
        found = self._entries.get(id(operation))
        if found is not None and found[0] is operation:
            self._entries.move_to_end(id(operation))
            return found[1]
        plan = plan_operation(executor.schema, operation, executor.fragment_definitions)
        self._entries[id(operation)] = (operation, plan)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return plan


PLANS: Final = _Plans()


class CompiledExecutor(EventExecutor):
    """Strawberry's executor, answering planned operations itself (subscriptions it runs as
    ``EventExecutor`` does)."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        reason = self._why_not_compiled()
        if reason is not None:
            EXECUTIONS[f"normal:{reason}"] += 1
            return super().execute_operation(serially)
        plan = PLANS.get(self)
        if plan is None:
            EXECUTIONS["normal:unplanned"] += 1
            return super().execute_operation(serially)
        return self._compiled(plan, serially)

    def _why_not_compiled(self) -> str | None:
        manager = self.middleware_manager
        if manager is not None and manager.middlewares:
            return "middleware"  # resolver middleware (per-field spans) must see each field
        if getattr(self.context_value, "actor", None) is None:
            return "anonymous"
        return None

    async def _compiled(self, plan: OperationPlan, serially: bool | None) -> ExecutionResult:
        try:
            data = await self._answer(plan.shape(self.variable_values.coerced))
        except (DomainError, Unsupported):
            # The normal execution runs next and reports the refusal through the resolvers.
            EXECUTIONS["normal:refused"] += 1
        except Exception:  # the normal execution reports it as it always did
            log.warning("the compiled path failed; executing normally", exc_info=True)
            EXECUTIONS["normal:failed"] += 1
        else:
            EXECUTIONS["compiled"] += 1
            return ExecutionResult(data, None)
        result = super().execute_operation(serially)
        if isinstance(result, Awaitable):
            return cast(ExecutionResult, await result)
        return cast(ExecutionResult, result)

    async def _answer(self, fields: Sequence[Field]) -> dict[str, Any]:
        context = self.context_value
        actor = context.actor
        request = Request(sees_internal=context.sees_internal, clock=context.clock)
        data: dict[str, Any] = {}
        for field in fields:
            if field.name == TYPENAME:
                data[field.key] = "Query"
            elif field.name == "me":
                build = await fetch_viewer(field.children, actor)
                data[field.key] = build()
            elif field.name == "cases":
                data[field.key] = await self._cases(field, actor, request)
        return data

    async def _cases(self, field: Field, actor: Any, request: Request) -> dict[str, Any]:
        from resolvers.queries import case_filter_of, ordering_of

        query_type = self.schema.query_type
        assert isinstance(query_type, GraphQLObjectType)
        definition = query_type.fields["cases"]
        arguments = field_arguments(self, definition, field.node)
        page_request = await case_queries.page_request(
            actor=actor,
            flt=case_filter_of(arguments.get("filter")),
            ordering=ordering_of(arguments.get("order_by")),
            first=arguments.get("first"),
            after=arguments.get("after"),
            max_page=self.context_value.max_page_size,
        )
        if page_request.search is not None:
            # A text search is read through the search index (case_queries.list_cases), not pages.
            raise Unsupported
        nodes = [node for edges in field.child("edges") for node in edges.child("node")]
        needs = case_needs(nodes, page_request.ordering.field.value)
        total, rows, template = await fetch_page(page_request, needs)
        return connection_builder(field, template)(total, rows, page_request, request)
