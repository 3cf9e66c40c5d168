"""Signing in by mailed link over HTTP: the mail reaches a real SMTP server on loopback, its link
opens a page that signs in only on POST, and the browser's session lives in a cookie."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import timedelta
from unittest.mock import ANY
from urllib.parse import urlsplit

import httpx
import pytest
from tortoise.context import TortoiseContext

from casegraph.app import Runtime, create_app
from casegraph.auth import TokenVerifier
from casegraph.mail.dispatcher import MailDispatcher
from casegraph.mail.wiring import mail_dispatcher
from casegraph.services import sign_in
from casegraph.services.sign_in import REUSE_GRACE
from casegraph.settings import OidcProvider, RateLimits, Settings, parse_smtp_url
from models import BrowserSession, SignInLink, User
from tests.conftest import TEST_SECRET
from tests.helpers import FakeClock, GraphQLClient, World
from tests.mail.smtp_server import SmtpServer, running_smtp_server

REQUEST = 'mutation { requestSignInLink(input: {email: "%s"}) { accepted } }'
ME = "{ me { id name } }"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    yield from running_smtp_server()


@pytest.fixture
def settings(smtp: SmtpServer) -> Settings:
    return Settings(
        jwt_secret=TEST_SECRET,
        bind_host="127.0.0.1",
        rate_limits=RateLimits.off(),
        smtp=parse_smtp_url(smtp.url()),
        mail_from="City desk <desk@city.example>",
        public_url="http://testserver",
    )


@pytest.fixture
def dispatcher(settings: Settings, clock: FakeClock) -> MailDispatcher:
    return mail_dispatcher(settings, clock=clock)


async def mailed_link(
    client: GraphQLClient, dispatcher: MailDispatcher, smtp: SmtpServer, email: str, language: str = "en"
) -> str:
    """Ask for a link as the portal does, send the outbox, and read the link out of the mail."""
    response = await client.http.post(
        "/graphql", json={"query": REQUEST % email}, headers={"Accept-Language": language}
    )
    assert response.json() == {"data": {"requestSignInLink": {"accepted": True}}}
    await dispatcher.run_once()
    mail = smtp.recorder.to(email)[-1]
    found = re.search(r"https?://testserver(/signin/link\?token=\w+)", mail.text())
    assert found is not None, mail.text()
    assert found.group(0) in mail.html()
    return found.group(1)


async def sign_in_with(client: GraphQLClient, link: str) -> httpx.Response:
    page = await client.http.get(link)
    token = re.search(r'name="token" value="(\w+)"', page.text)
    assert page.status_code == 200 and token is not None
    return await client.http.post("/signin/link", data={"token": token.group(1)})


async def refreshed(client: GraphQLClient) -> httpx.Response:
    return await client.http.post("/auth/refresh")


async def test_a_constituent_signs_in_by_the_mailed_link_and_keeps_the_session_in_a_cookie(
    client: GraphQLClient, dispatcher: MailDispatcher, smtp: SmtpServer, clock: FakeClock
) -> None:
    # given: a link mailed to someone with no account yet
    link = await mailed_link(client, dispatcher, smtp, "nina@example.org")
    mail = smtp.recorder.to("nina@example.org")[0]
    assert str(mail.message["Subject"]).strip() == "Your sign-in link"
    assert "within 15 minutes" in mail.text() and "List-Unsubscribe" not in mail.message
    assert "In-Reply-To" not in mail.message  # about no case: threaded with none

    # when: the link is opened (a mail scanner would stop here) and nothing is signed in yet
    page = await client.http.get(link)
    assert page.status_code == 200 and '<form method="post">' in page.text
    assert await User.filter(email="nina@example.org").count() == 0
    # and: the button is pressed
    signed_in = await sign_in_with(client, link)

    # then: off to the portal with the refresh token in a cookie no script can read
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/portal"
    cookie = signed_in.headers["set-cookie"]
    assert cookie.startswith("casegraph_refresh=") and "HttpOnly" in cookie and "Path=/auth" in cookie
    assert "SameSite=strict" in cookie and "Secure" not in cookie  # http here: no Secure
    # and: the cookie buys a short-lived access token for a new, verified constituent
    session = await refreshed(client)
    assert session.status_code == 200 and session.json()["expiresIn"] == 600
    access = session.json()["accessToken"]
    user = await User.get(email="nina@example.org")
    assert user.roles == ["CONSTITUENT"]
    assert await client.data(ME, token=access) == {"me": {"id": user.id, "name": None}}


async def test_the_link_works_once(client: GraphQLClient, dispatcher: MailDispatcher, smtp: SmtpServer) -> None:
    # given
    link = await mailed_link(client, dispatcher, smtp, "olga@example.org")
    assert (await sign_in_with(client, link)).status_code == 303
    # when
    again = await sign_in_with(client, link)
    # then
    assert again.status_code == 400 and "not valid" in again.text and "set-cookie" not in again.headers


async def test_an_expired_link_signs_nobody_in(
    client: GraphQLClient, dispatcher: MailDispatcher, smtp: SmtpServer, clock: FakeClock
) -> None:
    # given
    link = await mailed_link(client, dispatcher, smtp, "pia@example.org")
    # when
    clock.advance(timedelta(minutes=15))
    # then
    assert (await sign_in_with(client, link)).status_code == 400
    assert await User.filter(email="pia@example.org").count() == 0


async def test_the_link_mail_is_in_the_browsers_language(
    client: GraphQLClient, dispatcher: MailDispatcher, smtp: SmtpServer
) -> None:
    # when
    await mailed_link(client, dispatcher, smtp, "quim@example.org", language="es-ES,es;q=0.9")
    # then
    mail = smtp.recorder.to("quim@example.org")[0]
    assert str(mail.message["Subject"]).strip() == "Su enlace para iniciar sesión"
    assert mail.message["Content-Language"] == "es"


async def test_the_link_page_speaks_the_mails_language_whatever_the_browser_says(
    client: GraphQLClient, dispatcher: MailDispatcher, smtp: SmtpServer
) -> None:
    # given: a link asked for in Spanish, opened in a browser set to English
    await mailed_link(client, dispatcher, smtp, "quim@example.org", language="es-ES,es;q=0.9")
    found = re.search(r"https?://testserver(/signin/link\?\S+)", smtp.recorder.to("quim@example.org")[0].text())
    assert found is not None
    english = {"Accept-Language": "en-US,en;q=0.9"}
    # when
    page = await client.http.get(found.group(1), headers=english)
    # then: the page, and its button, in Spanish
    assert page.status_code == 200 and '<html lang="es">' in page.text
    assert "<h1>Iniciar sesión</h1>" in page.text and "Inicie sesión en el portal" in page.text
    assert '<button type="submit" class="primary">Iniciar sesión</button>' in page.text
    # and: the form carries the language, so a refusal after the button is in Spanish too
    token = re.search(r'name="token" value="(\w+)"', page.text)
    assert token is not None and 'name="lang" value="es"' in page.text
    await client.http.post("/signin/link", data={"token": token.group(1), "lang": "es"})
    used = await client.http.post("/signin/link", data={"token": token.group(1), "lang": "es"}, headers=english)
    assert used.status_code == 400 and '<html lang="es">' in used.text
    assert "Este enlace de inicio de sesión no es válido" in used.text and "15 minutos" in used.text


async def test_a_link_without_a_language_follows_the_browser_and_a_language_we_lack_falls_back(
    client: GraphQLClient,
) -> None:
    # when: a link cut short, opened by browsers asking for Spanish, for French first, and for French only
    spanish = await client.http.get("/signin/link", headers={"Accept-Language": "fr;q=0.9, es-MX;q=0.8"})
    named_unknown = await client.http.get("/signin/link?lang=xx", headers={"Accept-Language": "es"})
    french = await client.http.get("/signin/link", headers={"Accept-Language": "fr"})
    # then: the first language we have, else English; the way back is a link to the portal
    assert spanish.status_code == 400 and '<html lang="es">' in spanish.text
    assert '<a href="/portal">Pida un enlace nuevo en el portal</a>' in spanish.text
    assert '<html lang="es">' in named_unknown.text
    assert '<html lang="en">' in french.text and "This sign-in link is not valid" in french.text
    assert spanish.headers["Content-Language"] == "es"
    # and: the portal's protections: no framing (a button to click for someone else), no inline
    # code, and the link's token in no referrer to another site
    assert spanish.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in spanish.headers["Content-Security-Policy"]
    assert spanish.headers["Referrer-Policy"] == "same-origin"


async def test_an_address_bound_to_a_user_signs_that_user_in(
    client: GraphQLClient, dispatcher: MailDispatcher, smtp: SmtpServer, world: World
) -> None:
    # given: Alice's address (the world's people have addresses)
    link = await mailed_link(client, dispatcher, smtp, "alice@example.org")
    # when
    await sign_in_with(client, link)
    access = (await refreshed(client)).json()["accessToken"]
    # then
    assert await client.data(ME, token=access) == {"me": {"id": "alice", "name": "Alice"}}


async def test_refreshing_rotates_the_cookie_and_a_replayed_old_cookie_ends_the_session(
    client: GraphQLClient, dispatcher: MailDispatcher, smtp: SmtpServer, clock: FakeClock
) -> None:
    # given: signed in, and the first refresh token kept aside (as a thief would)
    await sign_in_with(client, await mailed_link(client, dispatcher, smtp, "rui@example.org"))
    stolen = client.http.cookies["casegraph_refresh"]
    first = await refreshed(client)
    current = client.http.cookies["casegraph_refresh"]
    assert first.status_code == 200 and current != stolen
    # when: the old token comes back (later than a second tab's refresh racing the first could)
    clock.advance(REUSE_GRACE + timedelta(seconds=1))
    replayed = await client.http.post("/auth/refresh", headers={"Cookie": f"casegraph_refresh={stolen}"})
    # then: refused, and the browser's current token is dead too
    assert replayed.status_code == 401
    again = await client.http.post("/auth/refresh", headers={"Cookie": f"casegraph_refresh={current}"})
    assert again.status_code == 401
    assert await BrowserSession.filter(revoked_at__isnull=True).count() == 0


async def test_two_tabs_refreshing_at_once_both_stay_signed_in_with_one_successor(
    client: GraphQLClient, dispatcher: MailDispatcher, smtp: SmtpServer
) -> None:
    # given: a browser signed in, its tabs sharing the cookie
    await sign_in_with(client, await mailed_link(client, dispatcher, smtp, "vera@example.org"))
    cookie = {"Cookie": f"casegraph_refresh={client.http.cookies['casegraph_refresh']}"}
    # when: two tabs reload together, each refreshing with the same cookie
    tab_a, tab_b = await asyncio.gather(
        client.http.post("/auth/refresh", headers=cookie), client.http.post("/auth/refresh", headers=cookie)
    )
    # then: both get an access token and the same next cookie; nothing is revoked
    assert (tab_a.status_code, tab_b.status_code) == (200, 200), (tab_a.text, tab_b.text)
    assert tab_a.cookies["casegraph_refresh"] == tab_b.cookies["casegraph_refresh"]
    for tab in (tab_a, tab_b):
        assert await client.data(ME, token=tab.json()["accessToken"]) == {"me": {"id": ANY, "name": None}}
    assert await BrowserSession.filter(revoked_at__isnull=True).count() == 2
    # and: the session carries on from the shared successor
    onward = await client.http.post(
        "/auth/refresh", headers={"Cookie": f"casegraph_refresh={tab_b.cookies['casegraph_refresh']}"}
    )
    assert onward.status_code == 200


async def test_signing_out_ends_the_session_and_forgets_the_cookie(
    client: GraphQLClient, dispatcher: MailDispatcher, smtp: SmtpServer
) -> None:
    # given
    await sign_in_with(client, await mailed_link(client, dispatcher, smtp, "sara@example.org"))
    kept = client.http.cookies["casegraph_refresh"]
    # when
    out = await client.http.post("/auth/signout")
    # then
    assert out.status_code == 204 and 'casegraph_refresh=""' in out.headers["set-cookie"]
    replayed = await client.http.post("/auth/refresh", headers={"Cookie": f"casegraph_refresh={kept}"})
    assert replayed.status_code == 401


async def test_posts_from_another_site_are_refused_before_anything_happens(
    client: GraphQLClient, dispatcher: MailDispatcher, smtp: SmtpServer
) -> None:
    # given: a link (say, the attacker's own, to sign the victim in as the attacker)
    link = await mailed_link(client, dispatcher, smtp, "tom@example.org")
    token = urlsplit(link).query.removeprefix("token=")
    evil = {"Origin": "https://evil.example"}
    # when
    forced = await client.http.post("/signin/link", data={"token": token}, headers=evil)
    refresh = await client.http.post("/auth/refresh", headers=evil)
    # then
    assert forced.status_code == 403 and refresh.status_code == 403
    assert await User.filter(email="tom@example.org").count() == 0
    # and: the link still works from this site
    assert (await sign_in_with(client, link)).status_code == 303


async def test_without_a_cookie_there_is_no_session(client: GraphQLClient, world: World) -> None:
    assert (await refreshed(client)).status_code == 204
    assert (await client.http.post("/auth/signout")).status_code == 204


async def test_the_cookie_is_secure_when_the_portal_is_served_over_https(
    settings: Settings, clock: FakeClock, db: TortoiseContext, smtp: SmtpServer
) -> None:
    # given: the same server, its public address https
    secure = replace(settings, public_url="https://testserver")
    runtime = Runtime(settings=secure, verifier=TokenVerifier(secure), clock=clock)
    app = create_app(secure, manage_resources=False, runtime=runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as http:
        client = GraphQLClient(http, secure)
        link = await mailed_link(client, mail_dispatcher(secure, clock=clock), smtp, "uma@example.org")
        # when
        signed_in = await sign_in_with(client, link)
    # then
    assert signed_in.status_code == 303 and "Secure" in signed_in.headers["set-cookie"]


# --------------------------------------------------------------------------------------------
# Staff and sign-in links: with an identity provider, a mailbox is not enough for staff roles

IDENTITY_PROVIDER = "https://id.city.example"


@contextlib.asynccontextmanager
async def desk_with_identity_provider(
    settings: Settings, clock: FakeClock
) -> AsyncIterator[tuple[GraphQLClient, MailDispatcher]]:
    """The same server with CASEGRAPH_OIDC_ISSUER set, and its mail dispatcher."""
    configured = replace(settings, oidc=OidcProvider(issuer=IDENTITY_PROVIDER, client_id="casegraph"))
    runtime = Runtime(settings=configured, verifier=TokenVerifier(configured), clock=clock)
    app = create_app(configured, manage_resources=False, runtime=runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield GraphQLClient(http, configured), mail_dispatcher(configured, clock=clock)


async def test_with_an_identity_provider_staff_get_the_same_answer_and_a_mail_to_use_it(
    settings: Settings, clock: FakeClock, world: World, smtp: SmtpServer
) -> None:
    async with desk_with_identity_provider(settings, clock) as (client, dispatcher):
        # when: links are asked for with an agent's address and with a constituent's
        answers = [
            (await client.http.post("/graphql", json={"query": REQUEST % address})).json()
            for address in ("dana@example.org", "bob@example.org")
        ]
        await dispatcher.run_once()
    # then: the same answer for both (no account oracle) and a mail to each
    assert answers == [{"data": {"requestSignInLink": {"accepted": True}}}] * 2
    [staff_mail] = smtp.recorder.to("dana@example.org")
    [constituent_mail] = smtp.recorder.to("bob@example.org")
    # and: the agent's mail holds no link: it sends them to their organisation's sign-in
    assert str(staff_mail.message["Subject"]).strip() == "Sign in with your organisation's account"
    assert "/signin/link" not in staff_mail.text() and "/signin/link" not in staff_mail.html()
    assert "staff sign in with their organisation's account" in staff_mail.text()
    assert "http://testserver/" in staff_mail.text()
    # and: the constituent's holds their link as before
    assert "/signin/link?token=" in constituent_mail.text()


async def test_with_an_identity_provider_a_link_signs_no_staff_member_in(
    settings: Settings, clock: FakeClock, world: World, smtp: SmtpServer
) -> None:
    # given: a link for an agent's address (asked for before the identity provider was configured)
    async with desk_with_identity_provider(settings, clock) as (client, _):
        await sign_in.request_sign_in_link(
            email="dana@example.org",
            client="192.0.2.9",
            locale="en",
            now=clock(),
            signing_secret=settings.mail_signing_secret,
        )
        link = await SignInLink.get(email="dana@example.org")
        secret = sign_in.link_secret(settings.mail_signing_secret, str(link.id))
        # when: it is opened
        opened = await client.http.post("/signin/link", data={"token": secret})
    # then: refused with a page saying where staff sign in; no cookie, no session
    assert opened.status_code == 403 and "organisation" in opened.text
    assert "set-cookie" not in opened.headers
    assert await BrowserSession.filter(user_id="dana").count() == 0


async def test_without_an_identity_provider_a_link_signs_staff_in_with_their_roles(
    client: GraphQLClient, dispatcher: MailDispatcher, smtp: SmtpServer, world: World
) -> None:
    # given: no identity provider (the README's security notes say what this means)
    link = await mailed_link(client, dispatcher, smtp, "dana@example.org")
    # when
    signed_in = await sign_in_with(client, link)
    # then: the mailbox alone signs the agent in, with the agent's roles
    assert signed_in.status_code == 303
    access = (await refreshed(client)).json()["accessToken"]
    assert await client.data(ME, token=access) == {"me": {"id": "dana", "name": "Dana"}}
