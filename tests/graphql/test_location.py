"""Where an issue is: coordinates on createCase and updateCase, both or neither, in range."""

from __future__ import annotations

from casegraph.settings import Settings
from tests.helpers import GraphQLClient, World

CREATE_CASE_MUTATION = """
mutation Create($input: CreateCaseInput!) {
  createCase(input: $input) { case { id latitude longitude } errors { code field } }
}
"""
UPDATE_CASE_MUTATION = """
mutation Update($input: UpdateCaseInput!) {
  updateCase(input: $input) { case { latitude longitude version } errors { code field } }
}
"""


async def test_a_constituent_files_a_location_and_staff_correct_it(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    alice = world.token(settings, "requester")
    created = await client.data(
        CREATE_CASE_MUTATION,
        {"input": {"caseTypeCode": "POTHOLE", "title": "Hole", "latitude": 52.37, "longitude": 4.89}},
        token=alice,
    )
    case = created["createCase"]["case"]
    by_requester = await client.data(
        UPDATE_CASE_MUTATION, {"input": {"caseId": case["id"], "latitude": 52.38, "longitude": 4.9}}, token=alice
    )
    by_manager = await client.data(
        UPDATE_CASE_MUTATION,
        {"input": {"caseId": case["id"], "latitude": 52.38, "longitude": 4.9}},
        token=world.token(settings, "manager"),
    )
    assert (case["latitude"], case["longitude"]) == (52.37, 4.89)
    assert by_requester["updateCase"]["errors"] == [{"code": "PERMISSION_DENIED", "field": "latitude"}]
    assert by_manager["updateCase"] == {"case": {"latitude": 52.38, "longitude": 4.9, "version": 2}, "errors": []}


async def test_half_a_location_or_one_out_of_range_is_refused(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    alice = world.token(settings, "requester")
    for location, field in (
        ({"latitude": 52.0}, "longitude"),
        ({"longitude": 4.0}, "latitude"),
        ({"latitude": 91.0, "longitude": 4.0}, "latitude"),
        ({"latitude": 1.0, "longitude": -181.0}, "longitude"),
    ):
        refused = await client.data(
            CREATE_CASE_MUTATION, {"input": {"caseTypeCode": "POTHOLE", "title": "Hole", **location}}, token=alice
        )
        assert refused["createCase"] == {"case": None, "errors": [{"code": "VALIDATION_FAILED", "field": field}]}
