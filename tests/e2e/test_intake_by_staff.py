"""Issue 19's intake in headless Chromium: an agent takes a call from someone who never signed in.

Dana opens "New case", searches the caller's number (nobody is known), registers them (a bad
address is refused next to its field first), files a phone case under the help desk's service and
sees it open in the case view with the caller's contact details. axe-core finds no WCAG 2.1 A/AA
violation in the form (empty, and showing a refusal) or in the caller's history. A second call from the same
number finds the known person by the number; the second case's view lists the first among the
caller's open cases, and a link opens it.

The form is driven by the keyboard alone: each control is focused and typed into, buttons and
the disclosure are pressed with Enter, selects are chosen as a keyboard user would (no clicks).
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.e2e.accessibility import wcag_violations
from tests.e2e.conftest import E2EServer, Screens
from tests.e2e.test_agent_and_constituent import sign_in
from tests.e2e.world import SERVICE

CALLER = "Nora Caller"
NUMBER = "555 0100 77"


def press(control: Locator, key: str = "Enter") -> None:
    control.focus()
    control.press(key)


def type_into(control: Locator, text: str) -> None:
    control.focus()
    control.press_sequentially(text)


def file_the_call(desk: Page, title: str) -> str:
    """With the caller chosen: a phone case under the help desk's service; returns its number."""
    form = desk.get_by_test_id("intake-form")
    form.get_by_test_id("intake-channel").select_option("PHONE")
    form.get_by_test_id("intake-about").select_option(f"service:{SERVICE}")
    form.get_by_test_id("intake-title").fill("")
    type_into(form.get_by_test_id("intake-title"), title)
    type_into(form.get_by_test_id("intake-description"), "Taken by phone at the desk.")
    press(form.get_by_test_id("intake-submit"))
    view = desk.get_by_test_id("case-view")
    expect(view.get_by_test_id("case-title")).to_have_text(title)
    return view.get_by_test_id("case-number").inner_text()


def test_an_agent_registers_a_new_caller_files_their_case_and_a_second_call_finds_them(
    open_window: Any, e2e_server: E2EServer, screens: Screens
) -> None:
    agent = open_window("agent")
    desk = agent.page
    marker = sign_in(agent, "/", "dana")

    # 1. A call from a new number: nobody is known by it.
    press(desk.get_by_test_id("new-case"))
    form = desk.get_by_test_id("intake-form")
    expect(form.get_by_test_id("intake-search")).to_be_focused()
    type_into(form.get_by_test_id("intake-search"), "555 0100")
    expect(form.get_by_test_id("intake-search-status")).to_contain_text("No known caller")
    screens.shoot("nobody known")
    assert wcag_violations(desk, '[data-testid="intake"]') == []

    # 2. Register them; a bad address is refused next to its field and nothing is registered.
    press(form.locator("details.register > summary"))
    type_into(form.get_by_test_id("intake-name"), CALLER)
    type_into(form.get_by_test_id("intake-email"), "nora-at-example")
    press(form.get_by_test_id("intake-register"))
    expect(form.get_by_test_id("intake-email-error")).to_contain_text("not an e-mail address")
    expect(form.get_by_test_id("intake-email")).to_have_attribute("aria-invalid", "true")
    assert wcag_violations(desk, '[data-testid="intake"]') == []
    form.get_by_test_id("intake-email").fill("")
    type_into(form.get_by_test_id("intake-phone"), NUMBER)
    press(form.get_by_test_id("intake-register"))
    expect(form.get_by_test_id("intake-caller-name")).to_have_text(CALLER)
    expect(form.get_by_test_id("intake-caller-note")).to_have_text("Registered as a new caller.")
    expect(form.get_by_test_id("intake-email-error")).to_have_text("")
    screens.shoot("caller registered")

    # 3. File the case: it opens in the case view, filed by phone for the caller.
    first = file_the_call(desk, "Streetlight out on Oak Avenue")
    view = desk.get_by_test_id("case-view")
    expect(view.get_by_test_id("case-requester")).to_have_text(CALLER)
    expect(view.get_by_test_id("case-channel")).to_contain_text("Phone")
    expect(view.get_by_test_id("caller-phone")).to_have_text(NUMBER)
    expect(view.get_by_test_id("caller-open-cases")).to_contain_text("No other open cases.")
    screens.shoot("first case filed")

    # 4. A second call from the same number finds the known caller.
    press(desk.get_by_test_id("new-case"))
    form = desk.get_by_test_id("intake-form")
    type_into(form.get_by_test_id("intake-search"), "5550100")
    match = form.get_by_test_id("intake-match")
    expect(match).to_have_count(1)
    expect(match).to_contain_text(CALLER)
    press(match.get_by_role("button"))
    expect(form.get_by_test_id("intake-caller-name")).to_have_text(CALLER)
    second = file_the_call(desk, "Streetlight still out")
    assert second != first

    # 5. The case view lists the caller's other case, and its link opens it.
    history = view.get_by_test_id("caller-open-cases")
    other = history.locator(f'[data-testid="caller-case"][data-number="{first}"]')
    expect(other).to_be_visible()
    screens.shoot("second case with the caller's history")
    assert wcag_violations(desk, '[data-testid="caller-history"]') == []
    press(other.get_by_role("link"))
    expect(view.get_by_test_id("case-number")).to_have_text(first)
    expect(view.locator(f'[data-testid="caller-case"][data-number="{second}"]')).to_be_visible()
    assert agent.marker() == marker
