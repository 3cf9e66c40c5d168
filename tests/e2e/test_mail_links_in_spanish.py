"""A Spanish-speaking newcomer follows the mails' links in Chromium (issue 17, "Their language"):
the sign-in link's page, the acknowledgement (with its date written the Spanish way), the
unsubscribe page, and the portal's "Sus correos", where optional mail comes back on."""

from __future__ import annotations

import re
import time
from email.message import EmailMessage
from typing import Any, Final

from playwright.sync_api import expect

from tests.e2e.conftest import E2EServer, Screens
from tests.e2e.portal_steps import file_case
from tests.e2e.test_sign_in_by_mail import MAIL_WAIT_SECONDS, mails_to
from tests.live.support import GraphQLHttp, run_sync

NEWCOMER: Final = "rosa.nueva@example.org"
# "7 de diciembre de 2026, 19:01 UTC": CLDR's long Spanish date, the time, the agency's zone.
SPANISH_DATE_TIME: Final = re.compile(r"\d{1,2} de [a-z]+ de \d{4}, \d{1,2}:\d{2} UTC")


def newest_mail(server: E2EServer, address: str, count: int) -> EmailMessage:
    """The ``count``-th mail to ``address``, once the server has written it."""
    maildir = server.workdir / "var" / "mail"
    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    while time.monotonic() < deadline:
        mails = sorted(mails_to(maildir, address), key=lambda mail: str(mail["Date"]))
        if len(mails) >= count:
            return mails[count - 1]
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} mails to {address} in {maildir} after {MAIL_WAIT_SECONDS} s")


def text_of(mail: EmailMessage) -> str:
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def link_in(mail: EmailMessage, path: str) -> str:
    found = re.search(rf"https?://[^/\s]+({re.escape(path)}\?\S+)", text_of(mail))
    assert found is not None, text_of(mail)
    return found.group(1)


def wants_optional_mail(server: E2EServer, access_token: str) -> bool:
    async def read() -> bool:
        async with GraphQLHttp(server.url) as gql:
            data = await gql.data("query { mailPreferences { nonEssentialMail } }", token=access_token)
        wanted: bool = data["mailPreferences"]["nonEssentialMail"]
        return wanted

    return run_sync(read)


def test_a_spanish_newcomer_reads_every_page_a_mail_links_to_in_spanish(
    open_window: Any, e2e_server: E2EServer, screens: Screens
) -> None:
    window = open_window("spanish-newcomer", locale="es-ES")
    page = window.page
    # asks for a link in Spanish; its page speaks Spanish, the mail's language
    page.goto("/portal")
    page.get_by_test_id("signin-email").fill(NEWCOMER)
    page.get_by_test_id("signin-email-submit").click()
    link_mail = newest_mail(e2e_server, NEWCOMER, 1)
    page.goto(link_in(link_mail, "/signin/link"))
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Iniciar sesión")
    screens.shoot("sign-in link page")
    page.get_by_role("button", name="Iniciar sesión").click()
    expect(page.get_by_test_id("signed-in-as")).to_have_text(NEWCOMER)
    # greeted by address (a person signed in by link has no name yet), not by account id
    expect(page.get_by_test_id("welcome-heading")).to_have_text(f"Hola, {NEWCOMER}")

    # files a request: the acknowledgement says when, the Spanish way
    file_case(window, "Farola apagada", "La farola junto a la escuela lleva una semana apagada.")
    received = newest_mail(e2e_server, NEWCOMER, 2)
    assert received["Content-Language"] == "es"
    assert re.search(rf"Recibida el {SPANISH_DATE_TIME.pattern}\.", text_of(received)), text_of(received)
    # the portal shows where mails go, optional ones on
    settings = page.get_by_test_id("mail-settings")
    expect(settings.get_by_role("heading")).to_have_text("Sus correos")
    expect(settings.get_by_test_id("mail-address")).to_contain_text(NEWCOMER)
    expect(settings.get_by_test_id("optional-mail")).to_be_checked()

    # the mail's unsubscribe link: a Spanish page, a Spanish button, a Spanish answer
    page.goto(link_in(received, "/mail/unsubscribe"))
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("¿Dejar de recibir correos opcionales?")
    page.get_by_role("button", name="Dejar de recibir correos opcionales").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hecho")
    screens.shoot("unsubscribed")

    # back on the portal: the box is off, and ticking it turns optional mail back on
    access = page.evaluate("() => fetch('/auth/refresh', {method: 'POST'}).then((r) => r.json())")["accessToken"]
    assert not wants_optional_mail(e2e_server, access)
    page.goto("/portal")
    box = page.get_by_test_id("mail-settings").get_by_test_id("optional-mail")
    expect(box).not_to_be_checked()
    box.check()
    expect(box).to_be_checked()
    expect(box).to_be_enabled()
    screens.shoot("optional mail back on")
    assert wants_optional_mail(e2e_server, access)
