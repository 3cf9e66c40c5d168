"""Issue 6's scenario in headless Chromium: a constituent on /portal and an agent on / in two
browser contexts, each step of one seen live in the other window, with no reload.

The constituent files a case; it appears in the agent's queue. The agent takes it and asks a
question; the constituent sees the question and answers; the agent sees the case open again with
the answer. The agent proposes a solution; the constituent accepts it and rates the service; the
agent sees the case closed and the survey in its history.

"Without reload" is checked twice: every wait is Playwright's auto-waiting ``expect`` on the page
as it is (never a reload or a new navigation), and a marker put on ``window`` at the start is
still there at the end. Status hooks: the agent's ``case-status`` and the portal's show plain words
(lib/labels.js) and carry the enum value in ``data-status`` (see test_portal.py).
"""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import E2EServer, Screens, Window
from tests.e2e.world import SERVICE, E2EWorld

QUESTION = "Which office did you visit, and on what day?"
ANSWER = "The town hall on Main Street, last Tuesday."
SOLUTION = "Your certificate is ready: collect it at the town hall, desk 4."
SURVEY_COMMENT = "Quick and clear, thank you."


def sign_in(window: Window, path: str, user_id: str) -> str:
    """Open the app, pick the demo person, wait until live; returns the window marker."""
    page = window.page
    page.goto(path)
    page.locator(f'[data-testid="dev-user"][data-user-id="{user_id}"]').click()
    expect(page.get_by_test_id("signed-in-as")).to_have_text(E2EWorld.name(user_id))
    expect(page.get_by_test_id("live-status")).to_have_text("live")
    return window.set_marker()


def run_action(page: Page, action: str, **inputs: str) -> None:
    """Click the agent's action button; fill and submit its form when it has inputs."""
    page.get_by_test_id(f"action-{action}").click()
    if not inputs:
        return
    form = page.get_by_test_id("action-form")
    for name, value in inputs.items():
        control = form.get_by_test_id(f"input-{name}")
        if control.evaluate("(element) => element.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    form.get_by_test_id("action-submit").click()


def test_agent_and_constituent_see_each_other_live(open_window: Any, e2e_server: E2EServer, screens: Screens) -> None:
    started = time.monotonic()
    constituent = open_window("constituent")
    agent = open_window("agent")
    portal, desk = constituent.page, agent.page
    markers = {constituent.name: sign_in(constituent, "/portal", "alice"), agent.name: sign_in(agent, "/", "dana")}
    expect(desk.get_by_test_id("queue")).to_be_visible()
    screens.shoot("signed in")

    # 1. The constituent files a case: it appears in the agent's queue by itself.
    portal.locator(f'[data-testid="service"][data-code="{SERVICE}"]').click()
    form = portal.get_by_test_id("file-form")
    form.get_by_test_id("input-title").fill("Birth certificate copy")
    form.get_by_test_id("input-description").fill("I need a certified copy for my passport application.")
    form.get_by_test_id("file-submit").click()
    detail = portal.get_by_test_id("case-detail")
    expect(detail.get_by_test_id("case-status")).to_have_attribute("data-status", "NEW")
    case_id = detail.get_attribute("data-case-id")
    assert case_id
    my_case = portal.locator(f'[data-testid="my-case"][data-case-id="{case_id}"]')
    expect(my_case).to_have_attribute("data-status", "NEW")

    row = desk.locator(f'[data-testid="queue-row"][data-case-id="{case_id}"]')
    expect(row).to_have_attribute("data-status", "NEW")
    expect(row).to_contain_text("Birth certificate copy")
    screens.shoot("case filed, in the agent's queue")

    # 2. The agent opens it and takes it.
    row.click()
    view = desk.get_by_test_id("case-view")
    expect(view).to_have_attribute("data-case-id", case_id)
    run_action(desk, "ASSIGN_TO_ME")
    expect(view.get_by_test_id("case-status")).to_have_attribute("data-status", "OPEN")
    expect(view.get_by_test_id("case-assignee")).to_contain_text("Dana Desk")
    expect(my_case).to_have_attribute("data-status", "OPEN")
    expect(detail.get_by_test_id("case-status")).to_have_attribute("data-status", "OPEN")
    screens.shoot("agent took the case")

    # 3. The agent asks a question: the constituent sees it and answers.
    run_action(desk, "REQUEST_INFO", question=QUESTION)
    expect(view.get_by_test_id("case-status")).to_have_attribute("data-status", "AWAITING_INFO")
    info_request = portal.get_by_test_id("info-request")
    expect(info_request).to_contain_text(QUESTION)
    expect(detail.get_by_test_id("case-status")).to_have_attribute("data-status", "AWAITING_INFO")
    expect(my_case).to_have_attribute("data-status", "AWAITING_INFO")
    screens.shoot("question asked")

    info_request.get_by_test_id("answer-text").fill(ANSWER)
    info_request.get_by_test_id("answer-submit").click()
    expect(detail.get_by_test_id("case-status")).to_have_attribute("data-status", "OPEN")
    expect(portal.get_by_test_id("info-request")).to_have_count(0)

    # 4. The agent sees the case open again, and the answer.
    expect(view.get_by_test_id("case-status")).to_have_attribute("data-status", "OPEN")
    expect(view.get_by_test_id("comments").get_by_test_id("comment").last).to_contain_text(ANSWER)
    expect(row).to_have_attribute("data-status", "OPEN")
    screens.shoot("question answered")

    # 5. The agent proposes a solution: the constituent sees it and accepts.
    run_action(desk, "PROPOSE_SOLUTION", resolutionCode="SOLVED", resolutionNotes=SOLUTION)
    expect(view.get_by_test_id("case-status")).to_have_attribute("data-status", "RESOLVED")
    solution = portal.get_by_test_id("solution")
    expect(solution).to_contain_text(SOLUTION)
    expect(my_case).to_have_attribute("data-status", "RESOLVED")
    screens.shoot("solution proposed")

    solution.get_by_test_id("accept-solution").click()
    survey = portal.get_by_test_id("survey")
    expect(detail.get_by_test_id("case-status")).to_have_attribute("data-status", "CLOSED")
    expect(view.get_by_test_id("case-status")).to_have_attribute("data-status", "CLOSED")
    screens.shoot("solution accepted")

    # 6. The constituent rates the service: the agent sees the survey in the case's history.
    survey.get_by_test_id("survey-rating-5").check()
    survey.get_by_test_id("survey-comment").fill(SURVEY_COMMENT)
    survey.get_by_test_id("survey-submit").click()
    expect(portal.get_by_test_id("survey-thanks")).to_contain_text("5 out of 5")
    expect(portal.get_by_test_id("survey")).to_have_count(0)

    history = view.get_by_test_id("history")
    expect(history.locator('[data-testid="history-item"][data-action="SUBMIT_SURVEY"]')).to_have_count(1)
    expect(history.get_by_test_id("history-item").last).to_have_attribute("data-action", "SUBMIT_SURVEY")
    expect(view.get_by_test_id("case-status")).to_have_attribute("data-status", "CLOSED")
    # A closed case leaves the default queue (open cases), or shows as closed: never as open.
    expect(desk.locator(f'[data-testid="queue-row"][data-case-id="{case_id}"][data-status="RESOLVED"]')).to_have_count(
        0
    )
    screens.shoot("survey submitted")

    # Neither page was ever reloaded.
    assert {constituent.name: constituent.marker(), agent.name: agent.marker()} == markers
    print(f"scenario on {e2e_server.backend}: {time.monotonic() - started:.1f}s")
