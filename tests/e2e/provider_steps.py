"""Steps at the OpenID provider of the tests (oidc-provider's development pages, tests/oidc_provider)
that several end-to-end tests take."""

from __future__ import annotations

import re

from playwright.sync_api import Page, Route, expect

from tests.e2e.conftest import Window
from tests.oidc_provider import FONT_URLS


def without_web_fonts(window: Window) -> Window:
    """The provider's development pages import a web font; the test browser has no Internet."""

    def empty_stylesheet(route: Route) -> None:
        route.fulfill(status=200, content_type="text/css", body="")

    window.context.route(FONT_URLS, empty_stylesheet)
    return window


def sign_in_at_provider(page: Page, login: str) -> None:
    """oidc-provider's development login (any password) and consent pages."""
    expect(page).to_have_url(re.compile(r"^http://127\.0\.0\.1:\d+/interaction/"))
    page.locator('input[name="login"]').fill(login)
    page.locator('input[name="password"]').fill("any password will do")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()
