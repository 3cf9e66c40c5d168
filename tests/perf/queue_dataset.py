"""A reproducible population for the agents' queue: cases of every kind with tasks and SLA timers.

Used small by the regression guards and the differential test, and large (thousands of cases)
by ``python -m tests.perf.load_queue_data`` to profile a real server. Rows are bulk-inserted
(no events, no life-cycle): the queue query only reads them.

Variety matters more than realism: every status, drafts (only their author sees them), deleted
cases (only ADMIN on request), unassigned cases, cases of the other group, cases referred to a
partner agency, field agents' inspections and tasks, timers running, paused, stopped and breached,
and one case type counting in business hours — so each role's visibility and each SLA branch is
exercised by the same queue query.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from casegraph.domain.enums import CaseStage, CaseStatus, Channel, Role, TaskState, Workflow
from casegraph.domain.priority import derive_priority
from casegraph.domain.sla import Phase, TimerKind
from casegraph.services.users import Claims, provision
from models import AssignmentGroup, Case, CaseTask, CaseTimer, CaseType, GroupMembership, SlaSettings, User

PARTNER_AGENCY: Final = "WATERWORKS"


@dataclass(frozen=True)
class Person:
    sub: str
    roles: tuple[Role, ...]
    name: str
    agency: str | None = None

    def claims(self) -> Claims:
        return Claims(
            sub=self.sub,
            roles=frozenset(self.roles),
            name=self.name,
            email=f"{self.sub}@example.org",
            agency=self.agency,
        )


# Who queries the queue in the tests, one per visibility class.
PEOPLE: Final = {
    "agent": Person("qa-agent", (Role.AGENT,), "Quinn Agent"),
    "manager": Person("qa-manager", (Role.MANAGER,), "Mo Manager"),
    "admin": Person("qa-admin", (Role.ADMIN,), "Ada Admin"),
    "field_agent": Person("qa-field", (Role.FIELD_AGENT,), "Fi Field"),
    "constituent": Person("qa-citizen-0", (Role.CONSTITUENT,), "Citizen 0"),
    "partner": Person("qa-partner", (Role.PARTNER,), "Pat Partner", PARTNER_AGENCY),
    "outsider": Person("qa-outsider", (Role.AGENT,), "Out Sider"),
}
EXTRA_AGENTS: Final = 8
CONSTITUENTS: Final = 30

# Lists drawn from with fixed weights: open work dominates a queue.
STATES: Final = (
    (CaseStage.INTAKE, CaseStatus.NEW),
    (CaseStage.INTAKE, CaseStatus.OPEN),
    (CaseStage.REVIEW, CaseStatus.OPEN),
    (CaseStage.INTAKE, CaseStatus.AWAITING_INFO),
    (CaseStage.PROCESS, CaseStatus.WORK_IN_PROGRESS),
    (CaseStage.PROCESS, CaseStatus.WORK_ASSIGNMENT_IN_PROGRESS),
    (CaseStage.DECISION, CaseStatus.RESOLVED),
    (CaseStage.DECISION, CaseStatus.CLOSED),
    (CaseStage.DECISION, CaseStatus.CANCELLED),
    (CaseStage.INTAKE, CaseStatus.DRAFT),
)
STATE_WEIGHTS: Final = (20, 20, 10, 8, 12, 8, 8, 6, 3, 5)


@dataclass(frozen=True)
class QueueDataset:
    people: dict[str, Person]
    case_ids: list[str]
    group_ids: dict[str, int]
    now: datetime


async def load_queue_dataset(
    *, cases: int, now: datetime, tasks_per_case: int = 3, seed: int = 8, batch: int = 1000
) -> QueueDataset:
    """Populate the current (empty) database; ``now`` anchors every time stamp."""
    rng = random.Random(seed)
    agents = [Person(f"qa-agent-{i}", (Role.AGENT,), f"Agent {i}") for i in range(EXTRA_AGENTS)]
    citizens = [Person(f"qa-citizen-{i}", (Role.CONSTITUENT,), f"Citizen {i}") for i in range(1, CONSTITUENTS)]
    for person in (*PEOPLE.values(), *agents, *citizens):
        await provision(claims=person.claims(), now=now)
    # One user the queue's lists point at has no name: null must survive both paths.
    await User.filter(id=agents[-1].sub).update(name=None)

    groups = {}
    for code, name in (("QA_ROADS", "Roads"), ("QA_PARKS", "Parks"), ("QA_BENEFITS", "Benefits")):
        groups[code] = (await AssignmentGroup.create(code=code, name=name, created_at=now)).id
    memberships = [
        ("qa-agent", "QA_ROADS", False),
        ("qa-agent", "QA_PARKS", False),
        ("qa-manager", "QA_ROADS", True),
        ("qa-manager", "QA_PARKS", False),
        ("qa-outsider", "QA_BENEFITS", False),
        *((a.sub, ("QA_ROADS", "QA_PARKS", "QA_BENEFITS")[i % 3], False) for i, a in enumerate(agents)),
    ]
    for user_id, code, manager in memberships:
        await GroupMembership.create(group_id=groups[code], user_id=user_id, is_manager=manager, created_at=now)

    types = []
    for code, workflow, group in (
        ("QA_POTHOLE", Workflow.PUBLIC_SERVICE, "QA_ROADS"),
        ("QA_TREE", Workflow.PUBLIC_SERVICE, "QA_PARKS"),
        ("QA_QUESTION", Workflow.CUSTOMER_SERVICE, "QA_ROADS"),
        ("QA_PAYMENT", Workflow.CUSTOMER_SERVICE, "QA_BENEFITS"),
    ):
        row = await CaseType.create(
            code=code,
            name=code.title().replace("_", " "),
            workflow=workflow,
            assignment_group_id=groups[group],
            created_at=now,
        )
        types.append(row)
    # Timers of this type count in office hours: the SLA view's calendar branch.
    await SlaSettings.create(
        case_type_id=types[1].id,
        updated_at=now,
        business_hours={
            "timezone": "Europe/Paris",
            "holidays": [],
            "windows": [
                {"weekday": d, "start": "08:00", "end": "18:00"}
                for d in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY")
            ],
        },
    )

    staff = ["qa-agent", "qa-manager", "qa-field", *(a.sub for a in agents)]
    requesters = [PEOPLE["constituent"].sub, *(c.sub for c in citizens)]
    case_rows: list[Case] = []
    task_rows: list[CaseTask] = []
    timer_rows: list[CaseTimer] = []
    for n in range(cases):
        case_type = types[rng.randrange(len(types))]
        stage, status = rng.choices(STATES, STATE_WEIGHTS)[0]
        if case_type.workflow is Workflow.CUSTOMER_SERVICE:
            stage = CaseStage.INTAKE if status is not CaseStatus.RESOLVED else stage
        impact, urgency = rng.randint(1, 3), rng.randint(1, 3)
        created = now - timedelta(minutes=rng.randrange(60 * 24 * 60))
        # Ties on updated_at are common in real queues (bulk changes); the id breaks them.
        updated = created + timedelta(minutes=rng.randrange(0, 60 * 24 * 5, 7))
        requester = rng.choice(requesters)
        draft = status is CaseStatus.DRAFT
        case_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        case_rows.append(
            Case(
                id=case_id,
                number=f"QA{n + 1:07d}",
                title=None
                if n % 41 == 0
                else f"Case {n} — {rng.choice(('pothole', 'fallen tree', 'payment', 'noise'))}",
                description="Reported through the queue data set.",
                stage=stage,
                status=status,
                remembered_stage=CaseStage.INTAKE if status is CaseStatus.AWAITING_INFO else None,
                remembered_status=CaseStatus.OPEN if status is CaseStatus.AWAITING_INFO else None,
                workflow=case_type.workflow,
                case_type_id=case_type.id,
                assignment_group_id=case_type.assignment_group_id,
                impact=impact,
                urgency=urgency,
                priority=derive_priority(impact, urgency),
                channel=Channel.PORTAL,
                requester_id=requester,
                author_id=requester,
                assigned_to_id=None if draft or status is CaseStatus.NEW or n % 9 == 0 else rng.choice(staff),
                inspector_id="qa-field" if n % 13 == 0 else None,
                version=rng.randint(1, 9),
                escalated=n % 17 == 0,
                referred_agency=PARTNER_AGENCY if n % 11 == 0 else None,
                submitted_at=None if draft else created,
                first_opened_at=None if status is CaseStatus.NEW else created,
                deleted_at=updated if n % 23 == 0 else None,
                created_at=created,
                updated_at=updated,
            )
        )
        for t in range(0 if draft else rng.randint(0, tasks_per_case)):
            task_rows.append(
                CaseTask(
                    case_id=case_id,
                    title=f"Task {t} of case {n}",
                    state=rng.choice(list(TaskState)),
                    assignee_id=rng.choice((None, "qa-field", *staff[:4])),
                    due_at=None if t == 0 else now + timedelta(hours=rng.randint(-48, 96)),
                    created_at=created,
                )
            )
        if not draft and n % 5 != 0:
            timer_rows.extend(_timers(rng, case_id, status, created, now))
    for start in range(0, len(case_rows), batch):
        await Case.bulk_create(case_rows[start : start + batch])
    for start in range(0, len(task_rows), batch):
        await CaseTask.bulk_create(task_rows[start : start + batch])
    for start in range(0, len(timer_rows), batch):
        await CaseTimer.bulk_create(timer_rows[start : start + batch])
    return QueueDataset(people=dict(PEOPLE), case_ids=[str(c.id) for c in case_rows], group_ids=groups, now=now)


def _timers(
    rng: random.Random, case_id: uuid.UUID, status: CaseStatus, since: datetime, now: datetime
) -> list[CaseTimer]:
    settled = status in (CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.CANCELLED)
    timers = []
    for kind in TimerKind:
        phase = (
            Phase.STOPPED
            if settled or (kind is TimerKind.RESPONSE and status is not CaseStatus.NEW)
            else Phase.PAUSED
            if status is CaseStatus.AWAITING_INFO
            else Phase.RUNNING
        )
        target = rng.choice((60, 240, 480, 1440, 4320))
        elapsed = timedelta(minutes=rng.randint(0, 2 * target))
        running_since = now - timedelta(minutes=rng.randint(0, target)) if phase is Phase.RUNNING else None
        timers.append(
            CaseTimer(
                case_id=case_id,
                kind=kind,
                target_minutes=target,
                elapsed_us=elapsed // timedelta(microseconds=1),
                running_since=running_since,
                phase=phase,
                started_at=since,
                stopped_at=now if phase is Phase.STOPPED else None,
                warned_50_at=since if elapsed * 2 >= timedelta(minutes=target) else None,
                breached_at=since if rng.random() < 0.1 else None,
            )
        )
    return timers
