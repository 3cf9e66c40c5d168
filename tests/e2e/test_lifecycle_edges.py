"""The life cycle at its edges in the browser (issue 14, §6): the portal shows how a closed request
ended, and the agent dashboard offers no button the server would refuse.

The requester sees the outcome of a closed case: the accepted solution's code and notes, or the
notes an agent wrote when closing it; her timeline keeps every proposal, rejected ones included. On the dashboard, an agent of the case's group who is not its
assignee may only add notes: no "Edit details…" form, no referral form; the assignee gets both.
Every wait is Playwright's auto-waiting ``expect`` on the page as it is, never a reload.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import E2EServer, Screens
from tests.e2e.portal_steps import file_case, sign_in_with_demo_user
from tests.e2e.test_agent_and_constituent import sign_in
from tests.e2e.world import CASE_TYPE, act_as
from tests.live.support import run_sync

CLOSING_NOTES = "We replaced the missing sign on Elm Street this morning."
FIRST_PROPOSAL = "Print the permit from the PDF we e-mailed you."
SOLUTION = "Your parking permit was re-issued: it is in the post."


def test_the_portal_shows_how_a_closed_request_ended(open_window: Any, e2e_server: E2EServer, screens: Screens) -> None:
    # given: alice follows two of her requests in the portal
    window = open_window("constituent")
    sign_in_with_demo_user(window, "alice")
    marker = window.set_marker()
    page = window.page
    base = e2e_server.url
    closed_id, _ = file_case(window, "A street sign is missing", "At the corner of Elm and 5th.")
    detail = page.get_by_test_id("case-detail")

    # when: the agent closes the first with notes (no solution was proposed)
    run_sync(lambda: act_as(base, "dana", "assignToMe", {"caseId": closed_id}))
    run_sync(lambda: act_as(base, "dana", "closeCase", {"caseId": closed_id, "resolutionNotes": CLOSING_NOTES}))

    # then: she sees it closed, and why, live
    expect(detail.get_by_test_id("case-status")).to_have_attribute("data-status", "CLOSED")
    outcome = detail.get_by_test_id("case-outcome")
    expect(outcome.get_by_test_id("outcome-notes")).to_have_text(CLOSING_NOTES)
    expect(outcome.get_by_test_id("outcome-code")).to_have_count(0)
    screens.shoot("closed by staff, with notes")

    # when: a second request gets a first solution she rejects, then one she accepts
    accepted_id, _ = file_case(window, "My parking permit did not arrive", "Applied three weeks ago.")
    run_sync(lambda: act_as(base, "dana", "assignToMe", {"caseId": accepted_id}))
    run_sync(
        lambda: act_as(
            base,
            "dana",
            "proposeSolution",
            {"caseId": accepted_id, "resolutionCode": "SOLVED_WORKAROUND", "resolutionNotes": FIRST_PROPOSAL},
        )
    )
    page.get_by_test_id("reject-reason").fill("I have no printer.")
    page.get_by_test_id("reject-solution").click()
    expect(detail.get_by_test_id("case-status")).to_have_attribute("data-status", "OPEN")
    run_sync(
        lambda: act_as(
            base,
            "dana",
            "proposeSolution",
            {"caseId": accepted_id, "resolutionCode": "SOLVED", "resolutionNotes": SOLUTION},
        )
    )
    page.get_by_test_id("solution").get_by_test_id("accept-solution").click()

    # then: the closed case keeps showing the solution she accepted
    expect(detail.get_by_test_id("case-status")).to_have_attribute("data-status", "CLOSED")
    expect(detail.get_by_test_id("outcome-code")).to_have_attribute("data-code", "SOLVED")
    expect(detail.get_by_test_id("outcome-notes")).to_have_text(SOLUTION)
    # and: her timeline still tells both proposals, the rejected one included
    proposals = detail.locator('[data-testid="timeline-item"][data-action="PROPOSE_SOLUTION"]')
    expect(proposals.get_by_test_id("timeline-outcome")).to_have_count(2)
    expect(proposals.nth(0)).to_contain_text(FIRST_PROPOSAL)
    expect(proposals.nth(1)).to_contain_text(SOLUTION)
    screens.shoot("accepted solution kept, the rejected one in the timeline")
    assert window.marker() == marker


def test_the_dashboard_offers_a_group_agent_only_what_the_server_lets_him_do(
    open_window: Any, e2e_server: E2EServer, screens: Screens
) -> None:
    # given: alice's case, taken by dana; eli is another agent of the same group
    base = e2e_server.url
    case = run_sync(
        lambda: act_as(
            base,
            "alice",
            "createCase",
            {"caseTypeCode": CASE_TYPE, "title": "Bins were not collected", "description": "Since Monday."},
        )
    )
    case_id = str(case["id"])
    run_sync(lambda: act_as(base, "dana", "assignToMe", {"caseId": case_id}))
    helper, owner = open_window("group-agent"), open_window("assignee")
    sign_in(helper, "/", "eli")
    sign_in(owner, "/", "dana")

    # when: each opens the case
    views = {}
    for window in (helper, owner):
        window.page.locator(f'[data-testid="queue-row"][data-case-id="{case_id}"]').click()
        views[window.name] = window.page.get_by_test_id("case-view")
        expect(views[window.name]).to_have_attribute("data-case-id", case_id)
        expect(views[window.name].get_by_test_id("case-status")).to_have_attribute("data-status", "OPEN")

    # then: eli may add comments and work notes, but gets no edit form and no referral form
    eli = views[helper.name]
    expect(eli.get_by_test_id("comment-text")).to_be_enabled()
    expect(eli.get_by_test_id("work-note-text")).to_be_enabled()
    expect(eli.get_by_test_id("action-UPDATE")).to_have_count(0)
    expect(eli.get_by_test_id("refer-form")).to_be_hidden()
    screens.shoot("group agent: notes only")

    # and: dana, the assignee, gets both, and her edit form holds every field she may change
    dana = views[owner.name]
    expect(dana.get_by_test_id("refer-form")).to_be_visible()
    dana.get_by_test_id("action-UPDATE").click()
    form = dana.get_by_test_id("action-form")
    for field in ("title", "description", "impact", "urgency", "contactEmail", "contactPhone"):
        expect(form.get_by_test_id(f"input-{field}")).to_be_visible()
    screens.shoot("assignee: edit and refer")
