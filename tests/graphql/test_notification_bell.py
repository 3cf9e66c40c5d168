"""The bell's query: the viewer's unread count and newest notifications, theirs only."""

from __future__ import annotations

from casegraph.settings import Settings
from tests.helpers import GraphQLClient, World, insert_case

BELL_QUERY = "{ notificationBell(first: 5) { unreadCount newest { kind text readAt case { number } } } }"
ASSIGN_MUTATION = """
mutation Assign($input: AssignCaseInput!) { assignCase(input: $input) { errors { code } } }
"""
MARK_READ_MUTATION = "mutation { markNotificationsRead }"


async def test_the_bell_counts_the_viewers_unread_notifications_until_they_are_read(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: maria gives two of dana's cases to eli
    cases = [await insert_case(world, assigned_to="agent") for _ in range(2)]
    for case in cases:
        await client.data(
            ASSIGN_MUTATION, {"input": {"caseId": case.id, "assigneeId": "eli"}}, token=world.token(settings, "manager")
        )
    eli = world.token(settings, "other_agent")
    # when: eli looks at his bell, then reads everything
    before = (await client.data(BELL_QUERY, token=eli))["notificationBell"]
    await client.data(MARK_READ_MUTATION, token=eli)
    after = (await client.data(BELL_QUERY, token=eli))["notificationBell"]
    # then: two unread, newest first; none after reading, the list kept
    assert before["unreadCount"] == 2
    assert [n["case"]["number"] for n in before["newest"]] == [cases[1].number, cases[0].number]
    assert after["unreadCount"] == 0
    assert [n["readAt"] is not None for n in after["newest"]] == [True, True]
    # and: maria's bell is her own (nothing told to her)
    assert (await client.data(BELL_QUERY, token=world.token(settings, "manager")))["notificationBell"] == {
        "unreadCount": 0,
        "newest": [],
    }


async def test_the_bell_is_refused_to_someone_not_signed_in(client: GraphQLClient) -> None:
    response = await client.post(BELL_QUERY)
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
