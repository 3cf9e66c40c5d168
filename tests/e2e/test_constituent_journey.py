"""Issue 17's "Done when", in one test: a constituent whose browser asks for Spanish signs in by
e-mail link, files a request, receives the acknowledgement, answers the agent's question by
replying to the mail, gets the proposal, accepts it in the portal and gets the survey — every
mail in Spanish, through a real SMTP server on loopback — and signs in with the agency's
identity provider (a real OpenID provider on loopback) as the same person.

Staff act over the API, as another client would; the reply mail goes in through the e-mail
intake endpoint, as the mail gateway would post it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Final

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import BACKENDS
from tests.e2e.conftest import E2EServer, Screens, running_e2e_server
from tests.e2e.portal_steps import file_case
from tests.e2e.provider_steps import sign_in_at_provider, without_web_fonts
from tests.e2e.world import CASE_TYPE, act_as
from tests.live.support import free_port, run_sync
from tests.mail.smtp_server import Accepted, SmtpServer
from tests.oidc_provider import OpenIdProvider, running_provider

SOFIA: Final = "sofia@example.org"
PROVIDER_NAME: Final = "Ayuntamiento"
ACCOUNTS: Final = {"sofia": {"email": SOFIA, "email_verified": True, "name": "Sofía Romero", "roles": []}}
INTAKE_SECRET: Final = "intake-secret-of-the-constituent-journey-0123456789"
INTAKE_ADDRESS: Final = "cases@city.example"
# The dispatcher passes this often; a loaded machine gets leeway in MAIL_WAIT_SECONDS.
OUTBOX_INTERVAL: Final = "0.2"
MAIL_WAIT_SECONDS: Final = 30.0


# With e-mail intake on, a case's mails end their subject with its reply token.
REPLY_TOKEN: Final = re.compile(r" \[CS\d+-[0-9a-f]+\]$")


def subject_of(mail: Accepted) -> str:
    """The subject as a reader sees it: folding undone, the reply token left out."""
    return REPLY_TOKEN.sub("", " ".join(str(mail.message["Subject"]).split()))


class Journey:
    """The servers of the journey: SMTP, the OpenID provider, casegraph configured for both."""

    def __init__(self, smtp: SmtpServer, provider: OpenIdProvider, server: E2EServer) -> None:
        self.smtp, self.provider, self.server = smtp, provider, server

    def mail(self, subject: Callable[[str], bool], what: str) -> Accepted:
        """The one mail to Sofía whose subject matches, once it arrived."""
        deadline = time.monotonic() + MAIL_WAIT_SECONDS
        while time.monotonic() < deadline:
            found = [mail for mail in self.smtp.recorder.to(SOFIA) if subject(subject_of(mail))]
            if found:
                assert len(found) == 1, f"{what}: {len(found)} mails"
                return found[0]
            time.sleep(0.1)
        subjects = [subject_of(mail) for mail in self.smtp.recorder.to(SOFIA)]
        raise AssertionError(f"no {what} mail to {SOFIA} (got {subjects}):\n{self.server.process.log_tail(40)}")


@pytest.fixture(scope="module", params=BACKENDS)
def journey(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journey]:
    backend = str(request.param)
    workdir = tmp_path_factory.mktemp(f"journey-{backend}")
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    smtp = SmtpServer()
    smtp.start()
    try:
        with running_provider(
            workdir, redirect_uris=[f"{public_url}/auth/oidc/callback"], accounts=ACCOUNTS
        ) as provider:
            env = {
                **provider.server_env(name=PROVIDER_NAME),
                "CASEGRAPH_PUBLIC_URL": public_url,
                "CASEGRAPH_SMTP_URL": smtp.url(),
                "CASEGRAPH_MAIL_FROM": "Ayuntamiento <desk@city.example>",
                "CASEGRAPH_INTAKE_SECRET": INTAKE_SECRET,
                "CASEGRAPH_INTAKE_ADDRESS": INTAKE_ADDRESS,
                "CASEGRAPH_INTAKE_CASE_TYPE": CASE_TYPE,
                "CASEGRAPH_OUTBOX_INTERVAL": OUTBOX_INTERVAL,
            }
            with running_e2e_server(backend, workdir, port=port, extra_env=env) as server:
                yield Journey(smtp, provider, server)
    finally:
        smtp.stop()


@pytest.fixture
def server_under_test(journey: Journey) -> E2EServer:
    return journey.server


def saving_mail_language(page: Page) -> Any:
    """Waits for the portal's request that makes the page's language the person's mail language."""
    return page.expect_response(
        lambda response: (
            response.url.endswith("/graphql") and "PortalMailLanguage" in (response.request.post_data or "")
        )
    )


def reply_to(mail: Accepted, text: str) -> bytes:
    """Sofía's answer, as her mail client writes a reply to ``mail``."""
    reply = EmailMessage()
    reply["From"] = f"Sofía Romero <{SOFIA}>"
    reply["To"] = str(mail.message["Reply-To"])
    reply["Subject"] = f"Re: {mail.message['Subject']}"
    reply["Message-ID"] = make_msgid(domain="example.org")
    reply["In-Reply-To"] = str(mail.message["Message-ID"])
    reply["References"] = str(mail.message["Message-ID"])
    quoted = "\n".join(f"> {line}" for line in mail.text().splitlines())
    reply.set_content(f"{text}\n\n{quoted}\n")
    return bytes(reply)


def test_a_spanish_speaking_constituent_hears_back_by_mail_answers_by_reply_and_signs_in_both_ways(
    open_window: Any, journey: Journey, screens: Screens
) -> None:
    base = journey.server.url
    window = without_web_fonts(open_window("sofia", locale="es-ES"))
    page = window.page

    # --- signs in by e-mail link
    page.goto("/portal")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.get_by_test_id("signin-email").fill(SOFIA)
    page.get_by_test_id("signin-email-submit").click()
    link_mail = journey.mail(lambda subject: subject == "Su enlace para iniciar sesión", "sign-in link")
    link = re.search(r"(https?://\S+/signin/link\?token=\w+)", link_mail.text())
    assert link is not None
    page.goto(link.group(1))
    with saving_mail_language(page):  # her mails will be in the language her browser asked for
        page.locator('form[method="post"] button[type="submit"]').click()
    expect(page.get_by_test_id("signed-in-as")).to_have_text(SOFIA)
    screens.shoot("signed in by link")

    # --- files a request: the acknowledgement names its number, in Spanish
    case_id, number = file_case(window, "Farola apagada", "La farola de la esquina no se enciende.")
    received = journey.mail(lambda subject: subject.startswith(f"Caso {number} recibido"), "acknowledgement")
    assert subject_of(received) == f"Caso {number} recibido: Farola apagada"

    # --- an agent asks a question; the mail says how to answer, and answering is replying
    remembered = run_sync(lambda: act_as(base, "dana", "assignToMe", {"caseId": case_id}))["status"]
    question = "¿Frente a qué número está la farola?"
    run_sync(lambda: act_as(base, "dana", "requestInfo", {"caseId": case_id, "question": question}))
    asked = journey.mail(lambda subject: subject == f"Caso {number}: tenemos una pregunta", "question")
    assert question in asked.text()
    assert re.fullmatch(rf"cases\+{number}-[0-9a-f]+@city\.example", str(asked.message["Reply-To"]))
    status = page.get_by_test_id("case-status")
    expect(status).to_have_attribute("data-status", "AWAITING_INFO")

    answer = "Está frente al número 3 de la calle Mayor."
    posted = httpx.post(
        f"{base}/intake/email",
        content=reply_to(asked, answer),
        headers={"X-Casegraph-Intake-Secret": INTAKE_SECRET, "Content-Type": "message/rfc822"},
        timeout=30.0,
    )
    assert posted.status_code == 200, posted.text
    assert posted.json() == {"action": "commented", "caseId": case_id, "number": number}
    # the case is back where it was, with her answer as a public comment (seen live in the portal)
    expect(status).to_have_attribute("data-status", str(remembered))
    expect(page.get_by_test_id("comments")).to_contain_text(answer)
    screens.shoot("answered by mail")

    # --- the agent proposes a solution; the mail links to the portal, where she accepts
    proposal: dict[str, object] = {
        "caseId": case_id,
        "resolutionCode": "SOLVED_WORKAROUND",
        "resolutionNotes": "Cambiamos la bombilla.",
    }
    run_sync(lambda: act_as(base, "dana", "proposeSolution", proposal))
    proposed = journey.mail(lambda subject: subject == f"Caso {number}: le proponemos una solución", "proposal")
    assert "Cambiamos la bombilla." in proposed.text()
    case_link = f"{base}/portal#case-{case_id}"
    assert case_link in proposed.text()
    page.goto(case_link)
    expect(page.get_by_test_id("case-detail")).to_have_attribute("data-case-id", case_id)
    page.get_by_test_id("accept-solution").click()
    expect(page.get_by_test_id("case-status")).to_have_attribute("data-status", "CLOSED")
    survey = journey.mail(lambda subject: subject == f"Caso {number}: ¿qué tal lo hicimos?", "survey")
    assert survey.message["To"] == SOFIA
    screens.shoot("accepted")

    # --- signs out, and in again with the identity provider: the same person, the same request
    page.get_by_test_id("sign-out").click()
    offer = page.get_by_test_id("signin-oidc")
    expect(offer).to_have_text(f"Iniciar sesión con {PROVIDER_NAME}")
    offer.click()
    sign_in_at_provider(page, "sofia")
    expect(page).to_have_url(re.compile(r"/portal$"))
    expect(page.get_by_test_id("signed-in-as")).to_have_text("Sofía Romero")
    expect(page.locator(f'[data-testid="my-case"][data-case-id="{case_id}"]')).to_have_attribute("data-number", number)
    screens.shoot("signed in with the provider")

    # and every mail reached her once, each in Spanish
    subjects = sorted(subject_of(mail) for mail in journey.smtp.recorder.to(SOFIA))
    assert subjects == sorted(
        [
            "Su enlace para iniciar sesión",
            f"Caso {number} recibido: Farola apagada",
            f"Caso {number}: tenemos una pregunta",
            f"Caso {number}: le proponemos una solución",
            f"Caso {number}: ¿qué tal lo hicimos?",
        ]
    )
