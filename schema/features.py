"""Root fields contributed by desk features, merged into the root types by ``build_schema``.

A feature defines its own ``@strawberry.type class XQuery`` / ``XMutation`` (in its own
``schema/<feature>.py``) and lists them here.
"""

from __future__ import annotations

from schema.analytics import AnalyticsQuery
from schema.attachments import AttachmentMutation
from schema.case_tree import CaseTreeMutation
from schema.constituents import ConstituentMutation, ConstituentQuery
from schema.duplicates import DuplicatesMutation, DuplicatesQuery
from schema.intake import IntakeMutation, IntakeQuery
from schema.knowledge import KnowledgeMutation, KnowledgeQuery
from schema.mail import MailMutation, MailQuery
from schema.notifications import NotificationMutation, NotificationQuery, NotificationSubscription
from schema.persisted_queries import PersistedQueriesMutation
from schema.playbooks import PlaybookMutation
from schema.presence import PresenceMutation, PresenceSubscription
from schema.referrals import ReferralMutation, ReferralQuery
from schema.self_service import SelfServiceMutation
from schema.sign_in import SignInMutation
from schema.sla import SlaMutation, SlaQuery
from schema.survey_results import SurveyResultsQuery
from schema.tasks import TaskMutation, TaskQuery
from schema.webhooks import WebhookMutation, WebhookQuery

QUERIES: list[type] = [
    TaskQuery,
    NotificationQuery,
    IntakeQuery,
    KnowledgeQuery,
    DuplicatesQuery,
    SurveyResultsQuery,
    SlaQuery,
    AnalyticsQuery,
    WebhookQuery,
    ReferralQuery,
    MailQuery,
    ConstituentQuery,
]
MUTATIONS: list[type] = [
    PresenceMutation,
    TaskMutation,
    NotificationMutation,
    IntakeMutation,
    PlaybookMutation,
    CaseTreeMutation,
    KnowledgeMutation,
    DuplicatesMutation,
    SlaMutation,
    PersistedQueriesMutation,
    WebhookMutation,
    ReferralMutation,
    MailMutation,
    SignInMutation,
    SelfServiceMutation,
    AttachmentMutation,
    ConstituentMutation,
]
SUBSCRIPTIONS: list[type] = [PresenceSubscription, NotificationSubscription]
