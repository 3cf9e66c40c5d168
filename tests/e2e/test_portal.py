"""The constituent portal (/portal) in a real browser: signing in and out, refusals shown where
they belong, and a case moved by staff (over the API) changing on screen without a reload.

Portal hooks (see the front-end contract): ``case-status`` shows a plain-language label (e.g.
"Waiting for your answer") and carries the enum value in ``data-status``; ``my-case`` items and
``case-detail`` carry ``data-status`` too. Tests assert on the attributes.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import E2EServer, Screens
from tests.e2e.portal_steps import file_case, sign_in_with_demo_user
from tests.e2e.world import CASE_TYPE, SERVICE, act_as
from tests.live.support import run_sync


def test_constituent_signs_in_with_a_pasted_token_and_out_again(
    open_window: Any, e2e_server: E2EServer, screens: Screens
) -> None:
    window = open_window("constituent")
    page = window.page
    page.goto("/portal")
    page.get_by_test_id("login-token").fill(e2e_server.world.tokens["alice"])
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("signed-in-as")).to_have_text("Alice Example")
    expect(page.get_by_test_id("live-status")).to_have_text("live")
    expect(page.locator(f'[data-testid="service"][data-code="{SERVICE}"]')).to_be_visible()
    expect(page.get_by_test_id("my-cases")).not_to_have_attribute("aria-busy", "true")
    screens.shoot("signed in")

    page.reload()  # the token is remembered (in this browser only)
    expect(page.get_by_test_id("signed-in-as")).to_have_text("Alice Example")

    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("login-token")).to_be_visible()
    expect(page.get_by_test_id("signed-in-as")).to_be_hidden()
    page.reload()
    expect(page.get_by_test_id("login-token")).to_be_visible()
    screens.shoot("signed out")


def test_a_token_that_is_not_accepted_is_explained_on_the_sign_in_screen(open_window: Any, screens: Screens) -> None:
    window = open_window("constituent")
    # Chromium logs the server's refusal itself; that one is expected here.
    window.allow(r"status of 401 \(Unauthorized\)")
    page = window.page
    page.goto("/portal")
    page.get_by_test_id("login-token").fill("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.forged")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("form-error")).to_contain_text("not accepted")
    expect(page.get_by_test_id("signed-in-as")).to_be_hidden()
    screens.shoot("refused token")


def test_staff_tokens_are_sent_to_the_agent_dashboard(open_window: Any, e2e_server: E2EServer) -> None:
    page = open_window("agent-on-portal").page
    page.goto("/portal")
    expect(page.locator('[data-testid="dev-user"]')).to_have_count(1)  # constituents only: alice
    page.get_by_test_id("login-token").fill(e2e_server.world.tokens["dana"])
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("form-error")).to_contain_text("agent dashboard")


def test_a_refused_field_is_shown_next_to_it(open_window: Any, screens: Screens) -> None:
    window = open_window("constituent")
    sign_in_with_demo_user(window, "alice")
    page = window.page
    page.locator(f'[data-testid="service"][data-code="{SERVICE}"]').click()
    page.get_by_test_id("input-title").fill("   ")  # the browser accepts it; the server trims it away
    page.get_by_test_id("file-submit").click()
    expect(page.locator('.field-error[data-field="title"]')).not_to_be_empty()
    expect(page.get_by_test_id("file-form").get_by_test_id("form-error")).not_to_be_empty()
    expect(page.get_by_test_id("file-submit")).to_be_enabled()
    screens.shoot("title refused")

    # Corrected, the same form files the case (with a fresh idempotency key).
    page.get_by_test_id("input-title").fill("Opening hours of the town hall")
    page.get_by_test_id("file-submit").click()
    expect(page.get_by_test_id("case-detail").get_by_test_id("case-status")).to_have_attribute("data-status", "NEW")


def test_constituent_rejects_a_proposed_solution_live(
    open_window: Any, e2e_server: E2EServer, screens: Screens
) -> None:
    window = open_window("constituent")
    sign_in_with_demo_user(window, "alice")
    marker = window.set_marker()
    page = window.page
    case_id, _ = file_case(window, "My parking permit did not arrive", "Applied three weeks ago.")
    row = page.locator(f'[data-testid="my-case"][data-case-id="{case_id}"]')
    detail = page.get_by_test_id("case-detail")

    # Staff act from elsewhere (the API): the portal follows without a reload.
    base = e2e_server.url
    run_sync(lambda: act_as(base, "dana", "assignToMe", {"caseId": case_id}))
    expect(row).to_have_attribute("data-status", "OPEN")
    expect(detail.get_by_test_id("case-status")).to_have_attribute("data-status", "OPEN")
    run_sync(
        lambda: act_as(
            base,
            "dana",
            "proposeSolution",
            {
                "caseId": case_id,
                "resolutionCode": "SOLVED_WORKAROUND",
                "resolutionNotes": "Print the PDF we emailed you.",
            },
        )
    )
    solution = page.get_by_test_id("solution")
    expect(solution).to_contain_text("Print the PDF we emailed you.")
    expect(solution.get_by_test_id("solution-code")).to_have_attribute("data-code", "SOLVED_WORKAROUND")
    expect(row).to_have_attribute("data-status", "RESOLVED")
    screens.shoot("solution proposed")

    page.get_by_test_id("reject-reason").fill("I have no printer.")
    page.get_by_test_id("reject-solution").click()
    expect(detail.get_by_test_id("case-status")).to_have_attribute("data-status", "OPEN")
    expect(page.get_by_test_id("solution")).to_have_count(0)
    expect(detail.get_by_test_id("comments").get_by_test_id("comment").last).to_contain_text("I have no printer.")
    expect(row).to_have_attribute("data-status", "OPEN")
    screens.shoot("solution rejected")
    assert window.marker() == marker


def test_constituent_sends_a_draft_and_then_withdraws_the_request(
    open_window: Any, e2e_server: E2EServer, screens: Screens
) -> None:
    # A draft saved elsewhere (another client) shows up in the portal, which can send it.
    base = e2e_server.url
    draft = run_sync(
        lambda: act_as(
            base,
            "alice",
            "createCase",
            {
                "caseTypeCode": CASE_TYPE,
                "title": "Noise from the building site",
                "submit": False,
            },
        )
    )
    window = open_window("constituent")
    sign_in_with_demo_user(window, "alice")
    page = window.page
    row = page.locator(f'[data-testid="my-case"][data-case-id="{draft["id"]}"]')
    expect(row).to_have_attribute("data-status", "DRAFT")
    row.click()
    detail = page.get_by_test_id("case-detail")
    expect(detail.get_by_test_id("case-stage")).to_have_attribute("data-stage", "DRAFT")
    screens.shoot("draft")
    detail.get_by_test_id("submit-draft").click()
    expect(detail.get_by_test_id("case-status")).to_have_attribute("data-status", "NEW")
    expect(detail.get_by_test_id("case-stage")).to_have_attribute("data-stage", "INTAKE")
    expect(row).to_have_attribute("data-status", "NEW")

    detail.get_by_test_id("withdraw").locator("summary").click()
    detail.get_by_test_id("cancel-reason").fill("They stopped working at night.")
    detail.get_by_test_id("cancel-case").click()
    expect(detail.get_by_test_id("case-status")).to_have_attribute("data-status", "CANCELLED")
    expect(row).to_have_attribute("data-status", "CANCELLED")
    expect(detail.get_by_test_id("withdraw")).to_have_count(0)
    screens.shoot("withdrawn")
