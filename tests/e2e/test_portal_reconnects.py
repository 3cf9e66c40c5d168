"""The portal's live feed survives a server restart: the page reconnects by itself and catches up
on what changed meanwhile (the feed resumes `after` the last event it saw), without a reload.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import WebSocket, expect

from tests.e2e.conftest import E2EServer, Screens, running_e2e_server
from tests.e2e.portal_steps import file_case, sign_in_with_demo_user
from tests.e2e.world import act_as
from tests.live.support import run_sync

# Records every value the live-status pill takes, so a short outage cannot go unseen.
WATCH_LIVE_STATUS = """() => {
  const pill = document.querySelector('[data-testid="live-status"]');
  window.__statuses = [pill.dataset.status];
  new MutationObserver(() => window.__statuses.push(pill.dataset.status))
    .observe(pill, { attributes: true, attributeFilter: ["data-status"] });
}"""


@pytest.fixture
def server_under_test(tmp_path: Path) -> Iterator[E2EServer]:
    """A server of this test's own: it gets restarted (SQLite file: same data after the restart)."""
    with running_e2e_server("sqlite", tmp_path / "server") as server:
        yield server


def test_portal_catches_up_after_the_server_restarts(
    open_window: Any, server_under_test: E2EServer, screens: Screens
) -> None:
    server = server_under_test
    window = open_window("constituent")
    # While the server is down the browser logs its failed attempts to reconnect.
    window.allow(r"WebSocket connection to .* failed")
    page = window.page
    subscribes: list[dict[str, Any]] = []

    def watch_socket(socket: WebSocket) -> None:
        def sent(payload: str | bytes) -> None:
            message = json.loads(payload)
            if message.get("type") == "subscribe":
                subscribes.append(message["payload"])

        socket.on("framesent", sent)

    page.on("websocket", watch_socket)
    sign_in_with_demo_user(window, "alice")
    marker = window.set_marker()
    case_id, _ = file_case(window, "Bin not collected", "Blue bin, Elm Street, since Monday.")
    row = page.locator(f'[data-testid="my-case"][data-case-id="{case_id}"]')
    run_sync(lambda: act_as(server.url, "dana", "assignToMe", {"caseId": case_id}))
    expect(row).to_have_attribute("data-status", "OPEN")  # an event seen: the point to resume from
    page.evaluate(WATCH_LIVE_STATUS)

    server.restart()
    # Changed right after the restart, typically before the page is back (it retries with backoff):
    # the page learns of it from the replay, or live if it was quicker.
    run_sync(lambda: act_as(server.url, "dana", "requestInfo", {"caseId": case_id, "question": "Which number?"}))

    expect(row).to_have_attribute("data-status", "AWAITING_INFO")
    expect(page.get_by_test_id("info-request")).to_contain_text("Which number?")
    expect(page.get_by_test_id("live-status")).to_have_text("live")
    statuses = page.evaluate("() => window.__statuses")
    assert "offline" in statuses and statuses[-1] == "live", statuses
    # First subscribed from the start, then again after the restart from the last event seen.
    feeds = [payload["variables"] for payload in subscribes if "PortalFeed" in payload["query"]]
    assert len(feeds) == 2, feeds
    assert feeds[0].get("after") is None and feeds[1]["after"], feeds
    screens.shoot("caught up after restart")
    assert window.marker() == marker
