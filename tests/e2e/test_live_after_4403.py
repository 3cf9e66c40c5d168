"""The pages and a socket the server closes with 4403: reconnect once, refuse only if refused again.

The server closes a live socket with 4403 when its token expires or its user loses a group
(issue 14 §1), and expects the client to reconnect and resume with ``after``. The pages took
every 4403 as final ("Your sign-in was refused") and stopped their live updates. Now the client
reconnects once with its current token: the dashboard of an agent who lost a group carries on
live, and the portal whose token expired shows the refusal once that reconnect is refused too.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from playwright.sync_api import WebSocket, expect

from casegraph.auth import LEEWAY_SECONDS, issue_token
from casegraph.domain.enums import Role
from casegraph.settings import DEV_SECRET, Settings
from tests.e2e.conftest import E2EServer, Screens
from tests.e2e.test_agent_and_constituent import sign_in
from tests.e2e.world import CASE_TYPE, E2EWorld, act_as, token
from tests.live.support import GraphQLHttp, run_sync

# The portal's token stays valid this long after the page loads with it.
STILL_VALID_FOR = 8
CLOSE_TIMEOUT_MS = (STILL_VALID_FOR + 15) * 1000


def count_sockets(page: Any) -> list[str]:
    """Every WebSocket the page opens, by URL, from now on."""
    opened: list[str] = []

    def on_socket(socket: WebSocket) -> None:
        opened.append(socket.url)

    page.on("websocket", on_socket)
    return opened


async def membership(base_url: str, group: str, who: str, *, member: bool) -> None:
    admin = token("ada")
    async with GraphQLHttp(base_url) as gql:
        if member:
            await gql.mutate(
                "createAssignmentGroup", {"code": group, "name": group.title()}, "assignmentGroup { code }", token=admin
            )
            await gql.mutate(
                "addGroupMember",
                {"groupCode": group, "userId": who, "isManager": False},
                "member { user { id } }",
                token=admin,
            )
        else:
            await gql.mutate(
                "removeGroupMember", {"groupCode": group, "userId": who}, "assignmentGroup { code }", token=admin
            )


def test_the_dashboard_of_an_agent_who_lost_a_group_reconnects_and_stays_live(
    open_window: Any, e2e_server: E2EServer, screens: Screens
) -> None:
    base = e2e_server.url
    group = f"SIDE{uuid.uuid4().hex[:6].upper()}"
    # given: dana in the help desk and in a second group, her dashboard live
    run_sync(lambda: membership(base, group, "dana", member=True))
    window = open_window("agent")
    page = window.page
    sockets = count_sockets(page)
    marker = sign_in(window, "/", "dana")
    assert len(sockets) == 1
    # when: she leaves the second group (the server closes her socket with 4403)
    run_sync(lambda: membership(base, group, "dana", member=False))
    # then: the page reconnects with its token, and its help desk queue carries on live
    case = run_sync(
        lambda: act_as(
            base,
            "alice",
            "createCase",
            {
                "caseTypeCode": CASE_TYPE,
                "title": "Asked after the reconnect",
                "submit": True,
            },
        )
    )
    expect(page.locator(f'[data-testid="queue-row"][data-case-id="{case["id"]}"]')).to_be_visible()
    expect(page.get_by_test_id("live-status")).to_have_text("live")
    expect(page.get_by_test_id("error-banner")).to_be_hidden()
    assert len(sockets) == 2, sockets
    screens.shoot("live after losing a group")
    assert window.marker() == marker


def test_the_portal_shows_the_refusal_only_when_its_reconnect_is_refused_too(
    open_window: Any, e2e_server: E2EServer, screens: Screens
) -> None:
    # given: alice on the portal with a token the server accepts a few seconds more
    expiring = issue_token(
        Settings(jwt_secret=DEV_SECRET),
        sub="alice",
        roles=[Role.CONSTITUENT],
        name=E2EWorld.name("alice"),
        email="alice@example.org",
        ttl=timedelta(seconds=STILL_VALID_FOR - LEEWAY_SECONDS),
    )
    window = open_window("constituent")
    page = window.page
    page.goto("/portal")
    page.evaluate("(token) => window.localStorage.setItem('casegraph.token.portal', token)", expiring)
    sockets = count_sockets(page)
    page.reload()
    expect(page.get_by_test_id("live-status")).to_have_text("live")
    # when: the token expires (the server closes the socket with 4403)
    # then: the page tried once more with its token, and shows the refusal when that is refused
    expect(page.get_by_test_id("error-banner")).to_contain_text("Your sign-in was refused", timeout=CLOSE_TIMEOUT_MS)
    assert len(sockets) == 2, sockets
    screens.shoot("refused after the reconnect")
