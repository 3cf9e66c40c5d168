"""Root fields contributed by desk features, merged into the root types by ``build_schema``.

A feature defines its own ``@strawberry.type class XQuery`` / ``XMutation`` (in its own
``schema/<feature>.py``) and lists them here.
"""

from __future__ import annotations

from schema.notifications import NotificationMutation, NotificationQuery
from schema.presence import PresenceMutation, PresenceSubscription
from schema.tasks import TaskMutation, TaskQuery

QUERIES: list[type] = [TaskQuery, NotificationQuery]
MUTATIONS: list[type] = [PresenceMutation, TaskMutation, NotificationMutation]
SUBSCRIPTIONS: list[type] = [PresenceSubscription]
