"""``cases(filter: {text})``: one search over number, title, description, comments and work notes
(staff only), through the search index of 0025, ranked, paged, combined with filters and
visibility, and safe whatever the text (issue 19)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from casegraph.domain import lifecycle as lc
from casegraph.settings import Settings
from models import Case
from tests.helpers import GraphQLClient, World, insert_case

SEARCH_QUERY = """
query Search($filter: CaseFilterInput, $first: Int, $after: String) {
  cases(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id number title } }
  }
}
"""
CREATE_CASE = (
    "mutation C($input: CreateCaseInput!) { createCase(input: $input) { case { id number } errors { code } } }"
)
UPDATE_CASE = "mutation U($input: UpdateCaseInput!) { updateCase(input: $input) { case { id } errors { code } } }"


@pytest.fixture
def token(world: World, settings: Settings) -> Callable[[str], str]:
    return lambda who: world.token(settings, who)


async def act(client: GraphQLClient, document: str, token: str, **fields: Any) -> dict[str, Any]:
    data = await client.data(document, {"input": fields}, token=token)
    payload: dict[str, Any] = next(iter(data.values()))
    assert payload["errors"] == [], payload["errors"]
    return payload


async def search(client: GraphQLClient, token: str, text: str, **variables: Any) -> dict[str, Any]:
    flt = {"text": text, **variables.pop("filter", {})}
    data = await client.data(SEARCH_QUERY, {"filter": flt, **variables}, token=token)
    connection: dict[str, Any] = data["cases"]
    return connection


async def found(client: GraphQLClient, token: str, text: str, **variables: Any) -> list[str]:
    connection = await search(client, token, text, **variables)
    assert connection["totalCount"] == len(connection["edges"])
    return [edge["node"]["id"] for edge in connection["edges"]]


async def filed(client: GraphQLClient, world: World, token: str, title: str, description: str) -> dict[str, str]:
    """A case the requester files, opened and assigned to the agent (who then may write on it)."""
    payload = await act(client, CREATE_CASE, token, caseTypeCode="POTHOLE", title=title, description=description)
    case: dict[str, str] = payload["case"]
    await Case.filter(id=case["id"]).update(
        stage=lc.INTAKE_OPEN[0], status=lc.INTAKE_OPEN[1], assigned_to_id=world.people["agent"].sub
    )
    return case


async def test_every_searched_field_finds_the_case_and_work_notes_only_for_staff(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given: a constituent's case, a public comment and a work note on it, and another case
    alice, dana, ada = token("requester"), token("agent"), token("admin")
    case = await filed(client, world, alice, "Sinkhole near the bakery", "The asphalt cracked after the storm.")
    await act(client, UPDATE_CASE, dana, caseId=case["id"], comment="Crew scheduled with the backhoe.")
    await act(client, UPDATE_CASE, dana, caseId=case["id"], workNote="Contractor invoice disputed internally.")
    await filed(client, world, alice, "Graffiti on the bridge", "Paint on the railing.")
    # when / then: staff find it by a word of each field, the constituent by all but the work note
    for text in (case["number"], "sinkhole", "asphalt", "backhoe", "invoice"):
        assert await found(client, ada, text) == [case["id"]], text
    for text in (case["number"], "bakery", "storm", "crew"):
        assert await found(client, alice, text) == [case["id"]], text
    assert await found(client, alice, "invoice") == []
    assert await found(client, alice, "contractor disputed") == []


async def test_an_edited_description_is_searchable_at_once_and_the_old_words_are_gone(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    ada = token("admin")
    case = await filed(client, world, token("requester"), "Streetlight out", "Dark since Monday.")
    # when
    await act(client, UPDATE_CASE, token("agent"), caseId=case["id"], description="Flickering since Tuesday.")
    # then
    assert await found(client, ada, "tuesday") == [case["id"]]
    assert await found(client, ada, "monday") == []


async def test_search_respects_visibility_and_combines_with_filters(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given: two constituents' cases of the same words, one ROADS case and one BENEFITS case
    roads = await insert_case(world, title="Flooded underpass", assigned_to=None)
    benefits = await insert_case(
        world, case_type="PAYMENT", assigned_to=None, requester="other_constituent", title="Flooded office payment"
    )
    # when / then: each reader finds what they may see, and no more
    assert await found(client, token("requester"), "flooded") == [roads.id]
    assert await found(client, token("other_constituent"), "flooded") == [benefits.id]
    assert set(await found(client, token("admin"), "flooded")) == {roads.id, benefits.id}
    assert await found(client, token("outsider_agent"), "flooded underpass") == []
    assert await found(client, token("admin"), "flooded", filter={"caseTypeCode": ["PAYMENT"]}) == [benefits.id]
    assert await found(client, token("admin"), "flooded", filter={"requesterId": "alice"}) == [roads.id]
    assert await found(client, token("admin"), "flooded", filter={"status": ["CLOSED"]}) == []


async def test_a_typed_case_number_comes_first_and_relevance_orders_the_rest(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given: a case, another whose comment names its number, a case with the word in its title and
    # one with it only in a comment
    ada = token("admin")
    target = await insert_case(world, title="Broken bench")
    mention = await insert_case(world, title="Bench paint")
    await act(client, UPDATE_CASE, token("agent"), caseId=mention.id, comment=f"Same park as {target.number}.")
    titled = await insert_case(world, title="Fallen oak blocks the path")
    commented = await insert_case(world, title="Park path")
    await act(client, UPDATE_CASE, token("agent"), caseId=commented.id, comment="An oak branch fell on it.")
    # when / then: the number, typed as shown or in lower case, finds that case first
    assert (await found(client, ada, target.number))[0] == target.id
    assert await found(client, ada, target.number.lower()) == [target.id, mention.id]
    # a title match outranks a comment match
    assert await found(client, ada, "oak") == [titled.id, commented.id]


async def test_hostile_text_is_a_search_or_a_clear_error_never_a_failure(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    ada = token("admin")
    case = await insert_case(world, title="Pothole near the school")
    # when / then: FTS5 and tsquery syntax in the text is only punctuation between words
    for text in (
        '"pothole',
        "pothole*",
        "NEAR(pothole school)",
        "pothole AND OR NOT",
        "school:*",
        "pothole & !x",
        "{title}: pothole",
        "'pothole'",
        "pot-hole school",
        "pothole) OR (1=1",
        # letters and digits of other scripts and forms, as each tokenizer may split them
        "½ 漢字 ǅ ª ١٢٣ ﬁ Ⅻ 𝟘 ـ 々 x\u00adY Straße",
    ):
        body = await client.execute(SEARCH_QUERY, {"filter": {"text": text}}, token=ada)
        assert "errors" not in body, (text, body)
    assert await found(client, ada, "pothole* school:*") == [case.id]
    assert await found(client, ada, "(pothole) {school}") == [case.id]
    # only punctuation matches nothing; blank is no text filter at all
    for text in ("!!! ?", "*", '""', "-", "_"):
        assert await search(client, ada, text) == {
            "totalCount": 0,
            "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "endCursor": None},
            "edges": [],
        }, text
    assert await found(client, ada, "   ") == [case.id]
    # too long is refused, naming the field
    body = await client.execute(SEARCH_QUERY, {"filter": {"text": "pothole " * 1250}}, token=ada)
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"
    assert body["errors"][0]["extensions"]["field"] == "filter.text"


async def test_ranked_pages_follow_one_another_by_cursor_and_forged_cursors_are_refused(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given: seven matching cases of different relevance and one that does not match
    ada = token("admin")
    for n in range(7):
        await insert_case(world, title="Leak " + "leak " * (n % 3) + f"report {n}")
    await insert_case(world, title="Unrelated")
    whole = await found(client, ada, "leak", first=50)
    # when: read three at a time
    paged: list[str] = []
    after: str | None = None
    while True:
        page = await search(client, ada, "leak", first=3, after=after)
        assert page["totalCount"] == 7
        paged += [edge["node"]["id"] for edge in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # then: the same cases in the same order, each once
    assert paged == whole and len(whole) == 7
    for forged in ("bm90IGEgY3Vyc29y", after or "", "eyJzZWFyY2giOiBbMiwgMS4wLCAiMjAyNiJdLCAiaWQiOiAieCJ9"):
        body = await client.execute(SEARCH_QUERY, {"filter": {"text": "leak"}, "after": forged}, token=ada)
        if forged == after:
            assert "errors" not in body
            continue
        assert body["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED", forged
