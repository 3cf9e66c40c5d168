"""Tortoise ORM models: the only place that knows table layouts."""

from models.attachment import Attachment
from models.case import Case
from models.case_type import CaseType
from models.comment import Comment, WorkNote
from models.counter import Counter
from models.event import CaseEvent
from models.group import AssignmentGroup, GroupMembership
from models.guard import PersistedQuery, RateLimitBucket
from models.idempotency import IdempotencyRecord
from models.intake import CaseIntake, CaseTemplate, CaseTypeRequirement, ServiceDefinition
from models.knowledge import Article, ArticleTerm, CaseArticleLink
from models.mail import MailDelivery
from models.notification import Notification
from models.outbox import DeliveryStatus, OutboxDelivery, WebhookEndpoint
from models.playbook import CaseStep, Playbook, PlaybookStep
from models.referral import PartnerAgency, Referral, ReferralDirection, ReferralStatus, ReferralUpdate
from models.self_service import SelfServiceDraft, SelfServiceRead
from models.sign_in import BrowserSession, OidcFlow, SignInLink, UserIdentity
from models.sla import CaseAlert, CaseTimer, SlaPolicy, SlaSettings
from models.survey import Survey
from models.task import CaseTask
from models.user import User

__all__ = [
    "Attachment",
    "BrowserSession",
    "SignInLink",
    "OidcFlow",
    "UserIdentity",
    "CaseAlert",
    "CaseTimer",
    "SlaPolicy",
    "SlaSettings",
    "CaseIntake",
    "CaseStep",
    "CaseTemplate",
    "CaseTypeRequirement",
    "Playbook",
    "PlaybookStep",
    "ServiceDefinition",
    "Article",
    "ArticleTerm",
    "CaseArticleLink",
    "AssignmentGroup",
    "Case",
    "CaseEvent",
    "CaseTask",
    "CaseType",
    "Comment",
    "Counter",
    "GroupMembership",
    "IdempotencyRecord",
    "MailDelivery",
    "Notification",
    "DeliveryStatus",
    "OutboxDelivery",
    "WebhookEndpoint",
    "PersistedQuery",
    "PartnerAgency",
    "Referral",
    "ReferralDirection",
    "ReferralStatus",
    "ReferralUpdate",
    "RateLimitBucket",
    "SelfServiceDraft",
    "SelfServiceRead",
    "Survey",
    "User",
    "WorkNote",
]
