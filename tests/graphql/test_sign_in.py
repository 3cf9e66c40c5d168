"""``requestSignInLink`` over GraphQL: the one field a caller without a token may use, and an
answer that tells nobody whether an address has an account here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from tortoise.context import TortoiseContext

from casegraph.app import create_app
from casegraph.services import sign_in
from casegraph.settings import RateLimits, Settings
from models import BrowserSession, MailDelivery, SignInLink, User
from tests.helpers import FakeClock, GraphQLClient, World

REQUEST = """mutation Ask($input: RequestSignInLinkInput!) {
  requestSignInLink(input: $input) { accepted errors { code field } }
}"""
PRODUCTION_SECRET = "a-production-secret-of-the-sign-in-tests-0123456789"


def ask(email: str) -> dict[str, Any]:
    return {"input": {"email": email}}


async def test_a_known_and_an_unknown_address_get_the_same_answer_and_the_same_rows(
    client: GraphQLClient, world: World
) -> None:
    # given: alice@example.org is Alice's (the world's people have addresses), the other is nobody's
    # when
    known = await client.post(REQUEST, ask("alice@example.org"))
    unknown = await client.post(REQUEST, ask("nobody@example.org"))
    # then: the same status, headers that matter and body
    assert known.status_code == unknown.status_code == 200
    assert known.json() == unknown.json() == {"data": {"requestSignInLink": {"accepted": True, "errors": []}}}
    assert await SignInLink.filter(email="alice@example.org").count() == 1
    assert await SignInLink.filter(email="nobody@example.org").count() == 1
    mails = await MailDelivery.filter(template="sign_in").order_by("recipient").values_list("recipient", "user_id")
    assert mails == [("alice@example.org", None), ("nobody@example.org", None)]


async def test_a_malformed_address_is_a_validation_error_and_writes_nothing(
    client: GraphQLClient, db: TortoiseContext
) -> None:
    # when
    body = await client.execute(REQUEST, ask("no-at-sign"))
    # then
    assert body["data"]["requestSignInLink"] == {
        "accepted": False,
        "errors": [{"code": "VALIDATION_FAILED", "field": "email"}],
    }
    assert await SignInLink.all().count() == 0


async def test_no_other_field_opens_up_without_a_token(client: GraphQLClient, db: TortoiseContext) -> None:
    # when: the sign-in field together with one that needs a token
    body = await client.execute(
        'mutation { requestSignInLink(input: {email: "a@example.org"}) { accepted } markNotificationsRead }'
    )
    query = await client.execute("{ me { id } }")
    # then
    assert body.get("data") is None and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert query["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await SignInLink.all().count() == 0


async def test_a_bad_token_is_refused_even_for_the_sign_in_field(client: GraphQLClient, db: TortoiseContext) -> None:
    # when
    response = await client.post(REQUEST, ask("a@example.org"), token="not-a-jwt")
    # then
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await SignInLink.all().count() == 0


async def test_a_client_over_its_hourly_links_is_rate_limited_whatever_the_address(
    client: GraphQLClient, db: TortoiseContext
) -> None:
    # given
    for number in range(sign_in.LINKS_PER_CLIENT):
        await client.data(REQUEST, ask(f"person{number}@example.org"))
    # when
    refused = await client.post(REQUEST, ask("someone@example.org"))
    # then: the limiter's usual refusal, with the seconds to wait
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED" and error["extensions"]["retryAfter"] > 0
    assert int(refused.headers["Retry-After"]) == error["extensions"]["retryAfter"]
    assert await MailDelivery.filter(recipient="someone@example.org").count() == 0


@pytest.fixture
async def production(db: TortoiseContext) -> AsyncIterator[GraphQLClient]:
    settings = Settings(env="production", jwt_secret=PRODUCTION_SECRET, metrics_token="m", rate_limits=RateLimits.off())
    app = create_app(settings, manage_resources=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield GraphQLClient(http, settings)


async def test_in_production_an_anonymous_caller_may_ask_for_a_link_and_nothing_else(
    production: GraphQLClient,
) -> None:
    # when
    asked = await production.execute(REQUEST, ask("a@example.org"))
    other = await production.execute("{ me { id } }")
    # then
    assert asked == {"data": {"requestSignInLink": {"accepted": True, "errors": []}}}
    assert other.get("data") is None and other["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


SET_ACTIVE = """mutation Set($input: SetUserActiveInput!) {
  setUserActive(input: $input) { user { id } revokedSessions errors { code field } }
}"""


async def test_a_deactivated_users_tokens_are_refused_and_their_sessions_end_until_reactivated(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock
) -> None:
    # given: Alice uses the portal with a token, and has two browser sessions
    alice, admin = world.token(settings, "requester"), world.token(settings, "admin")
    assert await client.data("{ me { id } }", token=alice) == {"me": {"id": "alice"}}
    for _ in range(2):
        await sign_in.request_sign_in_link(
            email="alice@example.org", client="192.0.2.1", locale="en", now=clock(), signing_secret="s"
        )
    for link in await SignInLink.all():
        await sign_in.open_sign_in_link(secret=sign_in.link_secret("s", str(link.id)), now=clock())
    # when
    off = await client.data(SET_ACTIVE, {"input": {"userId": "alice", "active": False}}, token=admin)
    # then: her token (checked and remembered a moment ago) is refused, her sessions are gone
    assert off["setUserActive"] == {"user": {"id": "alice"}, "revokedSessions": 2, "errors": []}
    refused = await client.execute("{ me { id } }", token=alice)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "deactivated" in refused["errors"][0]["message"]
    assert await BrowserSession.filter(revoked_at__isnull=True).count() == 0
    # and: activated again, the same token works
    on = await client.data(SET_ACTIVE, {"input": {"userId": "alice", "active": True}}, token=admin)
    assert on["setUserActive"]["revokedSessions"] == 0
    assert await client.data("{ me { id } }", token=alice) == {"me": {"id": "alice"}}


async def test_only_an_administrator_deactivates_and_not_themselves_nor_a_user_not_here(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    admin = world.token(settings, "admin")
    # when
    by_agent = await client.data(
        SET_ACTIVE, {"input": {"userId": "alice", "active": False}}, token=world.token(settings, "agent")
    )
    themselves = await client.data(SET_ACTIVE, {"input": {"userId": "ada", "active": False}}, token=admin)
    nobody = await client.data(SET_ACTIVE, {"input": {"userId": "nobody", "active": False}}, token=admin)
    # then
    assert by_agent["setUserActive"]["errors"] == [{"code": "PERMISSION_DENIED", "field": None}]
    assert themselves["setUserActive"]["errors"] == [{"code": "VALIDATION_FAILED", "field": "userId"}]
    assert nobody["setUserActive"]["errors"] == [{"code": "NOT_FOUND", "field": None}]
    assert await User.filter(id__in=["alice", "ada"], active=True).count() == 2
