"""The words a refusal is told in: what each action does, each changeable field, each status.

Beside the life-cycle table (domain/lifecycle.py) because every action it lists must be
refusable in words a person reads: each action's phrase is written out ("accept the solution of
this case"), never made from an enum's name ("You may not accept solution this case." was what
that gave). The error codes stay the contract's; only the words live here.
tests/domain/test_refusals.py reads every action, field, status and condition and checks that each
refusal reads as a sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from casegraph.domain.enums import CaseAction, CaseStatus, Workflow

# What each action does, as the object of "You may not …" and "You cannot …".
ACTS: Final[Mapping[CaseAction, str]] = {
    CaseAction.CREATE: "open a case here",
    CaseAction.SUBMIT: "submit this case",
    CaseAction.ASSIGN: "assign this case",
    CaseAction.ACCEPT: "accept this case",
    CaseAction.ASSIGN_TO_ME: "take this case",
    CaseAction.UPDATE: "change this case",
    CaseAction.BEGIN_REVIEW: "begin the review of this case",
    CaseAction.REQUEST_INFO: "ask the requester for information on this case",
    CaseAction.RESUME: "resume this case",
    CaseAction.REQUEST_INSPECTION: "request an inspection of this case",
    CaseAction.COMPLETE_INSPECTION: "complete the inspection of this case",
    CaseAction.START_WORK: "start work on this case",
    CaseAction.ASSIGN_WORK: "assign the work of this case",
    CaseAction.COMPLETE_WORK: "complete the work of this case",
    CaseAction.PROPOSE_SOLUTION: "propose a solution for this case",
    CaseAction.ACCEPT_SOLUTION: "accept the solution of this case",
    CaseAction.REJECT_SOLUTION: "reject the solution of this case",
    CaseAction.CLOSE: "close this case",
    CaseAction.CANCEL: "cancel this case",
    CaseAction.DELETE: "delete this case",
    CaseAction.SUBMIT_SURVEY: "rate the handling of this case",
    CaseAction.RESTORE: "restore this case",
    CaseAction.COMPLETE_TASK: "complete this task",
    CaseAction.CANCEL_TASK: "cancel this task",
    CaseAction.START_TASK: "start this task",
    CaseAction.COMPLETE_STEP: "change the playbook steps of this case",
    CaseAction.LINK_ARTICLE: "link an article to this case",
    CaseAction.MARK_DUPLICATE: "mark this case as a duplicate",
    CaseAction.SPLIT_CASE: "split this case",
    CaseAction.SLA_TIMER: "change the service-level timers of this case",
    CaseAction.AUTO_CLOSE: "close this case automatically",
    CaseAction.REFER: "refer this case to a partner agency",
    CaseAction.REFERRAL_UPDATE: "update the referral of this case",
    CaseAction.ACCEPT_REFERRAL: "accept the referral of this case",
    CaseAction.REJECT_REFERRAL: "reject the referral of this case",
    CaseAction.ADD_ATTACHMENT: "add a file to this case",
    CaseAction.REMOVE_ATTACHMENT: "remove a file from this case",
    CaseAction.SCAN_ATTACHMENT: "record a file's scan on this case",
}

# PERMISSION_DENIED on updateCase: the grant the actor holds does not cover this input field.
FIELD_NOT_YOURS: Final[Mapping[str, str]] = {
    "title": "You may not change the title of this case.",
    "description": "You may not change the description of this case.",
    "impact": "You may not change the impact of this case.",
    "urgency": "You may not change the urgency of this case.",
    "contactEmail": "You may not change the contact e-mail address of this case.",
    "contactPhone": "You may not change the contact phone number of this case.",
    "comment": "You may not comment on this case.",
    "workNote": "You may not add a work note to this case.",
    "latitude": "You may not change the location of this case.",
    "longitude": "You may not change the location of this case.",
    "caseTypeCode": "You may not change the type of this case.",
}


# A case's status as the end of "… now: the case is …".
STATUS_WORDS: Final[Mapping[CaseStatus, str]] = {
    CaseStatus.DRAFT: "a draft",
    CaseStatus.NEW: "new",
    CaseStatus.OPEN: "open",
    CaseStatus.AWAITING_INFO: "waiting for the requester's answer",
    CaseStatus.INSPECTION_IN_PROGRESS: "being inspected",
    CaseStatus.WORK_IN_PROGRESS: "being worked on",
    CaseStatus.WORK_ASSIGNMENT_IN_PROGRESS: "waiting for its work orders",
    CaseStatus.READY_FOR_DECISION: "ready for a decision",
    CaseStatus.RESOLVED: "waiting for the requester to accept its solution",
    CaseStatus.CLOSED: "closed",
    CaseStatus.CANCELLED: "cancelled",
}

# A workflow's cases, as the subject of "… have no such step".
WORKFLOW_WORDS: Final[Mapping[Workflow, str]] = {
    Workflow.PUBLIC_SERVICE: "public-service cases",
    Workflow.CUSTOMER_SERVICE: "customer-service cases",
}


def not_yours(action: CaseAction) -> str:
    """PERMISSION_DENIED: the actor holds no relation the table lists for ``action``."""
    return f"You may not {ACTS[action]}."


def not_now(action: CaseAction, status: CaseStatus) -> str:
    """TRANSITION_NOT_ALLOWED: the case's status does not allow ``action``."""
    return f"You cannot {ACTS[action]} now: the case is {STATUS_WORDS[status]}."


def not_in_workflow(action: CaseAction, workflow: Workflow) -> str:
    """TRANSITION_NOT_ALLOWED: ``action`` is no step of the case's workflow."""
    return f"You cannot {ACTS[action]}: {WORKFLOW_WORDS[workflow]} have no such step."


def not_yet(action: CaseAction, because: str) -> str:
    """TRANSITION_NOT_ALLOWED: a condition of the table is unmet; ``because`` says which, as a
    clause (the life-cycle table words its conditions: ``lifecycle.UNMET``)."""
    return f"You cannot {ACTS[action]}: {because}."


def field_not_yours(field: str) -> str:
    """The sentence refusing a change of the input field ``field`` (its GraphQL name)."""
    return FIELD_NOT_YOURS[field]
