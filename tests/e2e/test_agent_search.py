"""Issue 19's search in headless Chromium: an agent finds a constituent's case from the queue's
search box by a word of its description and by a word of a comment, and a typed case number
opens the case; the constituent's "My requests" search finds their own requests the same way."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, expect

from tests.e2e.conftest import E2EServer, Screens, Window
from tests.e2e.portal_steps import file_case
from tests.e2e.world import E2EWorld, act_as
from tests.live.support import run_sync


def sign_in(window: Window, path: str, user_id: str) -> None:
    page = window.page
    page.goto(path)
    page.locator(f'[data-testid="dev-user"][data-user-id="{user_id}"]').click()
    expect(page.get_by_test_id("signed-in-as")).to_have_text(E2EWorld.name(user_id))
    expect(page.get_by_test_id("live-status")).to_have_text("live")


def test_an_agent_finds_a_case_by_a_word_of_its_description_or_a_comment_and_by_its_number(
    open_window: Any, e2e_server: E2EServer, screens: Screens
) -> None:
    # given: two cases a constituent filed, and a comment on the first
    constituent, agent = open_window("constituent"), open_window("agent")
    sign_in(constituent, "/portal", "alice")
    sign_in(agent, "/", "dana")
    gate_id, gate_number = file_case(constituent, "Broken gate", "The hinge snapped off in the wind.")
    pump_id, _ = file_case(constituent, "Noisy pump", "It hums all night long.")
    base = e2e_server.url
    run_sync(lambda: act_as(base, "dana", "assignToMe", {"caseId": gate_id}))
    run_sync(lambda: act_as(base, "dana", "updateCase", {"caseId": gate_id, "comment": "A welder comes Thursday."}))
    desk = agent.page
    search = desk.get_by_test_id("filter-search")

    def row(case_id: str) -> Locator:
        found: Locator = desk.locator(f'[data-testid="queue-row"][data-case-id="{case_id}"]')
        return found

    # when / then: a word of the description finds the gate only
    search.fill("hinge")
    expect(row(gate_id)).to_be_visible()
    expect(row(pump_id)).to_have_count(0)
    screens.shoot("found by a word of the description")
    # a word of the comment too
    search.fill("welder")
    expect(row(gate_id)).to_be_visible()
    expect(row(pump_id)).to_have_count(0)
    # a word of the other case finds that one
    search.fill("hums")
    expect(row(pump_id)).to_be_visible()
    expect(row(gate_id)).to_have_count(0)
    # the case number, typed exactly, opens the case
    search.fill(gate_number)
    expect(desk.get_by_test_id("case-view")).to_have_attribute("data-case-id", gate_id)
    screens.shoot("a typed number opens the case")

    # and: the constituent's "My requests" search has the same semantics, over their own requests
    portal = constituent.page
    mine = portal.get_by_test_id("my-case")
    portal.get_by_test_id("cases-search").fill("welder")
    expect(mine).to_have_count(1)
    expect(mine.first).to_have_attribute("data-case-id", gate_id)
    portal.get_by_test_id("cases-search").fill("hums")
    expect(mine).to_have_count(1)
    expect(mine.first).to_have_attribute("data-case-id", pump_id)
    portal.get_by_test_id("cases-search").fill("nothing like this")
    expect(portal.get_by_test_id("cases-none")).to_be_visible()
    portal.get_by_test_id("cases-search").fill("")
    expect(mine).to_have_count(2)
