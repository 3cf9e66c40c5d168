"""Parsed and validated documents, kept per schema: a client sends the same few texts all day.

Parsing and validating the dashboard's queue query cost more than executing it did (issue 8's
profile; the README's Performance section has the figures). The cache holds, per query text, the
parsed document and, per set of validation rules, its validation errors. Bounded LRU: a client
sending endlessly new texts costs what it cost before, and evicts only cache entries.

The extension must run after every extension that refuses or changes rules in ``on_validate``
(the persisted-query allow-list, the query limits): it fills in validation only when nothing has
refused yet, with the rules as they stand then. Documents that fail to parse are not cached (the
parser's refusal keeps its exact message, and such texts are not the ones sent all day).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from graphql import DocumentNode, GraphQLError
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from casegraph._compat.strawberry_schema import graphql_schema

DEFAULT_SIZE: Final = 256

_Rules = tuple[type[ASTValidationRule], ...]


@dataclass
class _Entry:
    document: DocumentNode
    # Validation errors per rule set (the rules are the same for every request of one schema).
    validations: dict[_Rules, list[GraphQLError]] = field(default_factory=dict)


class DocumentCache:
    """Query text (and parse options) → parsed document and its validation results."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, tuple[tuple[str, object], ...]], _Entry] = OrderedDict()
        self._by_document: dict[int, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def document(self, query: str, options: Mapping[str, Any]) -> DocumentNode | None:
        key = (query, tuple(sorted(options.items())))
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry.document

    def remember(self, query: str, options: Mapping[str, Any], document: DocumentNode) -> None:
        key = (query, tuple(sorted(options.items())))
        if key in self._entries:
            return
        entry = _Entry(document)
        self._entries[key] = entry
        self._by_document[id(document)] = entry
        while len(self._entries) > self.size:
            _, evicted = self._entries.popitem(last=False)
            self._by_document.pop(id(evicted.document), None)

    def validation(self, document: DocumentNode, rules: _Rules) -> list[GraphQLError] | None:
        entry = self._by_document.get(id(document))
        if entry is None or entry.document is not document:
            return None
        return entry.validations.get(rules)

    def remember_validation(self, document: DocumentNode, rules: _Rules, errors: list[GraphQLError]) -> None:
        entry = self._by_document.get(id(document))
        if entry is not None and entry.document is document:
            entry.validations[rules] = errors


class CachedDocuments(SchemaExtension):
    """Give it to the schema as a factory over one ``DocumentCache``, after the guards."""

    def __init__(self, cache: DocumentCache) -> None:
        self.cache = cache

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        if query is not None and context.graphql_document is None:
            context.graphql_document = self.cache.document(query, context.parse_options)
        yield
        if query is not None and context.graphql_document is not None and not context.pre_execution_errors:
            self.cache.remember(query, context.parse_options, context.graphql_document)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None and context.validation_rules:
            rules = context.validation_rules
            errors = self.cache.validation(document, rules)
            if errors is None:
                errors = validate_document(graphql_schema(context.schema), document, rules)
                self.cache.remember_validation(document, rules, errors)
            # Set before Strawberry's own validation, which then does not run again.
            context.pre_execution_errors = list(errors)
        yield
