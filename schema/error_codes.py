"""Codes for the request errors graphql-core leaves without one: syntax, validation, variables.

Every other error carries ``extensions.code``; clients branch on it (Apollo Client's error
links, urql's exchanges), so these get the names Apollo Server gives them. Set in the phase
that produced the error, not guessed from its shape afterwards: a variable that fails coercion
when execution starts also has no path and no code, and it is Apollo's ``BAD_USER_INPUT``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension

GRAPHQL_PARSE_FAILED: Final = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED: Final = "GRAPHQL_VALIDATION_FAILED"
# Variables that do not fit their declared types: refused before any field runs.
BAD_USER_INPUT: Final = "BAD_USER_INPUT"


def _code_missing(error: GraphQLError) -> bool:
    return not (error.extensions or {}).get("code")


class RequestErrorCodes(SchemaExtension):
    """Over HTTP and WebSocket alike: it sees the phases, not the transport."""

    def on_parse(self) -> Iterator[None]:
        yield
        for error in self.execution_context.pre_execution_errors or ():
            if isinstance(error, GraphQLSyntaxError) and _code_missing(error):
                error.extensions = {**(error.extensions or {}), "code": GRAPHQL_PARSE_FAILED}

    def on_validate(self) -> Iterator[None]:
        yield
        # Guards that refuse in place of validation (limits, allow-list, authentication) have
        # given theirs; what is left came from graphql-core's validation rules.
        for error in self.execution_context.pre_execution_errors or ():
            if _code_missing(error):
                error.extensions = {**(error.extensions or {}), "code": GRAPHQL_VALIDATION_FAILED}

    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or result.data is not None:
            return
        # No data and an error without a path: execution stopped before the first field, which
        # only coercing the variables does (every field error carries its path).
        for error in result.errors or ():
            if error.path is None and _code_missing(error):
                error.extensions = {**(error.extensions or {}), "code": BAD_USER_INPUT}
