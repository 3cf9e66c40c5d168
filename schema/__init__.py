"""Strawberry declarations only. ``build_schema`` assembles the schema and its guards."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Final

import strawberry
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import FieldNode, GraphQLError, OperationDefinitionNode
from strawberry.extensions import DisableIntrospection, MaskErrors, SchemaExtension
from strawberry.federation.schema import FederationAny
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from casegraph._compat.strawberry_arguments import use_planned_input_conversion
from casegraph._compat.strawberry_extension_hooks import use_classified_hooks
from casegraph.domain.errors import DomainError
from casegraph.fastpath.documents import CachedDocuments, DocumentCache
from casegraph.fastpath.executor import CompiledExecutor
from casegraph.outages import MESSAGE as UNAVAILABLE_MESSAGE
from casegraph.outages import REQUESTS as REQUEST_OUTAGES
from casegraph.outages import SERVICE_UNAVAILABLE, is_outage
from casegraph.settings import QueryLimits
from resolvers.entities import check_representations
from schema.context import Context, Info, Unauthenticated
from schema.error_codes import RequestErrorCodes
from schema.limits import QueryLimitsGuard
from schema.root import Mutation, Query, Subscription

log = logging.getLogger("casegraph.graphql")

UNAUTHENTICATED = "UNAUTHENTICATED"
INTERNAL_ERROR = "INTERNAL_ERROR"


def unauthenticated(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": UNAUTHENTICATED})


class AuthenticationGate(SchemaExtension):
    """Refuses, before execution, operations without a valid token.

    A bad token is refused on any operation; a missing one only when the operation asks for
    more than introspection (api.md *Authentication*) and the ``ANONYMOUS_FIELDS``.
    """

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context) and context.actor is None:
            message = context.auth_error
            if message is None and not (
                _introspection_only(self.execution_context) or _anonymous_only(self.execution_context)
            ):
                message = "Authentication required: send 'Authorization: Bearer <token>'."
            if message is not None:
                self.execution_context.result = GraphQLExecutionResult(data=None, errors=[unauthenticated(message)])
        yield


class AnonymousCallersLearnNothing(SchemaExtension):
    """Production: an operation without a valid token is refused before it is validated.

    There introspection is off and every other field but the ``ANONYMOUS_FIELDS`` needs a
    token, so such an operation can never run; validating it would only tell the caller "Did you mean …?" and name fields one
    guess at a time. Runs before CachedDocuments, which then skips validation too.
    """

    def on_validate(self) -> Iterator[None]:
        execution_context = self.execution_context
        context = execution_context.context
        if (
            isinstance(context, Context)
            and context.actor is None
            and execution_context.pre_execution_errors is None
            and (context.auth_error is not None or not _anonymous_only(execution_context))
        ):
            message = context.auth_error or "Authentication required: send 'Authorization: Bearer <token>'."
            execution_context.pre_execution_errors = [unauthenticated(message)]
        yield


class SubscriptionsNeedAWebSocket(SchemaExtension):
    """A subscription sent over plain HTTP is a request error, not a crash.

    Strawberry lets HTTP carry subscriptions for its streaming transports, which casegraph does
    not offer; executing one as a plain operation would fail inside graphql-core.
    """

    def on_execute(self) -> Iterator[None]:
        execution_context = self.execution_context
        context = execution_context.context
        if (
            execution_context.result is None
            and isinstance(context, Context)
            and not context.over_websocket
            and execution_context.operation_type is OperationType.SUBSCRIPTION
        ):
            execution_context.result = GraphQLExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        "Subscriptions run over a WebSocket (graphql-transport-ws) at /graphql, not over HTTP.",
                        extensions={"code": "BAD_REQUEST"},
                    )
                ],
            )
        yield


# Root fields an operation without a token may ask for: asking for a sign-in link is how a
# person without one gets one (casegraph/services/sign_in.py).
ANONYMOUS_FIELDS: Final = frozenset({"requestSignInLink"})


def _introspection_only(execution_context: ExecutionContext) -> bool:
    return _only_root_fields(execution_context, lambda name: name.startswith("__"))


def _anonymous_only(execution_context: ExecutionContext) -> bool:
    """Every root field is one an anonymous caller may use (introspection aside)."""
    return _only_root_fields(execution_context, ANONYMOUS_FIELDS.__contains__)


def _only_root_fields(execution_context: ExecutionContext, allowed: Callable[[str], bool]) -> bool:
    document = execution_context.graphql_document
    if document is None:
        return False
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for selection in definition.selection_set.selections:
                if not isinstance(selection, FieldNode) or not allowed(selection.name.value):
                    return False
    return True


def should_mask_error(error: GraphQLError) -> bool:
    """Mask only unexpected failures: refusals, validation and limit errors stay readable."""
    original = error.original_error
    if original is None or isinstance(original, (GraphQLError, DomainError)):
        return False
    return not isinstance(original, Unauthenticated)


class CaseGraphSchema(strawberry.federation.Schema):
    def entities_resolver(self, info: Info, representations: list[FederationAny]) -> list[FederationAny]:
        check_representations(representations)
        return super().entities_resolver(info, representations)

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        for error in errors:
            original = error.original_error
            if isinstance(original, Unauthenticated):
                error.extensions = {**(error.extensions or {}), "code": UNAUTHENTICATED}
            elif isinstance(original, DomainError):
                error.extensions = {**(error.extensions or {}), "code": original.code.value}
            elif original is not None and is_outage(original):
                # Not a bug: the database or broker went away mid-request (logged once per outage).
                error.extensions = {**(error.extensions or {}), "code": SERVICE_UNAVAILABLE}
                REQUEST_OUTAGES.failed(original)
            elif original is not None and not isinstance(original, GraphQLError):
                # The client sees only this id (MaskUnexpectedErrors); the log has it with the traceback.
                error_id = uuid.uuid4().hex[:16]
                error.extensions = {**(error.extensions or {}), "errorId": error_id}
                log.error(
                    "unexpected error %s in %s", error_id, error.path, exc_info=original, extra={"error_id": error_id}
                )


class MaskUnexpectedErrors(MaskErrors):
    """Strawberry's masking, plus a code and the error id the server log carries too."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        if (error.extensions or {}).get("code") == SERVICE_UNAVAILABLE:
            masked.message = UNAVAILABLE_MESSAGE
            masked.extensions = {"code": SERVICE_UNAVAILABLE}
            return masked
        error_id = (error.extensions or {}).get("errorId")
        masked.extensions = {"code": INTERNAL_ERROR, **({"errorId": error_id} if error_id else {})}
        return masked


def build_schema(
    *,
    production: bool = False,
    limits: QueryLimits | None = None,
    batch_max_operations: int = 0,
    extra_extensions: Sequence[type[SchemaExtension] | Callable[[], SchemaExtension]] = (),
    compiled_queries: bool = True,
) -> strawberry.federation.Schema:
    """The schema with its guards.

    ``extra_extensions`` come from the application (rate limits, persisted-query allow-list,
    metrics, tracing); they run after authentication and before the limits.
    """
    limits = limits or QueryLimits()
    # Input objects' fields are worked out once per type, not per request (the module says why).
    use_planned_input_conversion()
    # The extensions' hooks are classified once per class, not per request (the module says why).
    use_classified_hooks()
    documents = DocumentCache()
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        # First: its hooks close last, after every other extension has refused or validated.
        RequestErrorCodes,
        AuthenticationGate,
        SubscriptionsNeedAWebSocket,
        *extra_extensions,
        lambda: QueryLimitsGuard(limits),
        # After every guard that refuses before validation (casegraph/fastpath/documents.py).
        lambda: CachedDocuments(documents),
        lambda: MaskUnexpectedErrors(should_mask_error=should_mask_error, error_message="Unexpected error."),
    ]
    if production:
        extensions.insert(1, AnonymousCallersLearnNothing)
        extensions.append(DisableIntrospection)
    from schema import features

    def merged(name: str, base: type, extra: list[type]) -> type:
        return merge_types(name, (base, *extra)) if extra else base

    return CaseGraphSchema(
        query=merged("Query", Query, features.QUERIES),
        mutation=merged("Mutation", Mutation, features.MUTATIONS),
        subscription=merged("Subscription", Subscription, features.SUBSCRIPTIONS),
        extensions=extensions,
        # Planned queries (the agents' queue) skip per-field resolution: casegraph/fastpath, an
        # accelerator that ``compiled_queries=False`` (CASEGRAPH_COMPILED_QUERIES=off) leaves out.
        execution_context_class=CompiledExecutor if compiled_queries else None,
        config=StrawberryConfig(
            batching_config={"max_operations": batch_max_operations} if batch_max_operations else None
        ),
    )
