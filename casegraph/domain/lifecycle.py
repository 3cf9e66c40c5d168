"""The case life cycle of ``spec/lifecycle.md`` as one declarative table.

Pure: standard library only. Services ask ``authorize`` (who may try the action at all),
validate the input, then ask ``transition`` (may it happen now, and where does the case land).
``decide`` chains both for ``availableActions`` and for the generated tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Final, TypeAlias

from casegraph.domain.enums import (
    CaseAction,
    CaseEventType,
    CaseStage,
    CaseStatus,
    ErrorCode,
    Relation,
    Workflow,
)
from casegraph.domain.errors import DomainError, permission_denied, transition_not_allowed
from casegraph.domain.refusals import not_in_workflow, not_now, not_yet, not_yours

State: TypeAlias = tuple[CaseStage, CaseStatus]

S, T = CaseStage, CaseStatus
DRAFT: Final[State] = (S.DRAFT, T.DRAFT)
INTAKE_NEW: Final[State] = (S.INTAKE, T.NEW)
INTAKE_OPEN: Final[State] = (S.INTAKE, T.OPEN)
INTAKE_AWAITING: Final[State] = (S.INTAKE, T.AWAITING_INFO)
REVIEW_OPEN: Final[State] = (S.REVIEW, T.OPEN)
REVIEW_INSPECTION: Final[State] = (S.REVIEW, T.INSPECTION_IN_PROGRESS)
REVIEW_AWAITING: Final[State] = (S.REVIEW, T.AWAITING_INFO)
PROCESS_WORK: Final[State] = (S.PROCESS, T.WORK_IN_PROGRESS)
PROCESS_ASSIGNMENT: Final[State] = (S.PROCESS, T.WORK_ASSIGNMENT_IN_PROGRESS)
PROCESS_AWAITING: Final[State] = (S.PROCESS, T.AWAITING_INFO)
READY_FOR_DECISION: Final[State] = (S.DECISION, T.READY_FOR_DECISION)
RESOLVED: Final[State] = (S.DECISION, T.RESOLVED)
CLOSED: Final[State] = (S.DECISION, T.CLOSED)
CANCELLED: Final[State] = (S.DECISION, T.CANCELLED)

STATES: Final[Mapping[Workflow, tuple[State, ...]]] = {
    Workflow.PUBLIC_SERVICE: (
        DRAFT,
        INTAKE_NEW,
        INTAKE_OPEN,
        INTAKE_AWAITING,
        REVIEW_OPEN,
        REVIEW_INSPECTION,
        REVIEW_AWAITING,
        PROCESS_WORK,
        PROCESS_ASSIGNMENT,
        PROCESS_AWAITING,
        READY_FOR_DECISION,
        RESOLVED,
        CLOSED,
        CANCELLED,
    ),
    Workflow.CUSTOMER_SERVICE: (
        DRAFT,
        INTAKE_NEW,
        INTAKE_OPEN,
        INTAKE_AWAITING,
        RESOLVED,
        CLOSED,
        CANCELLED,
    ),
}
ALL_STATES: Final = frozenset(STATES[Workflow.PUBLIC_SERVICE])
TERMINAL_STATUSES: Final = frozenset({T.CLOSED, T.CANCELLED})
NON_TERMINAL: Final = frozenset(s for s in ALL_STATES if s[1] not in TERMINAL_STATUSES)
SUBMITTED_NON_TERMINAL: Final = NON_TERMINAL - {DRAFT}
AWAITING: Final = frozenset({INTAKE_AWAITING, REVIEW_AWAITING, PROCESS_AWAITING})
OPEN_EITHER_STAGE: Final = frozenset({INTAKE_OPEN, REVIEW_OPEN})
# Where a case that left AWAITING_INFO goes when nothing was remembered (never by our own writes,
# but rows imported or edited by hand must not strand a case).
AWAITING_FALLBACK: Final[Mapping[CaseStage, State]] = {
    S.INTAKE: INTAKE_OPEN,
    S.REVIEW: REVIEW_OPEN,
    S.PROCESS: PROCESS_WORK,
}


class Target(Enum):
    """Where an action lands when that is not one fixed state."""

    SAME = "SAME"
    AWAITING_IN_STAGE = "AWAITING_IN_STAGE"
    REMEMBERED = "REMEMBERED"


To: TypeAlias = State | Target | Mapping[Workflow, State]


class Guard(Enum):
    """Conditions on the case's data, beyond its state, that the table names."""

    SUBMITTABLE = "title and case type present"
    TASKS_SETTLED = "every case task finished or cancelled"
    SOLUTION_ACCEPTED = "the requester accepted the solution"
    NO_SURVEY_YET = "no survey submitted yet"
    DELETED = "the case is deleted"
    OPEN_STEP = "a playbook step still open"
    REFERRAL_UNDECIDED = "a partner's referral not yet accepted or rejected"
    REFERRAL_OPEN = "a partner's referral not yet rejected"


# Why an action is refused while a condition is unmet: the end of "You cannot … : …".
UNMET: Final[Mapping[Guard, str]] = {
    Guard.SUBMITTABLE: "it needs a title and a case type first",
    Guard.TASKS_SETTLED: "a task of it is still open",
    Guard.SOLUTION_ACCEPTED: "the requester has not accepted the solution",
    Guard.NO_SURVEY_YET: "its survey was answered already",
    Guard.DELETED: "it is not deleted",
    Guard.OPEN_STEP: "it has no open playbook step",
    Guard.REFERRAL_UNDECIDED: "it has no referral waiting for an answer",
    Guard.REFERRAL_OPEN: "it has no open referral",
}


@dataclass(frozen=True)
class Grant:
    """One line of *who*: these relations may take the action from these states.

    ``to`` overrides the rule's target for this grant; ``requires`` names input fields that are
    mandatory by rule for these relations; ``fields`` limits which optional inputs they may set.
    """

    who: frozenset[Relation]
    frm: frozenset[State]
    to: To | None = None
    requires: frozenset[str] = frozenset()
    fields: frozenset[str] | None = None


@dataclass(frozen=True)
class Rule:
    action: CaseAction
    to: To
    grants: tuple[Grant, ...]
    workflows: frozenset[Workflow] = frozenset(Workflow)
    guards: tuple[Guard, ...] = ()
    event_type: CaseEventType | None = None  # None: TRANSITIONED if the state moved, else UPDATED


def _g(
    who: Iterable[Relation],
    frm: Iterable[State],
    *,
    to: To | None = None,
    requires: Iterable[str] = (),
    fields: Iterable[str] | None = None,
) -> Grant:
    return Grant(
        frozenset(who),
        frozenset(frm),
        to,
        frozenset(requires),
        None if fields is None else frozenset(fields),
    )


R = Relation
STAFF_OF_CASE: Final = (R.ASSIGNEE, R.MANAGER)
PS_ONLY: Final = frozenset({Workflow.PUBLIC_SERVICE})
STAFF_UPDATE_FIELDS: Final = frozenset(
    {
        "title",
        "description",
        "impact",
        "urgency",
        "contactEmail",
        "contactPhone",
        "comment",
        "workNote",
        "latitude",
        "longitude",
    }
)
GROUP_AGENT_UPDATE_FIELDS: Final = frozenset({"comment", "workNote"})
# api.md: "the requester may change only description, the contact fields and comment".
REQUESTER_UPDATE_FIELDS: Final = frozenset({"description", "contactEmail", "contactPhone", "comment"})
DRAFT_UPDATE_FIELDS: Final = frozenset(
    {
        "title",
        "description",
        "impact",
        "urgency",
        "contactEmail",
        "contactPhone",
        "caseTypeCode",
        "latitude",
        "longitude",
    }
)

RULES: Final[Mapping[CaseAction, Rule]] = {
    rule.action: rule
    for rule in (
        Rule(CaseAction.SUBMIT, INTAKE_NEW, (_g([R.AUTHOR], [DRAFT]),), guards=(Guard.SUBMITTABLE,)),
        Rule(CaseAction.ASSIGN, Target.SAME, (_g([R.MANAGER], SUBMITTED_NON_TERMINAL, requires=["assigneeId"]),)),
        Rule(CaseAction.ACCEPT, INTAKE_OPEN, (_g([R.ASSIGNEE], [INTAKE_NEW]),)),
        Rule(CaseAction.ASSIGN_TO_ME, INTAKE_OPEN, (_g([R.GROUP_AGENT, R.MANAGER], [INTAKE_NEW]),)),
        Rule(
            CaseAction.UPDATE,
            Target.SAME,
            (
                _g(STAFF_OF_CASE, SUBMITTED_NON_TERMINAL, fields=STAFF_UPDATE_FIELDS),
                _g([R.AUTHOR], [DRAFT], fields=DRAFT_UPDATE_FIELDS),
                # A requester answering an information request hands the case back (lifecycle.md).
                _g([R.REQUESTER], AWAITING, to=Target.REMEMBERED, fields=REQUESTER_UPDATE_FIELDS),
                _g([R.REQUESTER], SUBMITTED_NON_TERMINAL - AWAITING - {RESOLVED}, fields=REQUESTER_UPDATE_FIELDS),
                _g([R.GROUP_AGENT], SUBMITTED_NON_TERMINAL, fields=GROUP_AGENT_UPDATE_FIELDS),
            ),
        ),
        Rule(CaseAction.BEGIN_REVIEW, REVIEW_OPEN, (_g(STAFF_OF_CASE, [INTAKE_OPEN]),), PS_ONLY),
        Rule(
            CaseAction.REQUEST_INFO,
            Target.AWAITING_IN_STAGE,
            (_g(STAFF_OF_CASE, OPEN_EITHER_STAGE | {PROCESS_WORK, PROCESS_ASSIGNMENT}, requires=["question"]),),
        ),
        Rule(CaseAction.RESUME, Target.REMEMBERED, (_g(STAFF_OF_CASE, AWAITING),)),
        Rule(
            CaseAction.REQUEST_INSPECTION,
            REVIEW_INSPECTION,
            (_g(STAFF_OF_CASE, [REVIEW_OPEN], requires=["inspectorId"]),),
            PS_ONLY,
        ),
        Rule(
            CaseAction.COMPLETE_INSPECTION,
            PROCESS_WORK,
            (_g([R.INSPECTOR, *STAFF_OF_CASE], [REVIEW_INSPECTION], requires=["findings"]),),
            PS_ONLY,
        ),
        Rule(CaseAction.START_WORK, PROCESS_WORK, (_g(STAFF_OF_CASE, [REVIEW_OPEN]),), PS_ONLY),
        Rule(
            CaseAction.ASSIGN_WORK,
            PROCESS_ASSIGNMENT,
            (_g(STAFF_OF_CASE, [PROCESS_WORK], requires=["tasks"]),),
            PS_ONLY,
        ),
        Rule(
            CaseAction.COMPLETE_WORK,
            READY_FOR_DECISION,
            (_g(STAFF_OF_CASE, [PROCESS_WORK, PROCESS_ASSIGNMENT]),),
            PS_ONLY,
            guards=(Guard.TASKS_SETTLED,),
        ),
        Rule(
            CaseAction.PROPOSE_SOLUTION,
            RESOLVED,
            (
                _g(
                    STAFF_OF_CASE,
                    OPEN_EITHER_STAGE | AWAITING | {PROCESS_WORK, READY_FOR_DECISION},
                    requires=["resolutionCode", "resolutionNotes"],
                ),
            ),
        ),
        Rule(CaseAction.ACCEPT_SOLUTION, CLOSED, (_g([R.REQUESTER], [RESOLVED]),)),
        Rule(
            CaseAction.REJECT_SOLUTION,
            {Workflow.PUBLIC_SERVICE: REVIEW_OPEN, Workflow.CUSTOMER_SERVICE: INTAKE_OPEN},
            (_g([R.REQUESTER], [RESOLVED], requires=["reason"]),),
        ),
        Rule(
            CaseAction.CLOSE,
            CLOSED,
            (
                _g(STAFF_OF_CASE, SUBMITTED_NON_TERMINAL - {RESOLVED}, requires=["resolutionNotes"]),
                _g([R.REQUESTER], SUBMITTED_NON_TERMINAL - {RESOLVED}),
            ),
        ),
        Rule(
            CaseAction.CANCEL,
            CANCELLED,
            (
                _g([R.MANAGER], SUBMITTED_NON_TERMINAL - {RESOLVED}, requires=["reason"]),
                _g([R.REQUESTER], SUBMITTED_NON_TERMINAL - {RESOLVED}),
            ),
        ),
        Rule(
            CaseAction.DELETE,
            Target.SAME,
            (
                _g(STAFF_OF_CASE, [INTAKE_NEW, *OPEN_EITHER_STAGE, *AWAITING]),
                _g([R.REQUESTER], [RESOLVED]),
                _g([R.AUTHOR], [DRAFT]),
            ),
            event_type=CaseEventType.CASE_DELETED,
        ),
        Rule(
            CaseAction.SUBMIT_SURVEY,
            Target.SAME,
            (_g([R.REQUESTER], [CLOSED], requires=["rating"]),),
            guards=(Guard.SOLUTION_ACCEPTED, Guard.NO_SURVEY_YET),
        ),
        Rule(
            CaseAction.RESTORE,
            Target.SAME,
            (_g([R.ADMIN], ALL_STATES),),
            guards=(Guard.DELETED,),
            event_type=CaseEventType.CASE_RESTORED,
        ),
    )
}

# Ways out of the life cycle rather than steps forward in it: desk rules that pace progress
# (playbook steps) never hold these back.
EXIT_ACTIONS: Final = frozenset({CaseAction.CLOSE, CaseAction.CANCEL})

# Actions a viewer can be offered as buttons on a live (not deleted) case.
OFFERED_ACTIONS: Final = tuple(a for a in RULES if a is not CaseAction.RESTORE)


@dataclass(frozen=True)
class Facts:
    """The case data guards look at, beyond stage and status."""

    has_title: bool = True
    has_case_type: bool = True
    open_tasks: int = 0
    solution_accepted: bool = False
    survey_submitted: bool = False
    deleted: bool = False
    remembered: State | None = None
    open_steps: int = 0
    # The case came from a partner agency: its referral awaits our decision / is not rejected yet.
    referral_undecided: bool = False
    referral_open: bool = False


@dataclass(frozen=True)
class Decision:
    allowed: bool
    code: ErrorCode | None = None
    message: str = ""
    grant: Grant | None = None
    to: State | None = None
    event_type: CaseEventType | None = None
    missing: tuple[str, ...] = field(default=())


def authorize(
    action: CaseAction,
    relations: frozenset[Relation],
    state: State,
    *,
    rules: Mapping[CaseAction, Rule] = RULES,
) -> Grant:
    """The grant the actor acts under, or PERMISSION_DENIED if no relation of theirs is listed.

    Prefers a grant whose *from* holds the current state, so its required inputs apply.
    ``rules``: this table, or one of the same shape beside it (``domain/desk_actions.py``).
    """
    candidates = [g for g in rules[action].grants if g.who & relations]
    if not candidates:
        raise permission_denied(not_yours(action))
    for grant in candidates:
        if state in grant.frm:
            return grant
    return candidates[0]


def transition(
    *,
    action: CaseAction,
    workflow: Workflow,
    state: State,
    grant: Grant,
    facts: Facts,
    rules: Mapping[CaseAction, Rule] = RULES,
) -> tuple[State, CaseEventType]:
    """Where the case lands, or TRANSITION_NOT_ALLOWED if the state or a guard forbids it now."""
    rule = rules[action]
    if workflow not in rule.workflows:
        raise transition_not_allowed(not_in_workflow(action, workflow))
    if state not in STATES[workflow] or state not in grant.frm:
        raise transition_not_allowed(not_now(action, state[1]))
    for guard in rule.guards:
        if not _guard_holds(guard, facts):
            raise transition_not_allowed(not_yet(action, UNMET[guard]))
    if facts.deleted and action is not CaseAction.RESTORE:
        raise transition_not_allowed(not_yet(action, "the case is deleted"))
    target = _resolve_target(grant.to if grant.to is not None else rule.to, workflow, state, facts)
    if rule.event_type is not None:
        event_type = rule.event_type
    else:
        event_type = CaseEventType.CASE_TRANSITIONED if target != state else CaseEventType.CASE_UPDATED
    return target, event_type


def decide(
    *,
    action: CaseAction,
    workflow: Workflow,
    state: State,
    relations: frozenset[Relation],
    facts: Facts,
    rules: Mapping[CaseAction, Rule] = RULES,
) -> Decision:
    """The whole verdict (permission, then transition) without input validation."""
    try:
        grant = authorize(action, relations, state, rules=rules)
        target, event_type = transition(
            action=action, workflow=workflow, state=state, grant=grant, facts=facts, rules=rules
        )
    except DomainError as refusal:
        # A verdict is data here (availableActions, the generated tests): the refusal becomes one.
        return Decision(False, refusal.code, refusal.message)
    return Decision(True, grant=grant, to=target, event_type=event_type, missing=tuple(grant.requires))


def available_actions(
    *, workflow: Workflow, state: State, relations: frozenset[Relation], facts: Facts
) -> list[CaseAction]:
    """What the viewer may do now, in table order: the buttons a dashboard draws."""
    if facts.deleted:
        return []
    return [
        action
        for action in OFFERED_ACTIONS
        if decide(action=action, workflow=workflow, state=state, relations=relations, facts=facts).allowed
    ]


# Inputs of UPDATE that are notes on the case rather than changes to its fields.
NOTE_FIELDS: Final = frozenset({"comment", "workNote"})


def editable_fields(*, workflow: Workflow, state: State, relations: frozenset[Relation], facts: Facts) -> list[str]:
    """The case fields the viewer's UPDATE may change now (notes aside): what an edit form shows."""
    verdict = decide(action=CaseAction.UPDATE, workflow=workflow, state=state, relations=relations, facts=facts)
    if not verdict.allowed or verdict.grant is None or verdict.grant.fields is None:
        return []
    return sorted(verdict.grant.fields - NOTE_FIELDS)


def _resolve_target(to: To, workflow: Workflow, state: State, facts: Facts) -> State:
    if isinstance(to, Target):
        if to is Target.SAME:
            return state
        if to is Target.AWAITING_IN_STAGE:
            return (state[0], CaseStatus.AWAITING_INFO)
        return facts.remembered or AWAITING_FALLBACK[state[0]]
    if isinstance(to, tuple):
        return to
    return to[workflow]


def _guard_holds(guard: Guard, facts: Facts) -> bool:
    if guard is Guard.SUBMITTABLE:
        return facts.has_title and facts.has_case_type
    if guard is Guard.TASKS_SETTLED:
        return facts.open_tasks == 0
    if guard is Guard.SOLUTION_ACCEPTED:
        return facts.solution_accepted
    if guard is Guard.NO_SURVEY_YET:
        return not facts.survey_submitted
    if guard is Guard.OPEN_STEP:
        return facts.open_steps > 0
    if guard is Guard.REFERRAL_UNDECIDED:
        return facts.referral_undecided
    if guard is Guard.REFERRAL_OPEN:
        return facts.referral_open
    return facts.deleted


def is_terminal(status: CaseStatus) -> bool:
    return status in TERMINAL_STATUSES
