"""Knowledge base over GraphQL: writing and publishing articles (agents draft, managers and admins
publish), who reads what, ranked full-text search, linking articles to cases, resolving a case with
an article, and turning a solved case into a draft article."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from casegraph.domain import lifecycle as lc
from casegraph.settings import Settings
from models import Case
from tests.helpers import GraphQLClient, RecordingPublisher, World, event_count, insert_case

ARTICLE_FIELDS = "id title body status keywords version publishedAt caseType { code } author { id } sourceCase { id }"
ARTICLE_PAYLOAD = f"article {{ {ARTICLE_FIELDS} }} errors {{ code field }}"
CASE_PAYLOAD = """case { id status version resolutionCode resolutionNotes linkedArticles { id } }
    event { sequence type action version toStatus } errors { code field }"""


def _mutation(field: str, payload: str) -> str:
    name = field[0].upper() + field[1:]
    return f"mutation {name}($input: {name}Input!) {{ {field}(input: $input) {{ {payload} }} }}"


CREATE_ARTICLE_MUTATION = _mutation("createArticle", ARTICLE_PAYLOAD)
UPDATE_ARTICLE_MUTATION = _mutation("updateArticle", ARTICLE_PAYLOAD)
PUBLISH_ARTICLE_MUTATION = _mutation("publishArticle", ARTICLE_PAYLOAD)
UNPUBLISH_ARTICLE_MUTATION = _mutation("unpublishArticle", ARTICLE_PAYLOAD)
CREATE_ARTICLE_FROM_CASE_MUTATION = _mutation("createArticleFromCase", ARTICLE_PAYLOAD)
LINK_ARTICLE_MUTATION = _mutation("linkArticle", CASE_PAYLOAD)
RESOLVE_WITH_ARTICLE_MUTATION = _mutation("resolveWithArticle", CASE_PAYLOAD)
PROPOSE_SOLUTION_MUTATION = _mutation("proposeSolution", CASE_PAYLOAD)
ARTICLE_QUERY = f"query Article($id: ID!) {{ article(id: $id) {{ {ARTICLE_FIELDS} }} }}"
ARTICLES_QUERY = """
query Articles($filter: ArticleFilterInput, $first: Int, $after: String) {
  articles(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor relevance node { id title status } }
  }
}
"""
CASE_QUERY = """
query Case($id: ID!) {
  case(id: $id) { version linkedArticles { id title } history { edges { node { action type version details } } } }
}
"""


@pytest.fixture
def token(world: World, settings: Settings) -> Callable[[str], str]:
    return lambda who: world.token(settings, who)


async def attempt(client: GraphQLClient, document: str, token: str, **fields: Any) -> dict[str, Any]:
    data = await client.data(document, {"input": fields}, token=token)
    payload: dict[str, Any] = next(iter(data.values()))
    return payload


async def act(client: GraphQLClient, document: str, token: str, **fields: Any) -> dict[str, Any]:
    payload = await attempt(client, document, token, **fields)
    assert payload["errors"] == [], payload["errors"]
    return payload


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["errors"]]


def fields(payload: dict[str, Any]) -> list[str | None]:
    return [error["field"] for error in payload["errors"]]


async def published(client: GraphQLClient, token: Callable[[str], str], title: str, body: str, **more: Any) -> str:
    """An article written by the agent and published by the manager; returns its id."""
    draft = await act(client, CREATE_ARTICLE_MUTATION, token("agent"), title=title, body=body, **more)
    article_id: str = draft["article"]["id"]
    await act(client, PUBLISH_ARTICLE_MUTATION, token("manager"), articleId=article_id)
    return article_id


async def search(client: GraphQLClient, token: str, text: str, **more: Any) -> dict[str, Any]:
    data = await client.data(ARTICLES_QUERY, {"filter": {"search": text}} | more, token=token)
    connection: dict[str, Any] = data["articles"]
    return connection


def titles(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["title"] for edge in connection["edges"]]


# --- writing and publishing -------------------------------------------------------------------------


async def test_agent_drafts_manager_publishes_and_only_then_constituents_read_the_article(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given an agent's draft
    alice, dana, maria = token("requester"), token("agent"), token("manager")
    draft = await act(
        client,
        CREATE_ARTICLE_MUTATION,
        dana,
        title=" Reporting a pothole ",
        body="Photograph it.",
        caseTypeCode="POTHOLE",
        keywords=["road", "Road", "asphalt"],
    )
    article = draft["article"]
    assert (article["status"], article["version"], article["title"]) == ("DRAFT", 1, "Reporting a pothole")
    assert (article["caseType"], article["author"], article["keywords"]) == (
        {"code": "POTHOLE"},
        {"id": world.sub("agent")},
        ["road", "asphalt"],
    )
    # when a constituent looks before and after a manager publishes it
    before = (await client.data(ARTICLE_QUERY, {"id": article["id"]}, token=alice))["article"]
    listed_before = (await client.data(ARTICLES_QUERY, {}, token=alice))["articles"]["totalCount"]
    publishing = await act(client, PUBLISH_ARTICLE_MUTATION, maria, articleId=article["id"], expectedVersion=1)
    after = (await client.data(ARTICLE_QUERY, {"id": article["id"]}, token=alice))["article"]
    # then
    assert before is None and listed_before == 0
    assert (publishing["article"]["status"], publishing["article"]["version"]) == ("PUBLISHED", 2)
    assert publishing["article"]["publishedAt"] is not None
    assert after is not None and after["status"] == "PUBLISHED"
    assert (await client.data(ARTICLES_QUERY, {}, token=alice))["articles"]["totalCount"] == 1


async def test_only_managers_and_admins_publish_and_agents_edit_only_their_own_drafts(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given a draft by one agent
    dana, eli, maria, ada = token("agent"), token("other_agent"), token("manager"), token("admin")
    article_id = (await act(client, CREATE_ARTICLE_MUTATION, dana, title="Draft", body="Text."))["article"]["id"]
    # when others try to change it / then
    assert codes(await attempt(client, PUBLISH_ARTICLE_MUTATION, dana, articleId=article_id)) == ["PERMISSION_DENIED"]
    assert codes(await attempt(client, UPDATE_ARTICLE_MUTATION, eli, articleId=article_id, title="Mine")) == [
        "PERMISSION_DENIED"
    ]
    edited = await act(client, UPDATE_ARTICLE_MUTATION, dana, articleId=article_id, body="Better text.")
    assert (edited["article"]["body"], edited["article"]["version"]) == ("Better text.", 2)
    await act(client, PUBLISH_ARTICLE_MUTATION, ada, articleId=article_id)
    # an agent may no longer edit it once published; a manager may, and may take it back to draft
    assert codes(await attempt(client, UPDATE_ARTICLE_MUTATION, dana, articleId=article_id, body="Again.")) == [
        "PERMISSION_DENIED"
    ]
    assert (await act(client, UPDATE_ARTICLE_MUTATION, maria, articleId=article_id, body="Again."))["article"][
        "status"
    ] == "PUBLISHED"
    unpublished = await act(client, UNPUBLISH_ARTICLE_MUTATION, maria, articleId=article_id)
    assert (unpublished["article"]["status"], unpublished["article"]["publishedAt"]) == ("DRAFT", None)


@pytest.mark.parametrize("who", ["requester", "field_agent"])
async def test_constituents_and_field_agents_cannot_write_articles(
    client: GraphQLClient, world: World, token: Callable[[str], str], who: str
) -> None:
    # given / when
    payload = await attempt(client, CREATE_ARTICLE_MUTATION, token(who), title="Tip", body="Text.")
    # then
    assert codes(payload) == ["PERMISSION_DENIED"] and payload["article"] is None


async def test_field_agents_read_published_articles_but_not_drafts(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given a published article and a draft
    await published(client, token, "Published tip", "Text.")
    await act(client, CREATE_ARTICLE_MUTATION, token("agent"), title="Draft tip", body="Text.")
    # when
    seen = (await client.data(ARTICLES_QUERY, {}, token=token("field_agent")))["articles"]
    staff = (await client.data(ARTICLES_QUERY, {"filter": {"status": "DRAFT"}}, token=token("other_agent")))["articles"]
    # then
    assert titles(seen) == ["Published tip"]
    assert titles(staff) == ["Draft tip"]


async def test_article_input_is_validated_and_versions_are_checked(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    dana, maria = token("agent"), token("manager")
    article_id = (await act(client, CREATE_ARTICLE_MUTATION, dana, title="Title", body="Body."))["article"]["id"]
    # when / then
    assert fields(await attempt(client, CREATE_ARTICLE_MUTATION, dana, title="  ", body="Body.")) == ["title"]
    assert fields(await attempt(client, CREATE_ARTICLE_MUTATION, dana, title="T" * 201, body="Body.")) == ["title"]
    assert fields(await attempt(client, CREATE_ARTICLE_MUTATION, dana, title="T", body="b" * 20_001)) == ["body"]
    assert fields(await attempt(client, CREATE_ARTICLE_MUTATION, dana, title="T", body="B", caseTypeCode="NOPE")) == [
        "caseTypeCode"
    ]
    assert fields(
        await attempt(client, CREATE_ARTICLE_MUTATION, dana, title="T", body="B", keywords=[f"k{i}" for i in range(21)])
    ) == ["keywords"]
    assert fields(await attempt(client, CREATE_ARTICLE_MUTATION, dana, title="T", body="B", keywords=[" "])) == [
        "keywords.0"
    ]
    assert fields(await attempt(client, UPDATE_ARTICLE_MUTATION, dana, articleId=article_id, title="Title")) == [
        "input"
    ]
    stale = await attempt(client, UPDATE_ARTICLE_MUTATION, dana, articleId=article_id, body="New.", expectedVersion=7)
    assert (codes(stale), fields(stale)) == (["VERSION_CONFLICT"], ["expectedVersion"])
    await act(client, PUBLISH_ARTICLE_MUTATION, maria, articleId=article_id)
    assert codes(await attempt(client, PUBLISH_ARTICLE_MUTATION, maria, articleId=article_id)) == [
        "TRANSITION_NOT_ALLOWED"
    ]
    for unknown in ("not-an-id", "00000000-0000-0000-0000-000000000000"):
        assert codes(await attempt(client, PUBLISH_ARTICLE_MUTATION, maria, articleId=unknown)) == ["NOT_FOUND"]
    assert (await client.data(ARTICLE_QUERY, {"id": article_id}, token=dana))["article"]["version"] == 2


# --- search --------------------------------------------------------------------------------------


async def test_search_ranks_articles_matching_more_words_and_title_words_first(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given articles that mention the query's words more or less prominently
    await published(client, token, "Pothole repair", "How the roads team repairs a pothole within a week.")
    await published(client, token, "Street lights", "Report a dark street; we send an electrician, no pothole.")
    await published(client, token, "Repairing potholes on main roads", "Crews patch holes at night.")
    await published(client, token, "Benefit payments", "When payments arrive each month.")
    # when
    found = await search(client, token("requester"), "pothole repair")
    # then both words (title first) rank above a single mention; unrelated articles are left out
    assert titles(found)[:2] in (
        ["Pothole repair", "Repairing potholes on main roads"],
        ["Repairing potholes on main roads", "Pothole repair"],
    )
    assert titles(found)[2:] == ["Street lights"]
    assert found["totalCount"] == 3
    relevance = [edge["relevance"] for edge in found["edges"]]
    assert relevance == sorted(relevance, reverse=True) and relevance[0] > 2 > relevance[-1] >= 1


async def test_search_finds_word_forms_keywords_and_ignores_case_and_accents(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    await published(client, token, "Flooding after storms", "Clear the drains.", keywords=["asphalt"])
    await published(client, token, "Café opening hours", "Our counters open at nine.")
    alice = token("requester")
    # when / then
    assert titles(await search(client, alice, "FLOODED")) == ["Flooding after storms"]
    assert titles(await search(client, alice, "asphalt")) == ["Flooding after storms"]
    assert titles(await search(client, alice, "cafe counter")) == ["Café opening hours"]
    assert (await search(client, alice, "the and of"))["totalCount"] == 0
    assert (await search(client, alice, "   "))["totalCount"] == 2


async def test_search_combines_with_the_case_type_and_author_filters(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given articles about permits, one for the POTHOLE case type, one a draft by another agent
    await published(client, token, "Permits for roadworks", "Apply early.", caseTypeCode="POTHOLE")
    await published(client, token, "Permits for benefits", "Apply online.")
    await act(client, CREATE_ARTICLE_MUTATION, token("other_agent"), title="Permit draft", body="Draft.")
    dana = token("agent")
    # when / then
    assert titles(await search(client, dana, "permit", filter={"search": "permit", "caseTypeCode": "POTHOLE"})) == [
        "Permits for roadworks"
    ]
    by_eli = await search(client, dana, "permit", filter={"search": "permit", "authorId": world.sub("other_agent")})
    assert titles(by_eli) == ["Permit draft"]


async def test_a_case_type_code_or_author_id_no_row_can_have_matches_no_article(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given: values longer than their column, or holding NUL (which PostgreSQL text cannot hold)
    await published(client, token, "Permits for roadworks", "Apply early.", caseTypeCode="POTHOLE")
    unmatched = [
        {"caseTypeCode": "POTHOLE" + "X" * 60},
        {"caseTypeCode": "POTHOLE\x00"},
        {"authorId": world.sub("agent") + "x" * 255},
        {"authorId": world.sub("agent") + "\x00"},
    ]
    # when / then: with and without a search, as for a code or author nothing has
    for flt in unmatched:
        for search_text in (None, "permit"):
            listed = await client.data(ARTICLES_QUERY, {"filter": flt | {"search": search_text}}, token=token("agent"))
            assert listed["articles"]["totalCount"] == 0 and listed["articles"]["edges"] == [], (flt, search_text)


async def test_an_article_id_spelled_otherwise_than_we_issue_it_finds_nothing(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given: one article's id in the other spellings uuid.UUID reads (PostgreSQL refuses some of them)
    article_id = await published(client, token, "Permits for roadworks", "Apply early.")
    spellings = [article_id.upper(), "{" + article_id + "}", "urn:uuid:" + article_id]
    # when
    found = [
        (await client.data(ARTICLE_QUERY, {"id": spelling}, token=token("agent")))["article"] for spelling in spellings
    ]
    publishing = [
        await attempt(client, UNPUBLISH_ARTICLE_MUTATION, token("manager"), articleId=spelling)
        for spelling in spellings
    ]
    # then
    assert found == [None] * len(spellings)
    assert [codes(payload) for payload in publishing] == [["NOT_FOUND"]] * len(spellings)


async def test_search_pages_through_every_match_once(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given 25 matching articles and some that do not match
    for index in range(25):
        await published(client, token, f"Permit guide {index}", "permit " * (index % 5 + 1))
    for index in range(3):
        await published(client, token, f"Other {index}", "Nothing relevant.")
    alice = token("requester")
    # when paging ten at a time
    seen: list[str] = []
    after: str | None = None
    while True:
        page = await search(client, alice, "permits", first=10, after=after)
        assert page["totalCount"] == 25
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # then
    assert len(seen) == len(set(seen)) == 25
    body = await client.execute(ARTICLES_QUERY, {"after": "bogus"}, token=alice)
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"


async def test_search_never_shows_constituents_drafts_and_follows_edits(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given a published article and a draft on the same subject
    alice, maria = token("requester"), token("manager")
    article_id = await published(client, token, "Snow clearing", "Plough routes are cleared first.")
    await act(client, CREATE_ARTICLE_MUTATION, token("agent"), title="Snow clearing draft", body="Draft.")
    # when / then
    assert titles(await search(client, alice, "snow")) == ["Snow clearing"]
    assert sorted(titles(await search(client, maria, "snow"))) == ["Snow clearing", "Snow clearing draft"]
    await act(client, UPDATE_ARTICLE_MUTATION, maria, articleId=article_id, title="Winter service")
    assert titles(await search(client, alice, "snow")) == []
    assert titles(await search(client, alice, "winter")) == ["Winter service"]
    assert titles(await search(client, alice, "plough")) == ["Winter service"]


# --- using articles on cases -------------------------------------------------------------------------


async def test_linking_an_article_records_one_event_and_the_case_shows_it(
    client: GraphQLClient, world: World, token: Callable[[str], str], publisher: RecordingPublisher
) -> None:
    # given an open case and a published article
    case = await insert_case(world, state=lc.REVIEW_OPEN)
    article_id = await published(client, token, "Pothole repair", "We patch it.")
    # when a group agent (not the assignee) links it
    payload = await act(
        client, LINK_ARTICLE_MUTATION, token("other_agent"), caseId=case.id, articleId=article_id, expectedVersion=1
    )
    # then
    assert payload["event"]["action"] == "LINK_ARTICLE" and payload["event"]["type"] == "CASE_UPDATED"
    assert (payload["case"]["version"], payload["case"]["status"]) == (2, "OPEN")
    assert payload["case"]["linkedArticles"] == [{"id": article_id}]
    assert [e.sequence for e in publisher.events] == [payload["event"]["sequence"]]
    seen = (await client.data(CASE_QUERY, {"id": case.id}, token=token("requester")))["case"]
    assert seen["linkedArticles"] == [{"id": article_id, "title": "Pothole repair"}]
    # the requester reads the link on the case, not the event's internal ids (issue 14, section 5)
    last = seen["history"]["edges"][-1]["node"]
    assert (last["action"], last["details"]) == ("LINK_ARTICLE", {})
    staff_view = (await client.data(CASE_QUERY, {"id": case.id}, token=token("other_agent")))["case"]
    assert staff_view["history"]["edges"][-1]["node"]["details"] == {"articleId": article_id}


async def test_linking_is_refused_as_data_and_records_nothing(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    case = await insert_case(world, state=lc.INTAKE_OPEN)
    closed = await insert_case(world, state=lc.CLOSED)
    article_id = await published(client, token, "Answer", "Text.")
    draft_id = (await act(client, CREATE_ARTICLE_MUTATION, token("agent"), title="Draft", body="Text."))["article"][
        "id"
    ]
    other_id = await published(client, token, "Another", "Text.")
    dana = token("agent")
    await act(client, LINK_ARTICLE_MUTATION, dana, caseId=case.id, articleId=article_id)
    events = await event_count()
    # when / then
    refusals = [
        (token("requester"), case.id, article_id, None, "PERMISSION_DENIED", None),
        (token("field_agent"), case.id, article_id, None, "NOT_FOUND", None),
        (token("outsider_agent"), case.id, article_id, None, "NOT_FOUND", None),
        (dana, case.id, draft_id, None, "VALIDATION_FAILED", "articleId"),
        (dana, case.id, "00000000-0000-0000-0000-000000000000", None, "NOT_FOUND", "articleId"),
        (dana, case.id, article_id, None, "VALIDATION_FAILED", "articleId"),
        (dana, closed.id, article_id, None, "TRANSITION_NOT_ALLOWED", None),
        (dana, case.id, other_id, 1, "VERSION_CONFLICT", "expectedVersion"),
    ]
    for who, case_id, wanted, version, code, field in refusals:
        payload = await attempt(
            client, LINK_ARTICLE_MUTATION, who, caseId=case_id, articleId=wanted, expectedVersion=version
        )
        assert (codes(payload), fields(payload)) == ([code], [field]), (code, payload)
    assert await event_count() == events


async def test_a_repeated_link_with_the_same_idempotency_key_changes_nothing(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    case = await insert_case(world, state=lc.INTAKE_OPEN)
    article_id = await published(client, token, "Answer", "Text.")
    first = await act(
        client, LINK_ARTICLE_MUTATION, token("agent"), caseId=case.id, articleId=article_id, idempotencyKey="link-1"
    )
    # when
    again = await act(
        client, LINK_ARTICLE_MUTATION, token("agent"), caseId=case.id, articleId=article_id, idempotencyKey="link-1"
    )
    # then
    assert again["event"]["sequence"] == first["event"]["sequence"]
    assert await event_count(case.id) == 2


async def test_an_unpublished_article_disappears_from_the_requesters_view_of_the_case(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given a linked article
    case = await insert_case(world, state=lc.INTAKE_OPEN)
    article_id = await published(client, token, "Answer", "Text.")
    await act(client, LINK_ARTICLE_MUTATION, token("agent"), caseId=case.id, articleId=article_id)
    # when a manager takes it back to draft
    await act(client, UNPUBLISH_ARTICLE_MUTATION, token("manager"), articleId=article_id)
    # then the requester no longer sees it; staff still do
    for who, expected in (("requester", []), ("agent", [article_id])):
        seen = (await client.data(CASE_QUERY, {"id": case.id}, token=token(who)))["case"]["linkedArticles"]
        assert [a["id"] for a in seen] == expected


async def test_resolving_with_an_article_fills_the_notes_links_it_and_records_one_event(
    client: GraphQLClient, world: World, token: Callable[[str], str], publisher: RecordingPublisher
) -> None:
    # given a case under review, assigned to the agent
    case = await insert_case(world, state=lc.REVIEW_OPEN)
    article_id = await published(client, token, "Pothole repair", "We patch it within a week.")
    events = await event_count(case.id)
    # when
    payload = await act(
        client, RESOLVE_WITH_ARTICLE_MUTATION, token("agent"), caseId=case.id, articleId=article_id, expectedVersion=1
    )
    # then
    resolved = payload["case"]
    assert (resolved["status"], resolved["resolutionCode"], resolved["version"]) == ("RESOLVED", "SOLVED", 2)
    assert resolved["resolutionNotes"] == "Pothole repair\n\nWe patch it within a week."
    assert resolved["linkedArticles"] == [{"id": article_id}]
    assert (payload["event"]["action"], payload["event"]["toStatus"]) == ("PROPOSE_SOLUTION", "RESOLVED")
    assert await event_count(case.id) == events + 1
    assert publisher.events[-1].sequence == payload["event"]["sequence"]


async def test_resolving_with_an_article_follows_the_propose_solution_rules(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given
    article_id = await published(client, token, "Answer", "Text.")
    draft_id = (await act(client, CREATE_ARTICLE_MUTATION, token("agent"), title="Draft", body="Text."))["article"][
        "id"
    ]
    open_case = await insert_case(world, state=lc.REVIEW_OPEN)
    new_case = await insert_case(world, state=lc.INTAKE_NEW)
    assigning = await insert_case(world, state=lc.PROCESS_ASSIGNMENT)
    events = await event_count()
    dana = token("agent")
    # when / then
    for who, case_id, wanted, code, field in (
        (token("other_agent"), open_case.id, article_id, "PERMISSION_DENIED", None),
        (token("requester"), open_case.id, article_id, "PERMISSION_DENIED", None),
        (token("outsider_agent"), open_case.id, article_id, "NOT_FOUND", None),
        (dana, open_case.id, draft_id, "VALIDATION_FAILED", "articleId"),
        (dana, open_case.id, "nope", "NOT_FOUND", "articleId"),
        (dana, new_case.id, article_id, "TRANSITION_NOT_ALLOWED", None),
        (dana, assigning.id, article_id, "TRANSITION_NOT_ALLOWED", None),
    ):
        payload = await attempt(client, RESOLVE_WITH_ARTICLE_MUTATION, who, caseId=case_id, articleId=wanted)
        assert (codes(payload), fields(payload)) == ([code], [field]), (code, payload)
    assert await event_count() == events
    assert await Case.filter(status="RESOLVED").count() == 0
    # a manager of the group may, like proposeSolution
    assert (
        await act(client, RESOLVE_WITH_ARTICLE_MUTATION, token("manager"), caseId=open_case.id, articleId=article_id)
    )["case"]["status"] == "RESOLVED"


async def test_an_agent_turns_a_solved_cases_resolution_into_a_draft_article(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given a case the agent resolved
    dana = token("agent")
    case = await insert_case(world, state=lc.REVIEW_OPEN, title="Pothole at the school gate")
    await act(
        client,
        PROPOSE_SOLUTION_MUTATION,
        dana,
        caseId=case.id,
        resolutionCode="SOLVED",
        resolutionNotes="Filled with cold asphalt; permanent repair scheduled.",
    )
    # when
    payload = await act(client, CREATE_ARTICLE_FROM_CASE_MUTATION, dana, caseId=case.id)
    # then
    article = payload["article"]
    assert (article["status"], article["title"], article["body"]) == (
        "DRAFT",
        "Pothole at the school gate",
        "Filled with cold asphalt; permanent repair scheduled.",
    )
    assert (article["caseType"], article["sourceCase"], article["author"]) == (
        {"code": "POTHOLE"},
        {"id": case.id},
        {"id": world.sub("agent")},
    )
    assert titles(await search(client, token("manager"), "asphalt")) == ["Pothole at the school gate"]
    titled = await act(client, CREATE_ARTICLE_FROM_CASE_MUTATION, dana, caseId=case.id, title="Temporary patches")
    assert titled["article"]["title"] == "Temporary patches"


async def test_only_staff_of_a_solved_case_turn_it_into_an_article(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given a case still open and one resolved as a duplicate
    dana = token("agent")
    still_open = await insert_case(world, state=lc.REVIEW_OPEN)
    solved = await insert_case(world, state=lc.REVIEW_OPEN)
    await act(
        client, PROPOSE_SOLUTION_MUTATION, dana, caseId=solved.id, resolutionCode="SOLVED", resolutionNotes="Done."
    )
    duplicate = await insert_case(world, state=lc.REVIEW_OPEN)
    await act(
        client,
        PROPOSE_SOLUTION_MUTATION,
        dana,
        caseId=duplicate.id,
        resolutionCode="DUPLICATE",
        resolutionNotes="Same as another.",
    )
    # when / then
    for who, case_id, code, field in (
        (dana, still_open.id, "TRANSITION_NOT_ALLOWED", None),
        (dana, duplicate.id, "TRANSITION_NOT_ALLOWED", None),
        (token("requester"), solved.id, "PERMISSION_DENIED", None),
        (token("outsider_agent"), solved.id, "NOT_FOUND", None),
        (dana, solved.id, "VALIDATION_FAILED", "title"),
    ):
        extra = {"title": "x" * 201} if field == "title" else {}
        payload = await attempt(client, CREATE_ARTICLE_FROM_CASE_MUTATION, who, caseId=case_id, **extra)
        assert (codes(payload), fields(payload)) == ([code], [field]), (code, payload)
    assert (await client.data(ARTICLES_QUERY, {}, token=dana))["articles"]["totalCount"] == 0
