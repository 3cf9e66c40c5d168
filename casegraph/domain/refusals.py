"""The sentences a refusal is told in, one per action and one per changeable field.

Beside the life-cycle table (domain/lifecycle.py) because every action it lists must be
refusable in words a person reads: each sentence is written out whole, never assembled from an
enum's name ("You may not accept solution this case." was what assembling gave). The error
codes stay the contract's; only the words live here. tests/domain/test_refusals.py checks that
every action and every field has a sentence and that each reads as one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from casegraph.domain.enums import CaseAction

# PERMISSION_DENIED: the actor holds no relation the table lists for the action.
NOT_YOURS: Final[Mapping[CaseAction, str]] = {
    CaseAction.CREATE: "You may not open a case here.",
    CaseAction.SUBMIT: "You may not submit this case.",
    CaseAction.ASSIGN: "You may not assign this case.",
    CaseAction.ACCEPT: "You may not accept this case.",
    CaseAction.ASSIGN_TO_ME: "You may not take this case.",
    CaseAction.UPDATE: "You may not change this case.",
    CaseAction.BEGIN_REVIEW: "You may not begin the review of this case.",
    CaseAction.REQUEST_INFO: "You may not ask the requester for information on this case.",
    CaseAction.RESUME: "You may not resume this case.",
    CaseAction.REQUEST_INSPECTION: "You may not request an inspection of this case.",
    CaseAction.COMPLETE_INSPECTION: "You may not complete the inspection of this case.",
    CaseAction.START_WORK: "You may not start work on this case.",
    CaseAction.ASSIGN_WORK: "You may not assign the work of this case.",
    CaseAction.COMPLETE_WORK: "You may not complete the work of this case.",
    CaseAction.PROPOSE_SOLUTION: "You may not propose a solution for this case.",
    CaseAction.ACCEPT_SOLUTION: "You may not accept the solution of this case.",
    CaseAction.REJECT_SOLUTION: "You may not reject the solution of this case.",
    CaseAction.CLOSE: "You may not close this case.",
    CaseAction.CANCEL: "You may not cancel this case.",
    CaseAction.DELETE: "You may not delete this case.",
    CaseAction.SUBMIT_SURVEY: "You may not rate the handling of this case.",
    CaseAction.RESTORE: "You may not restore this case.",
    CaseAction.COMPLETE_TASK: "You may not complete this task.",
    CaseAction.CANCEL_TASK: "You may not cancel this task.",
    CaseAction.START_TASK: "You may not start this task.",
    CaseAction.COMPLETE_STEP: "You may not change the playbook steps of this case.",
    CaseAction.LINK_ARTICLE: "You may not link an article to this case.",
    CaseAction.MARK_DUPLICATE: "You may not mark this case as a duplicate.",
    CaseAction.SPLIT_CASE: "You may not split this case.",
    CaseAction.SLA_TIMER: "You may not change the service-level timers of this case.",
    CaseAction.AUTO_CLOSE: "You may not close this case automatically.",
    CaseAction.REFER: "You may not refer this case to a partner agency.",
    CaseAction.REFERRAL_UPDATE: "You may not update the referral of this case.",
    CaseAction.ACCEPT_REFERRAL: "You may not accept the referral of this case.",
    CaseAction.REJECT_REFERRAL: "You may not reject the referral of this case.",
    CaseAction.ADD_ATTACHMENT: "You may not add a file to this case.",
    CaseAction.REMOVE_ATTACHMENT: "You may not remove a file from this case.",
    CaseAction.SCAN_ATTACHMENT: "You may not record a file's scan on this case.",
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


def not_yours(action: CaseAction) -> str:
    """The sentence refusing ``action`` to someone with no part in it."""
    return NOT_YOURS[action]


def field_not_yours(field: str) -> str:
    """The sentence refusing a change of the input field ``field`` (its GraphQL name)."""
    return FIELD_NOT_YOURS[field]
