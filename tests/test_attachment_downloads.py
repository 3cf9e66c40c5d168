"""Downloads by plain link (issue 18): a browser that signed in fetches a file with an ``<img src>``
or an ``<a href>`` through the download cookie, and every download asks again who is asking now
(session not ended, user active, roles as the user's row says) and whether the link is theirs."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from casegraph.domain import lifecycle as lc
from casegraph.download_cookie import COOKIE, DownloadPass, encode
from casegraph.services.sign_in import start_session
from casegraph.settings import Settings
from models import User
from tests.graphql.test_attachments import attach, photo_with_gps
from tests.helpers import FakeClock, GraphQLClient, World, insert_case


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return dataclasses.replace(settings, attachments_dir=str(tmp_path / "attachments"))


async def signed_in_browser(client: GraphQLClient, user_id: str, clock: FakeClock) -> str:
    """A browser session of the user, as after the mailed link: the refresh cookie traded for an
    access token (which also leaves the download cookie in the client's jar). Returns the token."""
    session = await start_session(await User.get(id=user_id), family=uuid.uuid4(), now=clock())
    refreshed = await client.http.post(
        "/auth/refresh", headers={"Cookie": f"casegraph_refresh={session.refresh_token}"}
    )
    assert refreshed.status_code == 200, refreshed.text
    token: str = refreshed.json()["accessToken"]
    return token


def plain(client: GraphQLClient, url: str, cookie: str | None = None) -> httpx.Request:
    """A GET as a browser sends it for an <img src> or a link: no Authorization header."""
    headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie is not None else {}
    return client.http.build_request("GET", url, headers=headers)


async def test_a_browser_that_signed_in_fetches_a_file_and_its_thumbnail_by_plain_link(
    client: GraphQLClient, world: World, clock: FakeClock
) -> None:
    # given: alice signed in in her browser, and her photo on her case
    case = await insert_case(world, state=lc.INTAKE_NEW)
    token = await signed_in_browser(client, "alice", clock)
    attachment = (await attach(client, token, case_id=case.id, content=photo_with_gps()))["attachment"]
    # when: the page shows the thumbnail and the file by their links alone
    thumbnail = await client.http.get(attachment["thumbnailUrl"])
    original = await client.http.get(attachment["url"])
    # then
    assert thumbnail.status_code == 200 and thumbnail.headers["content-disposition"].startswith("inline")
    assert original.status_code == 200 and len(original.content) == attachment["size"]


async def test_the_download_cookie_is_httponly_strict_and_only_for_file_requests(
    client: GraphQLClient, world: World, clock: FakeClock
) -> None:
    # given
    session = await start_session(await User.get(id="alice"), family=uuid.uuid4(), now=clock())
    # when
    refreshed = await client.http.post(
        "/auth/refresh", headers={"Cookie": f"casegraph_refresh={session.refresh_token}"}
    )
    # then
    cookies = [value for key, value in refreshed.headers.multi_items() if key == "set-cookie"]
    files = next(cookie for cookie in cookies if cookie.startswith(f"{COOKIE}="))
    assert "HttpOnly" in files and "SameSite=strict" in files and "Path=/attachments" in files
    assert session.refresh_token not in files


async def test_after_signing_out_neither_the_old_access_token_nor_the_cookie_downloads(
    client: GraphQLClient, world: World, clock: FakeClock
) -> None:
    # given: alice's file, fetched once by her browser; the cookie and access token kept aside
    case = await insert_case(world, state=lc.INTAKE_NEW)
    token = await signed_in_browser(client, "alice", clock)
    attachment = (await attach(client, token, case_id=case.id, content=b"A letter.\n", filename="l.txt"))["attachment"]
    kept = client.http.cookies[COOKIE]
    assert (await client.http.get(attachment["url"])).status_code == 200
    # when: she signs out
    out = await client.http.post("/auth/signout")
    # then: the cookie is cleared, and neither it (replayed) nor the old token fetch the file
    assert out.status_code == 204 and f'{COOKIE}=""' in out.headers["set-cookie"]
    by_cookie = await client.http.send(plain(client, attachment["url"], kept))
    by_token = await client.http.get(attachment["url"], headers={"Authorization": f"Bearer {token}"})
    assert by_cookie.status_code == 401 and by_token.status_code == 401


async def test_a_link_opened_in_another_persons_signed_in_browser_is_refused(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock
) -> None:
    # given: alice's file and its link
    case = await insert_case(world, state=lc.INTAKE_NEW)
    alice = world.token(settings, "requester")
    attachment = (await attach(client, alice, case_id=case.id, content=b"A letter.\n", filename="l.txt"))["attachment"]
    # when: bob, signed in in his own browser, opens it
    await signed_in_browser(client, "bob", clock)
    opened = await client.http.get(attachment["url"])
    # then
    assert opened.status_code == 403
    assert opened.json()["error"]["code"] == "LINK_INVALID"


async def test_a_deactivated_users_cookie_stops_at_once(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock
) -> None:
    # given: an agent signed in with a pasted token, whose page asked for the download cookie
    case = await insert_case(world, state=lc.INTAKE_NEW)
    dana = world.token(settings, "agent")
    attachment = (await attach(client, dana, case_id=case.id, content=b"Site notes.\n", filename="n.txt"))["attachment"]
    granted = await client.http.post("/attachments/session", headers={"Authorization": f"Bearer {dana}"})
    assert granted.status_code == 204
    assert (await client.http.get(attachment["url"])).status_code == 200
    # when: she is deactivated
    await User.filter(id="dana").update(active=False)
    # then
    assert (await client.http.get(attachment["url"])).status_code == 401


async def test_roles_are_the_users_current_ones_at_each_download(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock
) -> None:
    # given: an internal file, and the agent's download cookie
    case = await insert_case(world, state=lc.INTAKE_NEW)
    dana = world.token(settings, "agent")
    payload = await attach(client, dana, case_id=case.id, content=b"Staff only.\n", filename="s.txt", internal=True)
    await client.http.post("/attachments/session", headers={"Authorization": f"Bearer {dana}"})
    assert (await client.http.get(payload["attachment"]["url"])).status_code == 200
    # when: she is no longer staff
    await User.filter(id="dana").update(roles=["CONSTITUENT"])
    # then: the same cookie and link no longer reach a staff-only file
    assert (await client.http.get(payload["attachment"]["url"])).status_code in (403, 404)


async def test_a_cookie_the_server_did_not_sign_or_that_expired_is_refused(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock
) -> None:
    # given: alice's file
    case = await insert_case(world, state=lc.INTAKE_NEW)
    alice = world.token(settings, "requester")
    attachment = (await attach(client, alice, case_id=case.id, content=b"A letter.\n", filename="l.txt"))["attachment"]
    until = int((clock() + timedelta(hours=1)).timestamp())
    forged = encode(dataclasses.replace(settings, jwt_secret="x" * 40), DownloadPass("alice", None, until))
    expired = encode(settings, DownloadPass("alice", None, int((clock() - timedelta(seconds=1)).timestamp())))
    good = encode(settings, DownloadPass("alice", None, until))
    # when
    answers = [await client.http.send(plain(client, attachment["url"], cookie)) for cookie in (forged, expired, None)]
    # then: only a cookie signed here and still in its time counts
    assert [answer.status_code for answer in answers] == [401, 401, 401]
    assert (await client.http.send(plain(client, attachment["url"], good))).status_code == 200


async def test_a_download_cookie_is_not_given_to_a_request_from_another_site_or_without_a_token(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    alice = world.token(settings, "requester")
    # when
    cross_site = await client.http.post(
        "/attachments/session", headers={"Authorization": f"Bearer {alice}", "Origin": "https://evil.example"}
    )
    anonymous = await client.http.post("/attachments/session")
    # then
    assert cross_site.status_code == 403 and anonymous.status_code == 401
    assert COOKIE not in client.http.cookies
