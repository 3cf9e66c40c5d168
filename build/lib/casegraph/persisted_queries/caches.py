"""What one server process remembers about persisted queries: documents clients sent lately (APQ),
and recent answers of the database about registered ones (so the allow-list costs no query per
request in steady state)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from models import PersistedQuery

RECENT_MAX_ENTRIES = 2000
# Clients choose what lands in the APQ cache, so it is bounded by size as well as by count.
RECENT_MAX_CHARS = 4_000_000
REGISTERED_TTL = 30.0
REGISTERED_MAX_ENTRIES = 5000


class RecentDocuments:
    """Documents clients sent with their hash, least recently used dropped first (APQ mode)."""

    def __init__(self, *, max_entries: int = RECENT_MAX_ENTRIES, max_chars: int = RECENT_MAX_CHARS) -> None:
        self.max_entries = max_entries
        self.max_chars = max_chars
        self._documents: OrderedDict[str, str] = OrderedDict()
        self._chars = 0

    def __len__(self) -> int:
        return len(self._documents)

    def get(self, sha256: str) -> str | None:
        document = self._documents.get(sha256)
        if document is not None:
            self._documents.move_to_end(sha256)
        return document

    def remember(self, sha256: str, document: str) -> None:
        if len(document) > self.max_chars:
            return  # it would evict everything else; such a client just keeps sending its text
        previous = self._documents.pop(sha256, None)
        if previous is not None:
            self._chars -= len(previous)
        self._documents[sha256] = document
        self._chars += len(document)
        while len(self._documents) > self.max_entries or self._chars > self.max_chars:
            _, evicted = self._documents.popitem(last=False)
            self._chars -= len(evicted)


@dataclass
class _Lookup:
    document: str
    loaded_at: float


class RegisteredDocuments:
    """Registered documents by hash, as the database said within the last ``ttl`` seconds.

    Only hits are kept: a hash registered a moment ago is found at once (a miss asks the
    database, one primary-key read), while a removed one keeps running in this process until its
    entry expires — at most ``ttl`` seconds.
    """

    def __init__(
        self,
        *,
        ttl: float = REGISTERED_TTL,
        max_entries: int = REGISTERED_MAX_ENTRIES,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._monotonic = monotonic
        self._lookups: OrderedDict[str, _Lookup] = OrderedDict()

    async def document(self, sha256: str) -> str | None:
        now = self._monotonic()
        lookup = self._lookups.get(sha256)
        if lookup is not None and now - lookup.loaded_at < self.ttl:
            self._lookups.move_to_end(sha256)
            return lookup.document
        self._lookups.pop(sha256, None)
        row = await PersistedQuery.get_or_none(sha256=sha256)
        if row is None:
            return None
        document: str = row.document
        self._lookups[sha256] = _Lookup(document, now)
        while len(self._lookups) > self.max_entries:
            self._lookups.popitem(last=False)
        return document


@dataclass
class PersistedQueries:
    """The process's persisted-query memory, shared by the HTTP view and the allow-list gate."""

    recent: RecentDocuments = field(default_factory=RecentDocuments)
    registered: RegisteredDocuments = field(default_factory=RegisteredDocuments)
