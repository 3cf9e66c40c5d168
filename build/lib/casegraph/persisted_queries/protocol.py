"""The APQ protocol for one request: which document to execute, or why none may run.

Codes and messages are Apollo's, so Apollo clients (and other APQ links) react as they should:
``PersistedQueryNotFound`` makes them resend the text, ``PersistedQueryNotSupported`` makes them
stop sending hashes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from graphql import GraphQLError
from strawberry.types.execution import ExecutionResult

from casegraph.persisted_queries.caches import PersistedQueries

OFF, APQ, ALLOWLIST = "off", "apq", "allowlist"

PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
PERSISTED_QUERY_NOT_ALLOWED = "PERSISTED_QUERY_NOT_ALLOWED"
PERSISTED_QUERY_VERSION_NOT_SUPPORTED = "PERSISTED_QUERY_VERSION_NOT_SUPPORTED"
PERSISTED_QUERY_INVALID = "PERSISTED_QUERY_INVALID"

SUPPORTED_VERSION = 1
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


def document_hash(document: str) -> str:
    """APQ's hash: the hex SHA-256 of the exact text (UTF-8), as the client computed it."""
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def is_document_hash(value: str) -> bool:
    return _SHA256_HEX.fullmatch(value) is not None


class PersistedQueryRefusal(Exception):
    """A request the persisted-query rules refuse before anything runs."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def is_protocol_step(self) -> bool:
        """Not-found and not-supported are steps of the protocol, not failures: Apollo Server answers
        them with HTTP 200, and Apollo's link turns persisted queries off for good on a 400."""
        return self.code in (PERSISTED_QUERY_NOT_FOUND, PERSISTED_QUERY_NOT_SUPPORTED)

    def error(self) -> GraphQLError:
        return GraphQLError(self.message, extensions={"code": self.code})

    def result(self) -> ExecutionResult:
        """A request error: no data, one error without a path."""
        return ExecutionResult(data=None, errors=[self.error()])


def not_found() -> PersistedQueryRefusal:
    return PersistedQueryRefusal(PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound")


def not_supported() -> PersistedQueryRefusal:
    return PersistedQueryRefusal(PERSISTED_QUERY_NOT_SUPPORTED, "PersistedQueryNotSupported")


def hash_mismatch() -> PersistedQueryRefusal:
    return PersistedQueryRefusal(PERSISTED_QUERY_HASH_MISMATCH, "provided sha does not match query")


def not_allowed() -> PersistedQueryRefusal:
    return PersistedQueryRefusal(
        PERSISTED_QUERY_NOT_ALLOWED, "This server runs only registered operations; this one is not registered."
    )


def requested_hash(persisted_query: object) -> str:
    """The hash a ``persistedQuery`` extension names (lower case); refuses other versions and shapes."""
    if not isinstance(persisted_query, Mapping):
        raise PersistedQueryRefusal(PERSISTED_QUERY_INVALID, "extensions.persistedQuery must be an object.")
    version = persisted_query.get("version")
    if version != SUPPORTED_VERSION or isinstance(version, bool):
        raise PersistedQueryRefusal(
            PERSISTED_QUERY_VERSION_NOT_SUPPORTED,
            f"Unsupported persisted query version {version!r}: only version {SUPPORTED_VERSION} is supported.",
        )
    sha256 = persisted_query.get("sha256Hash")
    if not isinstance(sha256, str) or not is_document_hash(sha256):
        raise PersistedQueryRefusal(
            PERSISTED_QUERY_INVALID, "extensions.persistedQuery.sha256Hash must be a hex SHA-256 (64 characters)."
        )
    return sha256.lower()


async def resolve_document(
    *, mode: str, store: PersistedQueries, query: str | None, extensions: Mapping[str, object] | None
) -> str | None:
    """The document text to execute for one request, or a PersistedQueryRefusal.

    Without a persistedQuery extension the request's own text is returned (None stays None: the
    caller reports the missing query). The allow-list itself is enforced on the final text by
    ``AllowListGate``, which sees WebSocket operations too; here a hash alone only resolves to a
    registered document in that mode, never to one a client taught this process.
    """
    persisted_query = extensions.get("persistedQuery") if extensions else None
    if persisted_query is None:
        return query
    if mode == OFF:
        raise not_supported()
    sha256 = requested_hash(persisted_query)
    if query is None:
        document = store.recent.get(sha256) if mode == APQ else None
        if document is None:
            document = await store.registered.document(sha256)
        if document is None:
            raise not_found()
        return document
    if document_hash(query) != sha256:
        raise hash_mismatch()
    if mode == APQ:
        # Only in memory, and only once the text is known to match its hash.
        store.recent.remember(sha256, query)
    return query
