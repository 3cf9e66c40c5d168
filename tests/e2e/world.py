"""The small world the end-to-end tests run in, set up over GraphQL as an administrator would.

A help desk group with two agents, a customer-service case type routed to it, and a public service
that files cases of that type; a constituent to use the portal. Everyone signs in once first, so
each is a user in the database: that is what ``/dev/demo-users`` lists on the sign-in screens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from casegraph.auth import issue_token
from casegraph.domain.enums import Role
from casegraph.settings import DEV_SECRET, Settings
from tests.live.support import GraphQLHttp

GROUP: Final = "HELPDESK"
CASE_TYPE: Final = "QUESTION"
SERVICE: Final = "ask-a-question"
SERVICE_NAME: Final = "Ask us a question"

PEOPLE: Final[dict[str, tuple[str, Role]]] = {
    "ada": ("Ada Admin", Role.ADMIN),
    "alice": ("Alice Example", Role.CONSTITUENT),
    "dana": ("Dana Desk", Role.AGENT),
    "eli": ("Eli Helper", Role.AGENT),  # another agent of the help desk, to see what a non-assignee is offered
}


@dataclass(frozen=True)
class E2EWorld:
    tokens: dict[str, str]

    @staticmethod
    def name(who: str) -> str:
        return PEOPLE[who][0]


def token(who: str) -> str:
    name, role = PEOPLE[who]
    return issue_token(Settings(jwt_secret=DEV_SECRET), sub=who, roles=[role], name=name, email=f"{who}@example.org")


async def set_up_e2e_world(base_url: str) -> E2EWorld:
    tokens = {who: token(who) for who in PEOPLE}
    admin = tokens["ada"]
    async with GraphQLHttp(base_url) as gql:
        for who in PEOPLE:
            await gql.data("query { me { id } }", token=tokens[who])
        await gql.mutate(
            "createAssignmentGroup", {"code": GROUP, "name": "Help desk"}, "assignmentGroup { code }", token=admin
        )
        for agent in ("dana", "eli"):
            await gql.mutate(
                "addGroupMember",
                {"groupCode": GROUP, "userId": agent, "isManager": False},
                "member { user { id } }",
                token=admin,
            )
        await gql.mutate(
            "createCaseType",
            {
                "code": CASE_TYPE,
                "name": "General question",
                "workflow": "CUSTOMER_SERVICE",
                "assignmentGroupCode": GROUP,
                "autoAssign": False,
            },
            "caseType { code }",
            token=admin,
        )
        await gql.mutate(
            "createServiceDefinition",
            {
                "code": SERVICE,
                "name": SERVICE_NAME,
                "caseTypeCode": CASE_TYPE,
                "public": True,
                "description": "Anything about our services: we answer within two working days.",
            },
            "serviceDefinition { code }",
            token=admin,
        )
    return E2EWorld(tokens=tokens)


async def act_as(base_url: str, who: str, mutation: str, input_: dict[str, object]) -> dict[str, object]:
    """Run one case mutation as ``who`` over GraphQL (as another client would); returns the case."""
    async with GraphQLHttp(base_url) as gql:
        payload = await gql.mutate(mutation, input_, "case { id status version }", token=token(who))
    case: dict[str, object] = payload["case"]
    return case
