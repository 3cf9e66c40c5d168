"""Steps on the constituent portal that several end-to-end tests take."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import Window
from tests.e2e.world import SERVICE, E2EWorld


def sign_in_with_demo_user(window: Window, user_id: str) -> None:
    page = window.page
    page.goto("/portal")
    page.locator(f'[data-testid="dev-user"][data-user-id="{user_id}"]').click()
    expect(page.get_by_test_id("signed-in-as")).to_have_text(E2EWorld.name(user_id))
    expect(page.get_by_test_id("live-status")).to_have_text("live")


def file_case(window: Window, title: str, description: str) -> tuple[str, str]:
    """File a case under the e2e service; returns (case id, number) of the case shown after."""
    page = window.page
    page.locator(f'[data-testid="service"][data-code="{SERVICE}"]').click()
    form = page.get_by_test_id("file-form")
    form.get_by_test_id("input-title").fill(title)
    form.get_by_test_id("input-description").fill(description)
    form.get_by_test_id("file-submit").click()
    detail = page.get_by_test_id("case-detail")
    expect(detail.get_by_test_id("case-title")).to_have_text(title)
    case_id = detail.get_attribute("data-case-id")
    number = page.locator(f'[data-testid="my-case"][data-case-id="{case_id}"]').get_attribute("data-number")
    assert case_id and number
    return case_id, number
