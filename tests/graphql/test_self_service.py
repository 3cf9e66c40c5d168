"""Helping themselves over GraphQL: what the portal may search while a constituent types (never an
unpublished article), the draft-request steps it reports (``recordSelfService``: constituents
only, one count per draft, bad input refused and changing nothing), and the deflection figure of
``analytics`` over its period and scope."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from casegraph.domain.self_service import MAX_DRAFTS_PER_DAY
from casegraph.services.knowledge import SUGGESTION_ROWS_PER_TERM, ArticleDraft, create_article, publish_article
from casegraph.settings import Settings
from models import SelfServiceDraft, SelfServiceRead, ServiceDefinition
from tests.helpers import FakeClock, GraphQLClient, World, counted_statements, insert_case

ARTICLE_PAYLOAD = "article { id } errors { code field }"
CREATE_ARTICLE = (
    f"""mutation C($input: CreateArticleInput!) {{ createArticle(input: $input) {{ {ARTICLE_PAYLOAD} }} }}"""
)
PUBLISH_ARTICLE = (
    f"""mutation P($input: PublishArticleInput!) {{ publishArticle(input: $input) {{ {ARTICLE_PAYLOAD} }} }}"""
)
UNPUBLISH_ARTICLE = f"""mutation U($input: UnpublishArticleInput!) {{
  unpublishArticle(input: $input) {{ {ARTICLE_PAYLOAD} }}
}}"""
SEARCH = """query S($text: String!) {
  articles(filter: { search: $text }, first: 5) { totalCount edges { node { id title status } } }
}"""
SUGGEST = """query G($text: String!, $first: Int) { suggestedArticles(text: $text, first: $first) { id title } }"""
RECORD = """mutation R($input: RecordSelfServiceInput!) {
  recordSelfService(input: $input) { recorded errors { code field } }
}"""
DEFLECTION = """query D($filter: AnalyticsFilterInput) {
  analytics(filter: $filter) {
    deflection { deflectedRequests filedAfterReading deflectionRate topArticles { deflectedRequests article { id title } } }
  }
}"""


@pytest.fixture
def token(world: World, settings: Settings) -> Callable[[str], str]:
    return lambda who: world.token(settings, who)


@pytest.fixture
async def services(world: World) -> dict[str, str]:
    """A public service per case type (POTHOLE: ROADS, PAYMENT: BENEFITS), and a staff-only one."""
    now = world.clock()
    for code, case_type, public in (
        ("report-pothole", "POTHOLE", True),
        ("payment-help", "PAYMENT", True),
        ("internal-intake", "QUESTION", False),
    ):
        await ServiceDefinition.create(
            code=code,
            name=code,
            case_type_id=world.case_type_ids[case_type],
            public=public,
            created_at=now,
            updated_at=now,
        )
    return {"roads": "report-pothole", "benefits": "payment-help", "staff": "internal-intake"}


async def article(client: GraphQLClient, token: Callable[[str], str], title: str, body: str, *, publish: bool) -> str:
    created = (await client.data(CREATE_ARTICLE, {"input": {"title": title, "body": body}}, token=token("agent")))[
        "createArticle"
    ]
    assert created["errors"] == []
    article_id: str = created["article"]["id"]
    if publish:
        published = await client.data(PUBLISH_ARTICLE, {"input": {"articleId": article_id}}, token=token("manager"))
        assert published["publishArticle"]["errors"] == []
    return article_id


async def record(client: GraphQLClient, token: str, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await client.data(RECORD, {"input": fields}, token=token))["recordSelfService"]
    return payload


async def deflection(client: GraphQLClient, token: str, **flt: Any) -> dict[str, Any]:
    data = await client.data(DEFLECTION, {"filter": flt or None}, token=token)
    found: dict[str, Any] = data["analytics"]["deflection"]
    return found


def draft() -> str:
    return str(uuid.uuid4())


# --- searching while typing -------------------------------------------------------------------------


async def test_a_constituent_searching_while_typing_finds_published_articles_only(
    client: GraphQLClient, token: Callable[[str], str]
) -> None:
    # given a published article, a draft, and one published then taken back, all about potholes
    await article(client, token, "Pothole repairs", "Potholes are filled within a week.", publish=True)
    await article(client, token, "Pothole draft notes", "Internal: pothole crews.", publish=False)
    withdrawn = await article(client, token, "Old pothole policy", "Potholes wait a month.", publish=True)
    unpublished = await client.data(UNPUBLISH_ARTICLE, {"input": {"articleId": withdrawn}}, token=token("manager"))
    assert unpublished["unpublishArticle"]["errors"] == []
    # when the constituent's words are searched, as the portal does while they type
    found = (await client.data(SEARCH, {"text": "pothole on my street"}, token=token("requester")))["articles"]
    # then only the published article is offered, and the count does not tell of the others
    assert [(e["node"]["title"], e["node"]["status"]) for e in found["edges"]] == [("Pothole repairs", "PUBLISHED")]
    assert found["totalCount"] == 1
    # while staff searching the same words see the drafts too
    staff = (await client.data(SEARCH, {"text": "pothole on my street"}, token=token("agent")))["articles"]
    assert staff["totalCount"] == 3


async def test_suggestions_while_typing_offer_published_articles_most_words_first_to_anyone(
    client: GraphQLClient, token: Callable[[str], str]
) -> None:
    # given two published articles (one about more of the words) and a draft about all of them
    best = await article(
        client, token, "Pothole repairs", "Potholes on any street are repaired in a week.", publish=True
    )
    other = await article(client, token, "Street lights", "Report a dark street light.", publish=True)
    await article(client, token, "Pothole street repair crews", "Internal.", publish=False)
    # when the portal asks for suggestions, for a constituent and for staff
    words = "There is a pothole in my street, please repair it"
    for who in ("requester", "agent"):
        found = (await client.data(SUGGEST, {"text": words, "first": 5}, token=token(who)))["suggestedArticles"]
        # then the published articles only, the one matching more words first
        assert [a["id"] for a in found] == [best, other], who
    # and `first` is kept between 1 and 10; a text longer than a request's start is refused
    one = (await client.data(SUGGEST, {"text": words, "first": 0}, token=token("requester")))["suggestedArticles"]
    assert [a["id"] for a in one] == [best]
    nothing = await client.data(SUGGEST, {"text": "the and of", "first": 3}, token=token("requester"))
    assert nothing["suggestedArticles"] == []
    long = await client.execute(SUGGEST, {"text": "pothole " * 300, "first": 3}, token=token("requester"))
    assert long["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"
    anonymous = await client.execute(SUGGEST, {"text": words, "first": 3})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_suggestions_read_a_bounded_number_of_rows_however_many_articles_match(
    client: GraphQLClient, world: World, token: Callable[[str], str]
) -> None:
    # given a few articles about potholes
    agent, manager = world.actor("agent"), world.actor("manager")

    async def publish(n: int) -> None:
        draft = ArticleDraft(title=f"Pothole advice {n}", body="Potholes on a street are repaired quickly.")
        row = await create_article(actor=agent, draft=draft, now=world.clock())
        await publish_article(actor=manager, article_id=str(row.id), expected_version=None, now=world.clock())

    for n in range(3):
        await publish(n)
    words = {"text": "pothole street", "first": 3}
    with counted_statements() as few:
        small = await client.data(SUGGEST, words, token=token("requester"))
    # when many more match the same words
    for n in range(3, 3 + SUGGESTION_ROWS_PER_TERM + 10):
        await publish(n)
    with counted_statements() as many:
        large = await client.data(SUGGEST, words, token=token("requester"))
    # then the same statements run, each word's read stopping after a fixed number of rows
    assert len(small["suggestedArticles"]) == len(large["suggestedArticles"]) == 3
    assert len(few) == len(many)
    term_reads = [sql for sql in many if "kb_article_terms" in sql]
    assert len(term_reads) == 2
    assert all(f"LIMIT {SUGGESTION_ROWS_PER_TERM}" in sql or "LIMIT ?" in sql or "LIMIT $" in sql for sql in term_reads)


# --- recording a draft's steps -----------------------------------------------------------------------


async def test_a_request_left_after_reading_counts_once_however_often_it_is_reported(
    client: GraphQLClient, world: World, token: Callable[[str], str], services: dict[str, str]
) -> None:
    # given a constituent who read two articles (one twice) while writing a request
    first = await article(client, token, "Pothole repairs", "Filled within a week.", publish=True)
    second = await article(client, token, "Road works", "Where the crews are.", publish=True)
    alice, key = token("requester"), draft()
    steps = [
        await record(client, alice, draftId=key, step="ARTICLE_READ", serviceCode=services["roads"], articleId=first),
        await record(client, alice, draftId=key, step="ARTICLE_READ", serviceCode=services["roads"], articleId=second),
        await record(client, alice, draftId=key, step="ARTICLE_READ", serviceCode=services["roads"], articleId=first),
    ]
    assert [(s["recorded"], s["errors"]) for s in steps] == [(True, []), (True, []), (False, [])]
    # when the portal reports leaving twice, then a filing of the same draft
    left = [await record(client, alice, draftId=key, step="ABANDONED") for _ in range(2)]
    case = await insert_case(world, requester="requester")
    filed = await record(client, alice, draftId=key, step="FILED", caseId=case.id)
    # then the first ending counts and the rest change nothing
    assert [s["recorded"] for s in left] == [True, False]
    assert filed == {"recorded": False, "errors": []}
    # and the figure says one deflected request, crediting both articles read
    figure = await deflection(client, token("admin"))
    assert (figure["deflectedRequests"], figure["filedAfterReading"], figure["deflectionRate"]) == (1, 0, 1.0)
    assert sorted((a["article"]["id"], a["deflectedRequests"]) for a in figure["topArticles"]) == sorted(
        [(first, 1), (second, 1)]
    )


async def test_only_constituents_record_and_bad_input_is_refused_without_changing_anything(
    client: GraphQLClient, world: World, token: Callable[[str], str], services: dict[str, str]
) -> None:
    # given a published and a draft article, and a case of another constituent
    readable = await article(client, token, "Pothole repairs", "Filled within a week.", publish=True)
    unpublished = await article(client, token, "Pothole crews", "Internal.", publish=False)
    theirs = await insert_case(world, requester="other_constituent")
    alice, key = token("requester"), draft()
    read = {"draftId": key, "step": "ARTICLE_READ", "serviceCode": services["roads"], "articleId": readable}
    # when staff (who could inflate the figure) and bad input try
    refusals = [
        await record(client, token("agent"), **read),
        await record(client, token("admin"), **read),
        await record(client, alice, **(read | {"draftId": "not-a-uuid"})),
        await record(client, alice, **(read | {"draftId": key.upper()})),
        await record(client, alice, **(read | {"articleId": unpublished})),
        await record(client, alice, **(read | {"articleId": str(uuid.uuid4())})),
        await record(client, alice, **(read | {"articleId": None})),
        await record(client, alice, **(read | {"serviceCode": services["staff"]})),
        await record(client, alice, **(read | {"serviceCode": "no-such-service"})),
        await record(client, alice, draftId=key, step="FILED", caseId=theirs.id),
        await record(client, alice, draftId=key, step="FILED", caseId="x" * 5000),
    ]
    # then each is refused with its reason, on the field at fault
    assert [(r["recorded"], [(e["code"], e["field"]) for e in r["errors"]]) for r in refusals] == [
        (False, [("PERMISSION_DENIED", None)]),
        (False, [("PERMISSION_DENIED", None)]),
        (False, [("VALIDATION_FAILED", "draftId")]),
        (False, [("VALIDATION_FAILED", "draftId")]),
        (False, [("NOT_FOUND", "articleId")]),
        (False, [("NOT_FOUND", "articleId")]),
        (False, [("VALIDATION_FAILED", "articleId")]),
        (False, [("VALIDATION_FAILED", "serviceCode")]),
        (False, [("VALIDATION_FAILED", "serviceCode")]),
        (False, [("NOT_FOUND", "caseId")]),
        (False, [("NOT_FOUND", "caseId")]),
    ]
    # and nothing was written
    assert (await SelfServiceDraft.all().count(), await SelfServiceRead.all().count()) == (0, 0)
    # and a constituent cannot read the figure either
    body = await client.execute(DEFLECTION, {"filter": None}, token=alice)
    assert body["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"


async def test_the_figure_counts_filed_and_idle_drafts_over_the_period_and_the_viewers_groups(
    client: GraphQLClient, world: World, clock: FakeClock, token: Callable[[str], str], services: dict[str, str]
) -> None:
    # given one article and four draft requests: roads left, roads filed, benefits left, roads idle
    helpful = await article(client, token, "Pothole repairs", "Filled within a week.", publish=True)
    alice, bob = token("requester"), token("other_constituent")
    started = clock()

    async def read(who: str, service: str) -> str:
        key = draft()
        step = {"draftId": key, "step": "ARTICLE_READ", "serviceCode": service, "articleId": helpful}
        assert (await record(client, who, **step))["recorded"] is True
        return key

    left = await read(alice, services["roads"])
    assert (await record(client, alice, draftId=left, step="ABANDONED"))["recorded"] is True
    filed = await read(bob, services["roads"])
    case = await insert_case(world, requester="other_constituent")
    assert (await record(client, bob, draftId=filed, step="FILED", caseId=case.id))["recorded"] is True
    benefits = await read(alice, services["benefits"])
    assert (await record(client, alice, draftId=benefits, step="ABANDONED"))["recorded"] is True
    await read(bob, services["roads"])  # the tab closed: no ending reported
    # when the figure is read at once, then after the idle draft has waited a day
    admin = token("admin")
    at_once = await deflection(client, admin)
    clock.advance(timedelta(days=1, minutes=1))
    a_day_later = await deflection(client, admin)
    # then the idle draft counts only once it has been left for a day
    assert (at_once["deflectedRequests"], at_once["filedAfterReading"], at_once["deflectionRate"]) == (2, 1, 0.6667)
    assert (a_day_later["deflectedRequests"], a_day_later["filedAfterReading"]) == (3, 1)
    assert a_day_later["topArticles"] == [
        {"deflectedRequests": 3, "article": {"id": helpful, "title": "Pothole repairs"}}
    ]
    # and a group's agent sees their group's services only; the group filter narrows an admin too
    roads_agent = await deflection(client, token("agent"))
    benefits_only = await deflection(client, admin, groupCodes=["BENEFITS"])
    pothole_only = await deflection(client, admin, caseTypeCodes=["POTHOLE"])
    assert (roads_agent["deflectedRequests"], roads_agent["filedAfterReading"]) == (2, 1)
    assert (benefits_only["deflectedRequests"], benefits_only["filedAfterReading"]) == (1, 0)
    assert (pothole_only["deflectedRequests"], pothole_only["filedAfterReading"]) == (2, 1)
    # and the period bounds the drafts' last step
    before = await deflection(client, admin, to=iso(started))
    after = await deflection(client, admin, **{"from": iso(clock())})
    assert (before["deflectedRequests"], before["filedAfterReading"], before["topArticles"]) == (0, 0, [])
    assert (after["deflectedRequests"], after["deflectionRate"]) == (0, None)


def iso(when: datetime) -> str:
    return when.isoformat()


async def test_one_constituent_counts_for_at_most_a_days_worth_of_drafts(
    client: GraphQLClient, clock: FakeClock, token: Callable[[str], str], services: dict[str, str]
) -> None:
    # given a constituent whose browser reports a read in a new draft over and over
    helpful = await article(client, token, "Pothole repairs", "Filled within a week.", publish=True)
    alice = token("requester")

    async def read_in_a_new_draft() -> bool:
        step = {"draftId": draft(), "step": "ARTICLE_READ", "serviceCode": services["roads"], "articleId": helpful}
        payload = await record(client, alice, **step)
        assert payload["errors"] == []
        recorded: bool = payload["recorded"]
        return recorded

    # when it reports more drafts in a day than a person writes
    counted = [await read_in_a_new_draft() for _ in range(MAX_DRAFTS_PER_DAY + 2)]
    # then only a day's worth begin; the next day counts again
    assert counted == [True] * MAX_DRAFTS_PER_DAY + [False, False]
    assert await SelfServiceDraft.filter(requester_id="alice").count() == MAX_DRAFTS_PER_DAY
    clock.advance(timedelta(days=1))
    assert await read_in_a_new_draft() is True
