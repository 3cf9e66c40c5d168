"""Demo data for a first run: an agency's groups, people, case types and cases in many states.

Cases are driven through the real services, so each one has a true history and version.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise import Tortoise

from casegraph.auth import issue_token
from casegraph.database.counters import ensure_counters
from casegraph.db import migrate, tortoise_config
from casegraph.domain import commands
from casegraph.domain.enums import CaseAction, Channel, ResolutionCode, Role, Workflow
from casegraph.domain.relations import Actor
from casegraph.services import admin
from casegraph.services.case_actions import ActionRequest, perform
from casegraph.services.case_creation import NewCase, create_case
from casegraph.services.publisher import NullPublisher
from casegraph.services.users import Claims, build_actor, provision
from casegraph.settings import Settings
from models import Case, User


@dataclass(frozen=True)
class DemoUser:
    sub: str
    name: str
    roles: tuple[Role, ...]
    groups: tuple[tuple[str, bool], ...] = ()  # (group code, is manager)


DEMO_AGENCY = "Springfield City Services"
DEMO_USERS = (
    DemoUser("alice", "Alice Constituent", (Role.CONSTITUENT,)),
    DemoUser("bob", "Bob Constituent", (Role.CONSTITUENT,)),
    DemoUser("carmen", "Carmen Constituent", (Role.CONSTITUENT,)),
    DemoUser("dana", "Dana Agent (Roads)", (Role.AGENT,), (("ROADS", False),)),
    DemoUser("eli", "Eli Agent (Roads)", (Role.AGENT,), (("ROADS", False),)),
    DemoUser("grace", "Grace Agent (Benefits)", (Role.AGENT,), (("BENEFITS", False),)),
    DemoUser("maria", "Maria Manager", (Role.MANAGER,), (("ROADS", True), ("BENEFITS", True))),
    DemoUser("finn", "Finn Field Agent", (Role.FIELD_AGENT,)),
    DemoUser("admin", "Ada Administrator", (Role.ADMIN,)),
)
GROUPS = (("ROADS", "Roads and Streets"), ("BENEFITS", "Benefits Desk"))
CASE_TYPES = (
    ("POTHOLE", "Report a pothole", Workflow.PUBLIC_SERVICE, "ROADS"),
    ("STREETLIGHT", "Broken streetlight", Workflow.PUBLIC_SERVICE, "ROADS"),
    ("PERMIT", "Street-use permit", Workflow.PUBLIC_SERVICE, "ROADS"),
    ("BENEFIT_QUESTION", "Question about a benefit", Workflow.CUSTOMER_SERVICE, "BENEFITS"),
    ("PAYMENT_ISSUE", "Benefit payment problem", Workflow.CUSTOMER_SERVICE, "BENEFITS"),
)
PLACES = ("Elm Street", "Main Street", "Oak Avenue", "Harbor Road", "5th Avenue", "Maple Lane", "Station Square")


def _claims(user: DemoUser) -> Claims:
    return Claims(
        sub=user.sub, roles=frozenset(user.roles), name=user.name, email=f"{user.sub}@example.org", agency=DEMO_AGENCY
    )


class DemoClock:
    """Steps forward a few minutes per action, starting some days back, so histories look real."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def tick(self, minutes: int = 17) -> datetime:
        self.now += timedelta(minutes=minutes)
        return self.now


# Each script drives one case: the actions in order, as (actor sub, action, command).
Script = list[tuple[str, CaseAction, commands.Command]]


def _solve(notes: str) -> commands.ProposeSolution:
    return commands.ProposeSolution(resolution_code=ResolutionCode.SOLVED, resolution_notes=notes)


def _scripts(workflow: Workflow, agent: str) -> Iterator[Script]:
    solve = _solve("Repaired and verified on site.")
    none = commands.NoInput()
    take: Script = [(agent, CaseAction.ASSIGN_TO_ME, none)]
    if workflow is Workflow.PUBLIC_SERVICE:
        yield []
        yield [("maria", CaseAction.ASSIGN, commands.Assign(assignee_id=agent))]
        yield take
        yield take + [(agent, CaseAction.BEGIN_REVIEW, none)]
        yield take + [
            (agent, CaseAction.REQUEST_INFO, commands.RequestInfo(question="Can you send a photo of the spot?"))
        ]
        yield take + [
            (agent, CaseAction.BEGIN_REVIEW, none),
            (agent, CaseAction.REQUEST_INSPECTION, commands.RequestInspection(inspector_id="finn")),
        ]
        yield take + [(agent, CaseAction.BEGIN_REVIEW, none), (agent, CaseAction.START_WORK, none)]
        yield take + [
            (agent, CaseAction.BEGIN_REVIEW, none),
            (agent, CaseAction.START_WORK, none),
            (
                agent,
                CaseAction.ASSIGN_WORK,
                commands.AssignWork(
                    tasks=(
                        commands.TaskSpec(title="Cut and patch asphalt", assignee_id="finn"),
                        commands.TaskSpec(title="Repaint road markings", assignee_id=None),
                    )
                ),
            ),
        ]
        yield take + [
            (agent, CaseAction.BEGIN_REVIEW, none),
            (agent, CaseAction.START_WORK, none),
            (agent, CaseAction.COMPLETE_WORK, none),
        ]
        yield take + [(agent, CaseAction.BEGIN_REVIEW, none), (agent, CaseAction.PROPOSE_SOLUTION, solve)]
        yield take + [
            (agent, CaseAction.BEGIN_REVIEW, none),
            (agent, CaseAction.PROPOSE_SOLUTION, solve),
            ("@requester", CaseAction.ACCEPT_SOLUTION, none),
            ("@requester", CaseAction.SUBMIT_SURVEY, commands.SubmitSurvey(rating=5, comment="Quick and friendly.")),
        ]
        yield take + [(agent, CaseAction.CLOSE, commands.Close(resolution_notes="Duplicate of an open case."))]
        yield [("@requester", CaseAction.CANCEL, commands.Cancel(reason="Fixed by the owner of the property."))]
    else:
        yield []
        yield take
        yield take + [
            (agent, CaseAction.REQUEST_INFO, commands.RequestInfo(question="Which month's payment is missing?"))
        ]
        yield take + [(agent, CaseAction.PROPOSE_SOLUTION, _solve("Payment re-issued."))]
        yield take + [
            (agent, CaseAction.PROPOSE_SOLUTION, _solve("Explained the rules.")),
            (
                "@requester",
                CaseAction.REJECT_SOLUTION,
                commands.RejectSolution(reason="That does not answer my question."),
            ),
        ]
        yield take + [
            (agent, CaseAction.PROPOSE_SOLUTION, _solve("Benefit approved.")),
            ("@requester", CaseAction.ACCEPT_SOLUTION, none),
            ("@requester", CaseAction.SUBMIT_SURVEY, commands.SubmitSurvey(rating=4, comment=None)),
        ]


async def seed_demo(database_url: str) -> bool:
    """Load the demo into an empty database; returns False (and changes nothing) otherwise."""
    try:
        await migrate(database_url)
        await Tortoise.init(config=tortoise_config(database_url))
        if await User.exists() or await Case.exists():
            return False
        await _seed()
        return True
    finally:
        await Tortoise.close_connections()


async def _seed() -> None:
    rng = random.Random(20261121)
    clock = DemoClock(datetime.now(UTC) - timedelta(days=12))
    await ensure_counters()
    actors: dict[str, Actor] = {}
    for user in DEMO_USERS:
        await provision(claims=_claims(user), now=clock.tick(1))
    admin_actor = await build_actor(_claims(DEMO_USERS[-1]))
    for code, name in GROUPS:
        await admin.create_assignment_group(actor=admin_actor, code=code, name=name, now=clock.tick(1))
    for user in DEMO_USERS:
        for group, manager in user.groups:
            await admin.add_group_member(
                actor=admin_actor, group_code=group, user_id=user.sub, is_manager=manager, now=clock.tick(1)
            )
    for code, name, workflow, group in CASE_TYPES:
        await admin.create_case_type(
            actor=admin_actor,
            code=code,
            name=name,
            workflow=workflow,
            assignment_group_code=group,
            auto_assign=False,
            description=f"{name}.",
            now=clock.tick(1),
        )
    for user in DEMO_USERS:
        actors[user.sub] = await build_actor(_claims(user))
    await _seed_desk_configuration(admin_actor, actors, clock)

    publisher = NullPublisher()
    requesters = ("alice", "bob", "carmen")
    counter = 0
    for round_ in range(2):
        for code, name, workflow, group in CASE_TYPES:
            agent = "grace" if group == "BENEFITS" else ("dana" if round_ == 0 else "eli")
            for script in _scripts(workflow, agent):
                counter += 1
                requester = requesters[counter % len(requesters)]
                place = rng.choice(PLACES)
                # The seed plays the intake path each case came by (the portal, a call, a mail).
                created = await create_case(
                    actor=actors[requester],
                    new=NewCase(
                        case_type_code=code,
                        title=f"{name} at {place}" if group == "ROADS" else f"{name} ({place} office)",
                        description=f"Reported by {requester} via the portal. Near {place}.",
                        impact=rng.choice((1, 2, 3)),
                        urgency=rng.choice((1, 2, 3)),
                    ),
                    via=rng.choice((Channel.PORTAL, Channel.PORTAL, Channel.PHONE, Channel.EMAIL)),
                    now=clock.tick(rng.randint(20, 60)),
                    publisher=publisher,
                )
                for who, action, command in script:
                    actor = actors[requester if who == "@requester" else who]
                    await perform(
                        actor=actor,
                        request=ActionRequest(action=action, case_id=created.case.id, command=command),
                        now=clock.tick(rng.randint(5, 90)),
                        publisher=publisher,
                    )
    # An auto-assign case type: these land on the least-loaded Roads agent by themselves.
    await admin.create_case_type(
        actor=admin_actor,
        code="GRAFFITI",
        name="Graffiti removal",
        workflow=Workflow.PUBLIC_SERVICE,
        assignment_group_code="ROADS",
        auto_assign=True,
        description="Routed automatically.",
        now=clock.tick(1),
    )
    for n in range(4):
        await create_case(
            actor=actors[requesters[n % len(requesters)]],
            new=NewCase(case_type_code="GRAFFITI", title=f"Graffiti at {rng.choice(PLACES)}", impact=3, urgency=2),
            now=clock.tick(rng.randint(20, 60)),
            publisher=publisher,
        )
    # One draft, visible only to its author.
    await create_case(
        actor=actors["alice"],
        new=NewCase(case_type_code="POTHOLE", title="Draft: hole near my driveway", submit=False),
        now=clock.tick(),
        publisher=publisher,
    )


def print_tokens(settings: Settings) -> None:
    print("\nDevelopment tokens (valid 30 days); send as 'Authorization: Bearer <token>':")
    for user in DEMO_USERS:
        token = issue_token(
            settings,
            sub=user.sub,
            roles=list(user.roles),
            name=user.name,
            email=f"{user.sub}@example.org",
            agency=DEMO_AGENCY,
        )
        roles = ",".join(r.value for r in user.roles)
        print(f"\n  {user.sub:<7} {roles:<12} {user.name}\n  {token}")
    print()


# Resolution targets in minutes per priority (1 critical … 5 planning): (response, resolution).
DEMO_SLA_TARGETS = {
    1: (60, 8 * 60),
    2: (4 * 60, 2 * 24 * 60),
    3: (8 * 60, 5 * 24 * 60),
    4: (24 * 60, 10 * 24 * 60),
    5: (2 * 24 * 60, 30 * 24 * 60),
}


async def _seed_desk_configuration(admin_actor: Actor, actors: dict[str, Actor], clock: DemoClock) -> None:
    """SLA targets, a public service and a published article, so the desk features show."""
    from casegraph.services.intake import create_service_definition
    from casegraph.services.knowledge import ArticleDraft, create_article, publish_article
    from casegraph.services.sla_config import set_sla_policy

    for code in ("POTHOLE", "STREETLIGHT", "BENEFIT_QUESTION", "PAYMENT_ISSUE"):
        for priority, (response, resolution) in DEMO_SLA_TARGETS.items():
            await set_sla_policy(
                actor=admin_actor,
                case_type_code=code,
                priority=priority,
                response_minutes=response,
                resolution_minutes=resolution,
                now=clock.tick(1),
            )
    await create_service_definition(
        actor=admin_actor,
        code="report-pothole",
        name="Report a pothole",
        case_type_code="POTHOLE",
        description="Tell us where the road is damaged; a crew inspects and repairs it.",
        now=clock.tick(1),
    )
    article = await create_article(
        actor=actors["dana"],
        draft=ArticleDraft(
            title="How potholes are repaired",
            body="Reported potholes are inspected within two working days. Temporary patches are laid at once; "
            "a permanent repair follows within four weeks.",
            case_type_code="POTHOLE",
            keywords=["pothole", "road", "repair"],
        ),
        now=clock.tick(1),
    )
    await publish_article(actor=actors["maria"], article_id=str(article.id), expected_version=None, now=clock.tick(1))
