"""Who may read, write and publish knowledge-base articles. Pure: standard library only.

- Readers: everyone authenticated reads PUBLISHED articles; drafts are read by knowledge staff
  (``AGENT``, ``MANAGER``, ``ADMIN``) only.
- Writers: agents draft. An ``AGENT`` creates articles (always as drafts) and edits their own
  drafts; a ``MANAGER`` or ``ADMIN`` edits any article, draft or published.
- Publishers: ``MANAGER`` and ``ADMIN`` publish a draft and unpublish (back to draft).
"""

from __future__ import annotations

from enum import Enum
from typing import Final

from casegraph.domain.enums import Role
from casegraph.domain.relations import Actor


class ArticleStatus(str, Enum):
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"


KNOWLEDGE_STAFF: Final = frozenset({Role.AGENT, Role.MANAGER, Role.ADMIN})
PUBLISHERS: Final = frozenset({Role.MANAGER, Role.ADMIN})


def reads_drafts(actor: Actor) -> bool:
    return bool(actor.roles & KNOWLEDGE_STAFF)


def may_create(actor: Actor) -> bool:
    return bool(actor.roles & KNOWLEDGE_STAFF)


def may_edit(actor: Actor, *, status: ArticleStatus, author_id: str) -> bool:
    if actor.roles & PUBLISHERS:
        return True
    return actor.has(Role.AGENT) and status is ArticleStatus.DRAFT and author_id == actor.user_id


def may_publish(actor: Actor) -> bool:
    return bool(actor.roles & PUBLISHERS)
