"""The portal in the visitor's language (issue 17, "Their language"), in Chromium.

A browser asking for Spanish (``es-ES``) gets the portal in Spanish: title, navigation, form labels,
statuses, resolution codes and dates (formatted by ``Intl`` for Spanish) as staff move the case,
with no English text of the portal's catalogue on the pages visited; the person's mail language becomes Spanish. Switching to English
in the header is remembered across a reload and makes their mails English; a choice made on one
device follows the person to another at sign-in.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from playwright.sync_api import Page, expect

from casegraph.web import STATIC
from tests.e2e.conftest import E2EServer, Screens, Window
from tests.e2e.portal_steps import file_case
from tests.e2e.world import SERVICE, E2EWorld, act_as, token
from tests.live.support import GraphQLHttp, run_sync

CATALOGUES: Final = STATIC / "portal" / "i18n"
SPANISH: Final[dict[str, str]] = json.loads((CATALOGUES / "es.json").read_text(encoding="utf-8"))
ENGLISH: Final[dict[str, str]] = json.loads((CATALOGUES / "en.json").read_text(encoding="utf-8"))
# A date and time as Intl writes it for Spanish (dateStyle medium, timeStyle short): "7 dic 2026, 16:05".
SPANISH_DATE_TIME: Final = re.compile(
    r"\b\d{1,2} (ene|feb|mar|abr|may|jun|jul|ago|sept?|oct|nov|dic) \d{4}, \d{1,2}:\d{2}\b"
)


def mail_language(server: E2EServer, who: str) -> str:
    async def read() -> str:
        async with GraphQLHttp(server.url) as gql:
            data = await gql.data("query { mailPreferences { locale } }", token=token(who))
        locale: str = data["mailPreferences"]["locale"]
        return locale

    return run_sync(read)


def set_mail_language(server: E2EServer, who: str, locale: str, *, chosen: bool = False) -> None:
    """The person's mail language; not ``chosen``: as every account starts (or as their browser set it)."""

    async def write() -> None:
        async with GraphQLHttp(server.url) as gql:
            await gql.mutate(
                "setMailPreferences",
                {"locale": locale, "localeChosen": chosen},
                "preferences { locale }",
                token=token(who),
            )

    run_sync(write)


def saving_mail_language(page: Page) -> Any:
    """Waits for the portal's background request that saves the person's mail language."""
    return page.expect_response(
        lambda response: (
            response.url.endswith("/graphql") and "PortalMailLanguage" in (response.request.post_data or "")
        )
    )


def sign_in_as(window: Window, who: str) -> None:
    page = window.page
    page.goto("/portal")
    page.locator(f'[data-testid="dev-user"][data-user-id="{who}"]').click()
    expect(page.get_by_test_id("signed-in-as")).to_have_text(E2EWorld.name(who))
    expect(page.get_by_test_id("live-status")).to_have_attribute("data-status", "live")


def english_on_page(page: Page) -> list[str]:
    """The portal's English texts (those Spanish words differently) found on the page."""
    shown = page.locator("body").inner_text()
    return sorted(
        text
        for key, text in ENGLISH.items()
        if len(text) >= 8 and text != SPANISH[key] and "{" not in text and text in shown
    )


def test_a_spanish_browser_gets_the_portal_in_spanish_and_can_switch_to_english(
    open_window: Any, e2e_server: E2EServer, screens: Screens
) -> None:
    # given: alice's browser asks for Spanish; her mails are in English (every account's default)
    set_mail_language(e2e_server, "alice", "en")
    window = open_window("constituent-es", locale="es-ES")
    page = window.page
    page.goto("/portal")
    # then: the sign-in screen is in Spanish
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page).to_have_title(SPANISH["page.title"])
    expect(page.locator("#sign-in-heading")).to_have_text(SPANISH["signin.heading"])
    expect(page.get_by_test_id("language")).to_have_value("es")

    # when: she signs in (her mail language, English by default, becomes Spanish) and opens the form
    with saving_mail_language(page):
        sign_in_as(window, "alice")
    expect(page.get_by_test_id("live-status")).to_have_text(SPANISH["live.live"])
    expect(page.locator("#services-heading")).to_have_text(SPANISH["lists.services"])
    expect(page.locator("#my-cases-heading")).to_have_text(SPANISH["lists.myCases"])
    page.locator(f'[data-testid="service"][data-code="{SERVICE}"]').click()
    form = page.get_by_test_id("file-form")
    expect(form.locator('label[for="file-title"]')).to_have_text(SPANISH["file.title"])
    expect(form.get_by_test_id("file-submit")).to_have_text(SPANISH["file.submit"])
    assert english_on_page(page) == []
    screens.shoot("form in Spanish")
    # and files a request
    case_id, _ = file_case(window, "Farola apagada", "La farola de la esquina no se enciende.")

    # then: its status, stage and dates are in Spanish, and no English is left on the page
    status = page.get_by_test_id("case-status")
    expect(status).to_have_text(SPANISH[f"status.{status.get_attribute('data-status')}"])
    row = page.locator(f'[data-testid="my-case"][data-case-id="{case_id}"]')
    expect(row.locator(".my-case-meta")).to_contain_text(SPANISH_DATE_TIME)
    expect(page.get_by_test_id("timeline-item").first).to_contain_text(SPANISH_DATE_TIME)
    expect(page.get_by_test_id("timeline").first).to_contain_text(SPANISH["happened.CREATE.mine"])
    assert english_on_page(page) == []
    # and her mails will be in Spanish too
    assert mail_language(e2e_server, "alice") == "es"
    screens.shoot("request in Spanish")

    # when: staff ask her a question (from elsewhere, over the API)
    base = e2e_server.url
    run_sync(lambda: act_as(base, "dana", "assignToMe", {"caseId": case_id}))
    run_sync(lambda: act_as(base, "dana", "requestInfo", {"caseId": case_id, "question": "¿En qué calle?"}))
    # then: the question, its form and the new status are in Spanish
    expect(status).to_have_attribute("data-status", "AWAITING_INFO")
    expect(status).to_have_text(SPANISH["status.AWAITING_INFO"])
    expect(page.locator("#info-request-heading")).to_have_text(SPANISH["info.heading"])
    expect(page.get_by_test_id("answer-submit")).to_have_text(SPANISH["info.submit"])
    assert english_on_page(page) == []
    page.get_by_test_id("answer-text").fill("Calle Mayor, 3.")
    page.get_by_test_id("answer-submit").click()
    expect(status).to_have_attribute("data-status", "OPEN")

    # when: they propose a solution
    proposal: dict[str, object] = {
        "caseId": case_id,
        "resolutionCode": "SOLVED_WORKAROUND",
        "resolutionNotes": "Cambiamos la bombilla.",
    }
    run_sync(lambda: act_as(base, "dana", "proposeSolution", proposal))
    # then: its resolution code is worded in Spanish; and once accepted, so is the survey
    expect(page.get_by_test_id("solution-code")).to_have_text(SPANISH["resolution.SOLVED_WORKAROUND"])
    expect(status).to_have_text(SPANISH["status.RESOLVED"])
    assert english_on_page(page) == []
    screens.shoot("solution in Spanish")
    page.get_by_test_id("accept-solution").click()
    expect(status).to_have_attribute("data-status", "CLOSED")
    expect(page.get_by_test_id("survey")).to_contain_text(SPANISH["survey.rating.5"])
    expect(page.get_by_test_id("case-outcome")).to_contain_text(SPANISH["resolution.SOLVED_WORKAROUND"])
    assert english_on_page(page) == []

    # when: she picks English in the header
    with saving_mail_language(page):
        page.get_by_test_id("language").select_option("en")
    # then: the page is in English at once, her mails follow, and a reload keeps English
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#my-cases-heading")).to_have_text(ENGLISH["lists.myCases"])
    expect(status).to_have_text(ENGLISH[f"status.{status.get_attribute('data-status')}"])
    assert english_on_page(page) != []  # the check above would see English, were there any
    assert mail_language(e2e_server, "alice") == "en"
    page.reload()
    expect(page.get_by_test_id("signed-in-as")).to_have_text(E2EWorld.name("alice"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_title(ENGLISH["page.title"])
    expect(page.locator("#services-heading")).to_have_text(ENGLISH["lists.services"])
    assert mail_language(e2e_server, "alice") == "en"
    screens.shoot("switched to English")

    # when: she goes back to Spanish, then signs in on another device whose browser asks for English
    with saving_mail_language(page):
        page.get_by_test_id("language").select_option("es")
    expect(page.locator("#services-heading")).to_have_text(SPANISH["lists.services"])
    assert mail_language(e2e_server, "alice") == "es"
    other = open_window("other-device", locale="en-US")
    sign_in_as(other, "alice")
    # then: her choice follows her there
    expect(other.page.locator("html")).to_have_attribute("lang", "es")
    expect(other.page.locator("#my-cases-heading")).to_have_text(SPANISH["lists.myCases"])
    expect(other.page.get_by_test_id("language")).to_have_value("es")
    screens.shoot("another device")


def test_switching_language_keeps_what_was_typed_in_the_form(
    open_window: Any, e2e_server: E2EServer, screens: Screens
) -> None:
    # given: alice, in English, has started a request
    set_mail_language(e2e_server, "alice", "en")
    window = open_window("constituent", locale="en-US")
    sign_in_as(window, "alice")
    page = window.page
    page.locator(f'[data-testid="service"][data-code="{SERVICE}"]').click()
    form = page.get_by_test_id("file-form")
    expect(form.locator('label[for="file-title"]')).to_have_text(ENGLISH["file.title"])
    form.get_by_test_id("input-title").fill("Streetlight out")
    form.get_by_test_id("input-description").fill("At the corner of Main Street.")
    # when: she switches to Spanish
    page.get_by_test_id("language").select_option("es")
    # then: the form is in Spanish with her text still in it, and the menu keeps the focus
    expect(form.locator('label[for="file-title"]')).to_have_text(SPANISH["file.title"])
    expect(form.get_by_test_id("input-title")).to_have_value("Streetlight out")
    expect(form.get_by_test_id("input-description")).to_have_value("At the corner of Main Street.")
    expect(page.get_by_test_id("language")).to_be_focused()
    screens.shoot("form switched to Spanish")


def test_english_chosen_after_spanish_mails_is_remembered_on_a_spanish_browser(
    open_window: Any, e2e_server: E2EServer, screens: Screens
) -> None:
    # given: alice's mails are in Spanish (her Spanish browser set them at sign-in)
    set_mail_language(e2e_server, "alice", "en")
    spanish = open_window("spanish-browser", locale="es-ES")
    with saving_mail_language(spanish.page):
        sign_in_as(spanish, "alice")
    assert mail_language(e2e_server, "alice") == "es"
    # when: she picks English in the header
    with saving_mail_language(spanish.page):
        spanish.page.get_by_test_id("language").select_option("en")
    assert mail_language(e2e_server, "alice") == "en"
    # and: later signs in on another device whose browser asks for Spanish
    other = open_window("other-spanish-browser", locale="es-ES")
    sign_in_as(other, "alice")
    # then: her choice of English follows her there, and her mails stay English
    expect(other.page.locator("html")).to_have_attribute("lang", "en")
    expect(other.page.get_by_test_id("language")).to_have_value("en")
    expect(other.page.locator("#my-cases-heading")).to_have_text(ENGLISH["lists.myCases"])
    screens.shoot("english kept on a spanish browser")
    assert mail_language(e2e_server, "alice") == "en"
