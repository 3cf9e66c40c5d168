"""Sign-in with an OpenID provider: the rules of services/oidc_sign_in.py, on both backends —
flows used once by the browser that started them, no open redirect, who an identity is here,
roles re-read at every sign-in, deactivated users refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tortoise.context import TortoiseContext

from casegraph.domain.enums import Role
from casegraph.services import oidc_sign_in
from casegraph.services.oidc_sign_in import FlowRefused, FlowThrottled, Identity, identity_of, map_roles, safe_next
from casegraph.services.sign_in import SignInRefused, refresh_session
from models import BrowserSession, OidcFlow, User, UserIdentity
from tests.helpers import FakeClock

ISSUER = "https://id.city.example"
CLIENT = "192.0.2.7"
ROLE_MAP = (("caseworker", "AGENT"), ("supervisor", "MANAGER"), ("admins", "ADMIN"))


def identity(subject: str = "person-1", **changes: Any) -> Identity:
    values: dict[str, Any] = {
        "issuer": ISSUER,
        "subject": subject,
        "email": "ana@example.org",
        "name": "Ana Ruiz",
        "roles": (Role.CONSTITUENT,),
    }
    values.update(changes)
    return Identity(**values)


async def test_a_flow_is_used_once_by_the_browser_that_started_it(db: TortoiseContext, clock: FakeClock) -> None:
    # given
    flow = await oidc_sign_in.start_flow(next_path="/portal", client=CLIENT, now=clock())
    # when: another browser brings the state (the callback URL was handed on)
    with pytest.raises(FlowRefused):
        await oidc_sign_in.claim_flow(state=flow.state, browser_key="another-browser", now=clock())
    # then: the browser that started it can still use it, once
    claimed = await oidc_sign_in.claim_flow(state=flow.state, browser_key=flow.browser_key, now=clock())
    assert claimed.next_path == "/portal" and claimed.nonce == flow.nonce
    assert oidc_sign_in.code_challenge(claimed.verifier) == flow.code_challenge
    with pytest.raises(FlowRefused):
        await oidc_sign_in.claim_flow(state=flow.state, browser_key=flow.browser_key, now=clock())


async def test_an_expired_flow_or_an_unknown_state_signs_nobody_in(db: TortoiseContext, clock: FakeClock) -> None:
    flow = await oidc_sign_in.start_flow(next_path=None, client=CLIENT, now=clock())
    with pytest.raises(FlowRefused):
        await oidc_sign_in.claim_flow(state="made-up", browser_key=flow.browser_key, now=clock())
    with pytest.raises(FlowRefused):
        await oidc_sign_in.claim_flow(state=flow.state, browser_key=None, now=clock())
    clock.advance(oidc_sign_in.FLOW_LIFETIME + timedelta(seconds=1))
    with pytest.raises(FlowRefused):
        await oidc_sign_in.claim_flow(state=flow.state, browser_key=flow.browser_key, now=clock())
    # nothing in the database holds the state or the browser's key
    stored = {value for row in await OidcFlow.all().values_list("state_hash", "browser_hash") for value in row}
    assert flow.state not in stored and flow.browser_key not in stored


async def test_sign_ins_started_from_one_address_are_throttled_until_the_oldest_expires(
    db: TortoiseContext, clock: FakeClock
) -> None:
    # given: as many flows as one address may start at once, a second apart
    for _ in range(oidc_sign_in.FLOWS_PER_CLIENT):
        await oidc_sign_in.start_flow(next_path=None, client=CLIENT, now=clock())
        clock.advance(timedelta(seconds=1))
    # when / then: one more is refused, with the wait; another address is not
    with pytest.raises(FlowThrottled) as refused:
        await oidc_sign_in.start_flow(next_path=None, client=CLIENT, now=clock())
    lifetime = int(oidc_sign_in.FLOW_LIFETIME.total_seconds())
    assert 0 < refused.value.retry_after <= lifetime - oidc_sign_in.FLOWS_PER_CLIENT + 1
    await oidc_sign_in.start_flow(next_path=None, client="198.51.100.1", now=clock())
    # and once the oldest expired, the address may start again (expired flows are deleted)
    clock.advance(timedelta(seconds=refused.value.retry_after))
    await oidc_sign_in.start_flow(next_path=None, client=CLIENT, now=clock())
    assert await OidcFlow.filter(client_address=CLIENT).count() < oidc_sign_in.FLOWS_PER_CLIENT + 1


@pytest.mark.parametrize(
    ("asked", "goes_to"),
    [
        ("/portal", "/portal"),
        ("/", "/"),
        ("/portal#/case/1", "/portal#/case/1"),
        ("//evil.example/portal", "/portal"),
        ("/\\evil.example", "/portal"),
        ("https://evil.example/", "/portal"),
        ("javascript:alert(1)", "/portal"),
        ("/portal\r\nSet-Cookie: x=1", "/portal"),
        ("", "/portal"),
        (None, "/portal"),
    ],
)
def test_after_sign_in_the_browser_goes_only_to_a_path_on_this_site(asked: str | None, goes_to: str) -> None:
    assert safe_next(asked) == goes_to


def test_the_roles_claim_is_mapped_by_configuration() -> None:
    assert map_roles({"roles": ["caseworker", "admins", "other-app"]}, "roles", ROLE_MAP) == (Role.ADMIN, Role.AGENT)
    assert map_roles({"realm_access": {"roles": ["supervisor"]}}, "realm_access.roles", ROLE_MAP) == (Role.MANAGER,)
    assert map_roles({"group": "caseworker"}, "group", ROLE_MAP) == (Role.AGENT,)
    assert map_roles({"roles": ["unmapped"]}, "roles", ROLE_MAP) == (Role.CONSTITUENT,)
    assert map_roles({}, "roles", ROLE_MAP) == (Role.CONSTITUENT,)


def test_an_address_counts_only_when_the_provider_says_it_is_verified() -> None:
    claims = {"sub": "p", "email": "Ana@Example.org", "name": "Ana"}
    assert identity_of({**claims, "email_verified": True}, issuer=ISSUER, roles_claim=None, role_map=()).email == (
        "ana@example.org"
    )
    assert identity_of(claims, issuer=ISSUER, roles_claim=None, role_map=()).email is None
    assert identity_of({**claims, "email_verified": "true"}, issuer=ISSUER, roles_claim=None, role_map=()).email is None
    with pytest.raises(SignInRefused):
        identity_of({"email": "a@b.c"}, issuer=ISSUER, roles_claim=None, role_map=())


async def test_a_first_sign_in_provisions_a_user_and_the_next_finds_them_by_issuer_and_subject(
    db: TortoiseContext, clock: FakeClock
) -> None:
    # when
    first = await oidc_sign_in.sign_in_with_identity(identity(), now=clock())
    again = await oidc_sign_in.sign_in_with_identity(identity(email="new-address@example.org"), now=clock())
    # then: one user, bound to the identity, with a session each time
    assert first.user_id == again.user_id
    user = await User.get(id=first.user_id)
    assert (user.email, user.name, user.roles) == ("ana@example.org", "Ana Ruiz", ["CONSTITUENT"])
    assert await UserIdentity.filter(issuer=ISSUER, subject="person-1", user_id=user.id).count() == 1
    assert await BrowserSession.filter(user_id=user.id).count() == 2
    assert (
        await refresh_session(token=again.refresh_token, now=clock(), signing_secret="test-signing-secret")
    ).user_id == user.id


async def test_a_verified_address_links_the_existing_user_and_an_unverified_one_does_not(
    db: TortoiseContext, clock: FakeClock
) -> None:
    # given: someone who signed in by mailed link before
    await User.create(id="ana", email="ana@example.org", roles=["CONSTITUENT"], created_at=clock(), updated_at=clock())
    # when
    linked = await oidc_sign_in.sign_in_with_identity(identity("p-1"), now=clock())
    stranger = await oidc_sign_in.sign_in_with_identity(identity("p-2", email=None), now=clock())
    # then
    assert linked.user_id == "ana"
    assert stranger.user_id != "ana"
    assert (await User.get(id=stranger.user_id)).email is None


async def test_roles_are_re_read_at_every_sign_in_so_a_removed_group_loses_its_role(
    db: TortoiseContext, clock: FakeClock
) -> None:
    # given: an agent by the provider's group
    agent = await oidc_sign_in.sign_in_with_identity(identity(roles=(Role.AGENT,)), now=clock())
    assert agent.roles == (Role.AGENT,)
    # when: removed from the group at the provider, they sign in again
    again = await oidc_sign_in.sign_in_with_identity(identity(roles=(Role.CONSTITUENT,)), now=clock())
    # then
    assert again.roles == (Role.CONSTITUENT,)
    assert (await User.get(id=again.user_id)).roles == ["CONSTITUENT"]


async def test_without_a_roles_claim_existing_users_keep_their_roles(db: TortoiseContext, clock: FakeClock) -> None:
    await User.create(id="mgr", email="ana@example.org", roles=["MANAGER"], created_at=clock(), updated_at=clock())
    signed_in = await oidc_sign_in.sign_in_with_identity(identity(roles=None), now=clock())
    assert signed_in.roles == (Role.MANAGER,)
    newcomer = await oidc_sign_in.sign_in_with_identity(identity("p-9", email=None, roles=None), now=clock())
    assert newcomer.roles == (Role.CONSTITUENT,)


async def test_a_deactivated_user_is_refused_and_gets_no_session(db: TortoiseContext, clock: FakeClock) -> None:
    first = await oidc_sign_in.sign_in_with_identity(identity(), now=clock())
    await User.filter(id=first.user_id).update(active=False)
    with pytest.raises(SignInRefused, match="deactivated"):
        await oidc_sign_in.sign_in_with_identity(identity(roles=(Role.ADMIN,)), now=clock())
    user = await User.get(id=first.user_id)
    assert user.roles == ["CONSTITUENT"]  # the refused sign-in changed nothing
    assert await BrowserSession.filter(user_id=user.id).count() == 1


async def test_an_address_is_not_linked_again_to_a_user_with_another_identity_at_the_provider(
    db: TortoiseContext, clock: FakeClock
) -> None:
    # given: Ana signed in with the provider as person-1
    first = await oidc_sign_in.sign_in_with_identity(identity("person-1"), now=clock())
    # when: the provider later vouches for the same address under a new subject (reassigned)
    with pytest.raises(SignInRefused, match="another account at the identity provider"):
        await oidc_sign_in.sign_in_with_identity(identity("person-2"), now=clock())
    # then: nothing was linked or provisioned, and Ana still signs in as before
    assert await UserIdentity.filter(subject="person-2").count() == 0
    assert await User.all().count() == 1
    again = await oidc_sign_in.sign_in_with_identity(identity("person-1"), now=clock())
    assert again.user_id == first.user_id
