"""Registered operations in the database: reading them from files, registering, listing, removing.

A document is registered byte for byte: its hash covers exactly the text a client will send, so
nothing is reformatted. A ``.graphql`` file is registered whole (clients that send a file's text
send all of it, with ``operationName`` picking one operation). Apollo Client sends its own
printing of each operation, not the file: register the ``persisted-query-manifest.json`` that
``@apollo/generate-persisted-query-manifest`` writes, whose bodies are exactly what it sends.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from graphql import GraphQLError, OperationDefinitionNode, parse
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from casegraph.domain.errors import validation_failed
from casegraph.domain.relations import Actor
from casegraph.persisted_queries.protocol import document_hash, is_document_hash
from casegraph.services.admin import require_admin
from models import PersistedQuery

# Far above any real operation; keeps a mistaken upload (or a hostile admin token) small.
MAX_DOCUMENT_CHARS = 100_000
NAME_LIMIT = 200
MANIFEST_FORMAT = "apollo-persisted-query-manifest"
MANIFEST_VERSION = 1


class RegistrationError(ValueError):
    """A document or manifest that cannot be registered; the message says which and why."""

    def __init__(self, message: str, field: str = "document") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class OperationDocument:
    """A document ready to register: checked, named, hashed."""

    document: str
    name: str | None
    sha256: str


@dataclass(frozen=True)
class Registration:
    row: PersistedQuery
    created: bool


def operation_document(document: str, name: str | None = None) -> OperationDocument:
    """Check one document: within size, parses, holds at least one operation.

    It is not validated against the schema, so operations of the next release can be registered
    before it is deployed. Without a name, a document's only named operation gives it one.
    """
    if len(document) > MAX_DOCUMENT_CHARS:
        raise RegistrationError(f"the document is longer than {MAX_DOCUMENT_CHARS} characters")
    if not document.strip():
        raise RegistrationError("the document is empty")
    try:
        parsed = parse(document)
    except GraphQLError as error:
        raise RegistrationError(f"the document is not GraphQL: {error.message}") from None
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    if not operations:
        raise RegistrationError("the document holds no operation (only fragments?)")
    if name is not None:
        name = name.strip() or None
    if name is not None and len(name) > NAME_LIMIT:
        raise RegistrationError(f"the name is longer than {NAME_LIMIT} characters", field="name")
    if name is None and len(operations) == 1 and operations[0].name is not None:
        name = operations[0].name.value
    return OperationDocument(document=document, name=name, sha256=document_hash(document))


def read_manifest(text: str, source: str) -> list[OperationDocument]:
    """The operations of an Apollo persisted-query manifest, each id checked against its body."""
    try:
        manifest = json.loads(text)
    except ValueError as error:
        raise RegistrationError(f"{source}: not JSON ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise RegistrationError(f'{source}: not a manifest (expected "format": "{MANIFEST_FORMAT}")')
    if manifest.get("version") != MANIFEST_VERSION:
        raise RegistrationError(f"{source}: manifest version {manifest.get('version')!r} is not supported (only 1)")
    operations = manifest.get("operations")
    if not isinstance(operations, list):
        raise RegistrationError(f'{source}: "operations" must be a list')
    documents = []
    for index, operation in enumerate(operations):
        where = f"{source}: operation #{index}"
        if not isinstance(operation, dict):
            raise RegistrationError(f"{where} is not an object")
        body, given_id, name = operation.get("body"), operation.get("id"), operation.get("name")
        if isinstance(name, str):
            where = f"{source}: operation #{index} ({name})"
        if not isinstance(body, str) or not isinstance(given_id, str) or not isinstance(name, (str, type(None))):
            raise RegistrationError(f'{where} needs a string "id" and "body" (and "name")')
        try:
            document = operation_document(body, name)
        except RegistrationError as error:
            raise RegistrationError(f"{where}: {error}") from None
        if given_id.lower() != document.sha256:
            raise RegistrationError(
                f"{where}: id {given_id} is not the SHA-256 of its body ({document.sha256}); regenerate the manifest"
            )
        documents.append(document)
    return documents


def read_operation_file(path: Path) -> list[OperationDocument]:
    """A manifest (``.json``) or one GraphQL document registered whole (any other file)."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise RegistrationError(f"{path}: {error.strerror}") from None
    try:
        # Bytes, not read_text: universal newlines would change the text, and so its hash.
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RegistrationError(f"{path}: not UTF-8") from None
    if path.suffix.lower() == ".json":
        return read_manifest(text, str(path))
    try:
        document = operation_document(text)
    except RegistrationError as error:
        raise RegistrationError(f"{path}: {error}") from None
    return [document if document.name is not None else OperationDocument(text, path.stem, document.sha256)]


async def register_documents(documents: Sequence[OperationDocument], *, now: datetime) -> list[Registration]:
    """Register every document (all or none); one already registered keeps its row, renamed if a
    name is given."""
    registrations = []
    async with in_transaction():
        for document in documents:
            row = await PersistedQuery.get_or_none(sha256=document.sha256)
            if row is None:
                row = await PersistedQuery.create(
                    sha256=document.sha256, document=document.document, name=document.name, created_at=now
                )
                registrations.append(Registration(row, created=True))
                continue
            if document.name is not None and row.name != document.name:
                row.name = document.name
                await row.save(update_fields=["name"])
            registrations.append(Registration(row, created=False))
    return registrations


async def register_persisted_query(*, actor: Actor, document: str, name: str | None, now: datetime) -> Registration:
    """ADMIN: register one document for the allow-list (and for hash-only APQ requests)."""
    require_admin(actor)
    try:
        checked = operation_document(document, name)
    except RegistrationError as error:
        message = str(error)
        raise validation_failed(error.field, f"{message[:1].upper()}{message[1:]}.") from None
    try:
        (registration,) = await register_documents([checked], now=now)
    except IntegrityError:
        # Registered by someone else at the same moment: the row is there now.
        row = await PersistedQuery.get(sha256=checked.sha256)
        registration = Registration(row, created=False)
    return registration


async def registered_documents() -> list[PersistedQuery]:
    rows: list[PersistedQuery] = await PersistedQuery.all().order_by("created_at", "sha256")
    return rows


async def remove_document(sha256: str) -> bool:
    """Unregister; False when the hash was not registered. Running servers may still accept it
    for up to their lookup cache's lifetime (``caches.REGISTERED_TTL``)."""
    if not is_document_hash(sha256):
        return False
    removed: int = await PersistedQuery.filter(sha256=sha256.lower()).delete()
    return removed > 0
