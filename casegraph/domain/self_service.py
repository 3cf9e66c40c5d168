"""Helping themselves: a constituent reads knowledge articles while writing a new request, and
either files it or leaves. Pure: standard library only.

A *draft session* is one opening of the portal's filing form, named by an id the browser draws.
It records the published articles read in it and how it ended. A session that read at least one
article and ended without a filed case is a *deflected* request: it counts once, however many
articles were read or however often the browser reports leaving.

- Only a signed-in ``CONSTITUENT`` records (staff filing for someone else are not helping
  themselves, and nobody else can inflate the figure).
- The first ending wins: a session that was abandoned stays abandoned, a filed one stays filed.
- At most ``MAX_DRAFTS_PER_DAY`` sessions of one constituent begin in a day; reads in more
  are not recorded (the portal goes on working, the figure does not grow).
- A session that read articles and was left with no ending (the tab was closed) counts as
  abandoned once it has been idle for ``IDLE_ABANDONED``.
"""

from __future__ import annotations

from datetime import timedelta
from enum import Enum
from typing import Final

from casegraph.domain.enums import Role
from casegraph.domain.relations import Actor

IDLE_ABANDONED: Final = timedelta(days=1)
# A draft session reads a handful of articles; more is a script, not a reader.
MAX_READS_PER_DRAFT: Final = 50
# Draft sessions counted per constituent in a day: one person cannot weigh more than a few
# requests' worth in the figure, whatever their browser reports.
MAX_DRAFTS_PER_DAY: Final = 20


class SelfServiceStep(str, Enum):
    ARTICLE_READ = "ARTICLE_READ"
    ABANDONED = "ABANDONED"
    FILED = "FILED"


class DraftOutcome(str, Enum):
    ABANDONED = "ABANDONED"
    FILED = "FILED"


def may_record(actor: Actor) -> bool:
    return actor.has(Role.CONSTITUENT)
