"""A member of the public signs in to the portal with a mailed link, in Chromium, against a real
server process: the mail is read from the server's maildir, as a newcomer running `make run` would."""

from __future__ import annotations

import mailbox
import re
import time
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import E2EServer, Screens
from tests.e2e.portal_steps import file_case

NEWCOMER = "newcomer@example.org"
# The dispatcher passes every second (CASEGRAPH_OUTBOX_INTERVAL); a loaded machine gets leeway.
MAIL_WAIT_SECONDS = 30.0


def mails_to(maildir: Path, address: str) -> list[EmailMessage]:
    if not maildir.is_dir():
        return []
    box = mailbox.Maildir(maildir, factory=None, create=False)
    found = []
    for key in box.iterkeys():
        message = message_from_bytes(box.get_bytes(key), policy=default)
        if isinstance(message, EmailMessage) and message["To"] == address:
            found.append(message)
    return found


def sign_in_link(server: E2EServer, address: str) -> str:
    """The path of the link in the newest mail to ``address``, once the server has written one."""
    maildir = server.workdir / "var" / "mail"
    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    while time.monotonic() < deadline:
        mails = mails_to(maildir, address)
        if mails:
            body = mails[-1].get_body(preferencelist=("plain",))
            assert body is not None
            found = re.search(r"(/signin/link\?token=\w+)", str(body.get_content()))
            assert found is not None
            return found.group(1)
        time.sleep(0.2)
    raise AssertionError(f"no mail to {address} in {maildir} after {MAIL_WAIT_SECONDS} s")


def test_a_constituent_signs_in_by_mailed_link_files_a_request_reloads_and_signs_out(
    open_window: Any, e2e_server: E2EServer, screens: Screens
) -> None:
    window = open_window("newcomer")
    page = window.page
    # asks for a link: the answer would be the same for any address
    page.goto("/portal")
    page.get_by_test_id("signin-email").fill(NEWCOMER)
    page.get_by_test_id("signin-email-submit").click()
    expect(page.get_by_test_id("signin-email-outcome")).to_contain_text("a sign-in link is on its way")
    screens.shoot("link asked for")

    # opens the mailed link: a page with a button (a mail scanner's visit signs nobody in)
    page.goto(sign_in_link(e2e_server, NEWCOMER))
    screens.shoot("link opened")
    page.get_by_role("button", name="Sign in").click()

    # lands on the portal, signed in
    expect(page).to_have_url(re.compile(r"/portal$"))
    expect(page.get_by_test_id("signed-in-as")).to_have_text(NEWCOMER)
    expect(page.get_by_test_id("live-status")).to_have_text("live")
    # the access token is in memory only: nothing in the page's storage
    assert page.evaluate("() => window.localStorage.length + window.sessionStorage.length") == 0
    case_id, number = file_case(window, "Streetlight out", "The one by the school has been dark for a week.")

    # a reload signs in again from the session cookie
    page.reload()
    expect(page.get_by_test_id("signed-in-as")).to_have_text(NEWCOMER)
    expect(page.locator(f'[data-testid="my-case"][data-case-id="{case_id}"]')).to_have_attribute("data-number", number)
    screens.shoot("signed in after reload")

    # signs out: the session ends on the server, so a reload finds none
    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("signin-email")).to_be_visible()
    page.reload()
    expect(page.get_by_test_id("signin-email")).to_be_visible()
    expect(page.get_by_test_id("signed-in-as")).to_be_hidden()
    screens.shoot("signed out")


def test_two_tabs_reloading_together_both_stay_signed_in(
    open_window: Any, e2e_server: E2EServer, screens: Screens
) -> None:
    # given: signed in by link in one tab, and a second tab of the same browser on the portal
    address = "two-tabs@example.org"
    window = open_window("first-tab")
    first = window.page
    first.goto("/portal")
    first.get_by_test_id("signin-email").fill(address)
    first.get_by_test_id("signin-email-submit").click()
    expect(first.get_by_test_id("signin-email-outcome")).to_contain_text("a sign-in link is on its way")
    first.goto(sign_in_link(e2e_server, address))
    first.get_by_role("button", name="Sign in").click()
    expect(first.get_by_test_id("signed-in-as")).to_have_text(address)
    second = window.context.new_page()
    second.on("pageerror", lambda error: window.problems.append(f"second tab: page error: {error}"))
    second.goto("/portal")
    expect(second.get_by_test_id("signed-in-as")).to_have_text(address)

    # when: both tabs reload at once, each refreshing its session with the same cookie
    for _ in range(3):
        second.evaluate("() => window.setTimeout(() => window.location.reload(), 0)")
        first.reload()
        second.wait_for_load_state()

        # then: both are still signed in, live
        for page in (first, second):
            expect(page.get_by_test_id("signed-in-as")).to_have_text(address)
            expect(page.get_by_test_id("live-status")).to_have_text("live")
    screens.shoot("both tabs signed in after reloading together")
    # and: a third reload of either still finds the session (nothing was revoked)
    second.reload()
    expect(second.get_by_test_id("signed-in-as")).to_have_text(address)


def test_signing_out_in_one_tab_takes_the_other_tab_to_the_sign_in_screen_at_once(
    open_window: Any, e2e_server: E2EServer, screens: Screens
) -> None:
    # given: two tabs of one browser signed in by link, both live
    address = "one-tab-signs-out@example.org"
    window = open_window("tab-signing-out")
    first = window.page
    first.goto("/portal")
    first.get_by_test_id("signin-email").fill(address)
    first.get_by_test_id("signin-email-submit").click()
    expect(first.get_by_test_id("signin-email-outcome")).to_contain_text("a sign-in link is on its way")
    first.goto(sign_in_link(e2e_server, address))
    first.get_by_role("button", name="Sign in").click()
    expect(first.get_by_test_id("signed-in-as")).to_have_text(address)
    second = window.context.new_page()
    second.on("pageerror", lambda error: window.problems.append(f"second tab: page error: {error}"))
    second.goto("/portal")
    expect(second.get_by_test_id("live-status")).to_have_text("live")

    # when: the first tab signs out
    first.get_by_test_id("sign-out").click()
    expect(first.get_by_test_id("signin-email")).to_be_visible()

    # then: the server closes the second tab's live connection, and the tab, finding its session
    # ended, shows the sign-in screen and says why — without being touched
    expect(second.get_by_test_id("signin-email")).to_be_visible()
    expect(second.get_by_test_id("signed-in-as")).to_be_hidden()
    expect(second.locator("#content")).to_contain_text("Your session has ended")
    screens.shoot("the other tab signed out")


def test_a_refresh_the_server_fails_keeps_the_session_and_is_tried_again(
    open_window: Any, e2e_server: E2EServer, screens: Screens
) -> None:
    # given: signed in by link, with the page's timers in the test's hands
    address = "refresh-fails@example.org"
    window = open_window("refresh-fails")
    window.allow(r"503")
    page = window.page
    page.clock.install()
    page.goto("/portal")
    page.get_by_test_id("signin-email").fill(address)
    page.get_by_test_id("signin-email-submit").click()
    expect(page.get_by_test_id("signin-email-outcome")).to_contain_text("a sign-in link is on its way")
    page.goto(sign_in_link(e2e_server, address))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-as")).to_have_text(address)
    answered: list[int] = []
    page.on("response", lambda response: answered.append(response.status) if "/auth/refresh" in response.url else None)
    page.route("**/auth/refresh", lambda route: route.fulfill(status=503, body="down for a moment"))

    # when: the scheduled refresh (a minute before the 10-minute token ends) meets a server error
    page.clock.run_for("09:05")
    _wait_for(page, lambda: 503 in answered)

    # then: the page keeps its session, not the sign-in screen (a 503 is not a signed-out session)
    expect(page.get_by_test_id("signed-in-as")).to_have_text(address)
    expect(page.get_by_test_id("signin-email")).to_be_hidden()

    # when: the server is back and the page's retry comes round
    page.unroute("**/auth/refresh")
    page.clock.run_for("00:20")
    _wait_for(page, lambda: 200 in answered)

    # then: still signed in with a fresh token, and requests go through
    expect(page.get_by_test_id("signed-in-as")).to_have_text(address)
    file_case(window, "Bench broken", "The bench at the bus stop has a broken slat.")
    screens.shoot("signed in after a failed refresh")


def _wait_for(page: Any, condition: Any, seconds: float = 15.0) -> None:
    """Wait while Playwright dispatches the page's events (a plain sleep would hold them back)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the page did not get there in time")
        page.wait_for_timeout(100)
