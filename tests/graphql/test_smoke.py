from __future__ import annotations

from casegraph.settings import Settings
from tests.helpers import GraphQLClient, World

CREATE_CASE_MUTATION = """
mutation Create($input: CreateCaseInput!) {
  createCase(input: $input) {
    case { id number status stage version priority availableActions requester { id } }
    event { sequence type action version }
    errors { code field message }
  }
}
"""

ASSIGN_TO_ME_MUTATION = """
mutation Take($input: AssignToMeInput!) {
  assignToMe(input: $input) { case { status assignedTo { id } version } errors { code } }
}
"""


async def test_constituent_files_a_case_and_an_agent_takes_it(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    alice = world.token(settings, "requester")
    dana = world.token(settings, "agent")
    # when
    created = await client.data(
        CREATE_CASE_MUTATION,
        {"input": {"caseTypeCode": "POTHOLE", "title": "Hole", "impact": 1, "urgency": 2}},
        token=alice,
    )
    case = created["createCase"]["case"]
    taken = await client.data(ASSIGN_TO_ME_MUTATION, {"input": {"caseId": case["id"]}}, token=dana)
    # then
    assert created["createCase"]["errors"] == []
    assert case["status"] == "NEW" and case["version"] == 1 and case["priority"] == 2
    assert created["createCase"]["event"]["type"] == "CASE_CREATED"
    assert taken["assignToMe"]["case"] == {"status": "OPEN", "assignedTo": {"id": "dana"}, "version": 2}
