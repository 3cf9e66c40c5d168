"""Tortoise ORM models: the only place that knows table layouts."""

from models.case import Case
from models.case_type import CaseType
from models.comment import Comment, WorkNote
from models.counter import Counter
from models.event import CaseEvent
from models.group import AssignmentGroup, GroupMembership
from models.idempotency import IdempotencyRecord
from models.notification import Notification
from models.survey import Survey
from models.task import CaseTask
from models.user import User

__all__ = [
    "AssignmentGroup",
    "Case",
    "CaseEvent",
    "CaseTask",
    "CaseType",
    "Comment",
    "Counter",
    "GroupMembership",
    "IdempotencyRecord",
    "Notification",
    "Survey",
    "User",
    "WorkNote",
]
