"""Sign-in with an OpenID provider over HTTP (casegraph/oidc_pages.py), against a real provider
(oidc-provider on loopback, tests/oidc_provider) whose login and consent are answered the way a
browser posts them: the callback signs in once, from the browser that started, and never
redirects off the site; roles follow the provider's groups; refusals are pages in the reader's
language that sign nobody in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Final
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from tortoise.context import TortoiseContext

from casegraph.app import create_app
from casegraph.auth import TokenVerifier
from casegraph.runtime import Runtime
from casegraph.settings import Settings, parse_oidc
from casegraph.sign_in_pages import REFRESH_COOKIE
from models import BrowserSession, OidcFlow, User, UserIdentity
from tests.helpers import GraphQLClient
from tests.oidc_provider import CLIENT_SECRET, OpenIdProvider, running_provider

CALLBACK: Final = "http://testserver/auth/oidc/callback"
ACCOUNTS: Final = {
    "rosa": {"email": "rosa@example.org", "email_verified": True, "name": "Rosa Díaz", "roles": []},
    "omar": {"email": "omar@city.example", "email_verified": True, "name": "Omar Haddad", "roles": ["caseworker"]},
}


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenIdProvider]:
    with running_provider(tmp_path_factory.mktemp("oidc"), redirect_uris=[CALLBACK], accounts=ACCOUNTS) as running:
        yield running


@pytest.fixture
def settings(settings: Settings, provider: OpenIdProvider) -> Settings:
    oidc = parse_oidc(
        issuer=provider.issuer,
        client_id=provider.client_id,
        client_secret=CLIENT_SECRET,
        name="City Hall",
        scopes=None,
        roles_claim="roles",
        role_map="caseworker=AGENT,supervisor=MANAGER",
    )
    return replace(settings, public_url="http://testserver", oidc=oidc)


async def at_provider(client: GraphQLClient, login: str, *, next_path: str = "/portal") -> str:
    """Start at casegraph, sign in and consent at the provider as a browser would; returns the
    callback URL the provider sends the browser back to (not yet followed)."""
    started = await client.http.get("/auth/oidc/start", params={"next": next_path})
    assert started.status_code == 303, started.text
    async with httpx.AsyncClient(timeout=30.0) as browser:  # the browser's visit at the provider
        location = started.headers["location"]
        for _ in range(10):
            response = await browser.get(location)
            while response.status_code in (302, 303):
                location = response.headers["location"]
                if location.startswith(CALLBACK):
                    return location
                response = await browser.get(httpx.URL(str(response.url)).join(location))
            action = re.search(r'<form[^>]*action="([^"]+)"', response.text)
            assert action is not None, response.text
            prompt = re.search(r'name="prompt" value="(\w+)"', response.text)
            assert prompt is not None
            form = {"prompt": prompt.group(1), "login": login, "password": "any"}
            answer = await browser.post(httpx.URL(str(response.url)).join(action.group(1)), data=form)
            assert answer.status_code in (302, 303), answer.text
            location = str(httpx.URL(str(answer.url)).join(answer.headers["location"]))
            if location.startswith(CALLBACK):
                return location
    raise AssertionError("the provider never sent the browser back")


def callback_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def test_a_person_signs_in_and_the_provider_sees_pkce_and_a_confidential_client(
    client: GraphQLClient, db: TortoiseContext
) -> None:
    # given: the redirect to the provider asks for a code with PKCE (S256), state and nonce
    started = await client.http.get("/auth/oidc/start", params={"next": "/portal"})
    asked = parse_qs(urlsplit(started.headers["location"]).query)
    assert asked["code_challenge_method"] == ["S256"] and len(asked["code_challenge"][0]) == 43
    assert asked["redirect_uri"] == [CALLBACK] and asked["scope"] == ["openid email profile"]
    assert asked["state"] and asked["nonce"]
    cookie = started.headers["set-cookie"]
    assert "casegraph_oidc=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie

    # when: a whole sign-in
    callback = await at_provider(client, "rosa")
    landed = await client.http.get(callback_path(callback))

    # then: sent to the portal with a session; the user is provisioned from the claims
    assert landed.status_code == 303 and landed.headers["location"] == "/portal"
    assert REFRESH_COOKIE in landed.cookies
    user = await User.get(email="rosa@example.org")
    assert (user.name, user.roles) == ("Rosa Díaz", ["CONSTITUENT"])
    assert await UserIdentity.filter(user_id=user.id, subject="rosa").exists()
    refreshed = await client.http.post("/auth/refresh")
    assert refreshed.json()["user"] == {"id": user.id, "name": "Rosa Díaz", "email": "rosa@example.org"}


def browser_of(settings: Settings, runtime: Runtime) -> httpx.AsyncClient:
    """Another browser (a cookie jar of its own) on the same server."""
    app = create_app(settings, manage_resources=False, runtime=runtime)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_the_callback_works_once_and_only_in_the_browser_that_started(
    client: GraphQLClient, db: TortoiseContext, settings: Settings, runtime: Runtime
) -> None:
    callback = await at_provider(client, "rosa")
    # when: the callback URL is opened in another browser (no flow cookie)
    async with browser_of(settings, runtime) as other:
        elsewhere = await other.get(callback_path(callback))
    assert elsewhere.status_code == 400 and 'data-reason="expired"' in elsewhere.text
    # then: the browser that started it signs in, once
    first = await client.http.get(callback_path(callback))
    assert first.status_code == 303
    again = await client.http.get(callback_path(callback))
    assert again.status_code == 400 and 'data-reason="expired"' in again.text
    assert await BrowserSession.all().count() == 1


async def test_an_agent_gets_the_role_of_their_group_and_next_stays_on_this_site(
    client: GraphQLClient, db: TortoiseContext
) -> None:
    # when: the sign-in was started with a next page elsewhere
    callback = await at_provider(client, "omar", next_path="//evil.example/steal")
    landed = await client.http.get(callback_path(callback))
    # then: the portal, not the other site; and the role mapped from the provider's group
    assert landed.headers["location"] == "/portal"
    assert (await User.get(email="omar@city.example")).roles == ["AGENT"]
    dashboard = await client.http.get(callback_path(await at_provider(client, "omar", next_path="/")))
    assert dashboard.headers["location"] == "/"


async def test_a_deactivated_user_is_refused_with_a_page_and_no_session(
    client: GraphQLClient, db: TortoiseContext
) -> None:
    await client.http.get(callback_path(await at_provider(client, "rosa")))
    await User.filter(email="rosa@example.org").update(active=False)
    await BrowserSession.all().delete()
    refused = await client.http.get(
        callback_path(await at_provider(client, "rosa")), headers={"Accept-Language": "es-ES,es;q=0.9"}
    )
    assert refused.status_code == 403
    assert 'data-reason="deactivated"' in refused.text and "Esta cuenta está desactivada" in refused.text
    assert await BrowserSession.all().count() == 0


async def test_an_error_from_the_provider_or_another_issuer_signs_nobody_in(
    client: GraphQLClient, db: TortoiseContext, provider: OpenIdProvider
) -> None:
    started = await client.http.get("/auth/oidc/start", params={"next": "/"})  # from the dashboard
    state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
    denied = await client.http.get(
        "/auth/oidc/callback",
        params={"error": "access_denied", "state": state},
        headers={"Accept-Language": "fr;q=0.9, es;q=0.8"},
    )
    assert denied.status_code == 400 and "Se canceló el inicio de sesión" in denied.text
    assert "<script" not in denied.text and "Traceback" not in denied.text
    # the way back is the page the sign-in started from, and the flow is used up
    assert '<a href="/">Volver al inicio de sesión</a>' in denied.text
    assert await OidcFlow.filter(used_at__isnull=False).count() == 1
    # an answer naming another issuer (a mix-up): refused before the code is used
    callback = await at_provider(client, "rosa")
    mixed = await client.http.get(callback_path(callback).replace("iss=", "iss=https%3A%2F%2Fevil.example&x="))
    assert mixed.status_code == 400 and 'data-reason="unconfirmed"' in mixed.text
    assert await BrowserSession.all().count() == 0


async def test_the_pages_learn_what_sign_in_is_offered(client: GraphQLClient, db: TortoiseContext) -> None:
    answer = await client.http.get("/auth/config")
    assert answer.json() == {"oidc": {"name": "City Hall", "start": "/auth/oidc/start"}}


async def test_an_unreachable_provider_is_a_page_not_a_trace(db: TortoiseContext, settings: Settings) -> None:
    # given: a server whose provider does not answer (a closed loopback port)
    assert settings.oidc is not None
    gone = replace(settings, oidc=replace(settings.oidc, issuer="http://127.0.0.1:9"))
    async with browser_of(gone, Runtime(settings=gone, verifier=TokenVerifier(gone))) as browser:
        answer = await browser.get("/auth/oidc/start")
    assert answer.status_code == 502 and 'data-reason="unreachable"' in answer.text
