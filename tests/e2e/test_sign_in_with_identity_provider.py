"""People sign in with the agency's identity provider, in Chromium, against a real OpenID provider
(oidc-provider, tests/oidc_provider) and a real server process: the authorization code flow with
PKCE, run by the server, ending in the same browser session a mailed sign-in link starts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

import pytest
from playwright.sync_api import expect

from tests.conftest import BACKENDS
from tests.e2e.conftest import E2EServer, Screens, running_e2e_server
from tests.e2e.portal_steps import file_case
from tests.e2e.provider_steps import sign_in_at_provider, without_web_fonts
from tests.live.support import free_port
from tests.oidc_provider import OpenIdProvider, running_provider

PROVIDER_NAME: Final = "City Hall"
# The provider's accounts (login: claims); roles are the provider's group names.
ACCOUNTS: Final = {
    "rosa": {"email": "rosa@example.org", "email_verified": True, "name": "Rosa Díaz", "roles": []},
    "omar": {"email": "omar@city.example", "email_verified": True, "name": "Omar Haddad", "roles": ["caseworker"]},
}
ROLE_MAP: Final = "caseworker=AGENT,supervisor=MANAGER"


@pytest.fixture(scope="module", params=BACKENDS)
def provider_and_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[OpenIdProvider, E2EServer]]:
    """A provider with a client for the server's callback, and the server configured for it."""
    backend = str(request.param)
    workdir = tmp_path_factory.mktemp(f"oidc-{backend}")
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    with running_provider(workdir, redirect_uris=[f"{public_url}/auth/oidc/callback"], accounts=ACCOUNTS) as provider:
        env = provider.server_env(name=PROVIDER_NAME, roles_claim="roles", role_map=ROLE_MAP)
        env["CASEGRAPH_PUBLIC_URL"] = public_url
        with running_e2e_server(backend, workdir, port=port, extra_env=env) as server:
            yield provider, server


@pytest.fixture
def server_under_test(provider_and_server: tuple[OpenIdProvider, E2EServer]) -> E2EServer:
    return provider_and_server[1]


def test_a_constituent_signs_in_to_the_portal_with_the_identity_provider_files_a_request_and_reloads(
    open_window: Any, screens: Screens
) -> None:
    window = without_web_fonts(open_window("rosa"))
    page = window.page
    # given: the portal offers the provider by its configured name
    page.goto("/portal")
    offer = page.get_by_test_id("signin-oidc")
    expect(offer).to_have_text(f"Sign in with {PROVIDER_NAME}")
    screens.shoot("offered")

    # when: she signs in there
    offer.click()
    screens.shoot("at the provider")
    sign_in_at_provider(page, "rosa")

    # then: back on the portal, signed in as the person the provider named
    expect(page).to_have_url(re.compile(r"/portal$"))
    expect(page.get_by_test_id("signed-in-as")).to_have_text("Rosa Díaz")
    expect(page.get_by_test_id("live-status")).to_have_text("live")
    # no provider token and no access token in the page's storage
    assert page.evaluate("() => window.localStorage.length + window.sessionStorage.length") == 0
    case_id, number = file_case(window, "Graffiti on the library", "Fresh paint on the north wall.")
    screens.shoot("signed in and filed")

    # a reload signs in again from the session cookie
    page.reload()
    expect(page.get_by_test_id("signed-in-as")).to_have_text("Rosa Díaz")
    expect(page.locator(f'[data-testid="my-case"][data-case-id="{case_id}"]')).to_have_attribute("data-number", number)


def test_a_sign_in_cancelled_at_the_provider_ends_on_a_page_in_the_readers_language(
    open_window: Any, screens: Screens
) -> None:
    window = without_web_fonts(open_window("rosa-es", locale="es-ES"))
    window.allow(r"status of 400")  # the page that says why answers 400: nobody was signed in
    page = window.page
    page.goto("/portal")
    offer = page.get_by_test_id("signin-oidc")
    expect(offer).to_have_text(f"Iniciar sesión con {PROVIDER_NAME}")
    offer.click()

    # when: she cancels at the provider (it answers error=access_denied)
    page.get_by_role("link", name="[ Cancel ]").click()

    # then: a page in Spanish says so, with a way back; nobody is signed in
    problem = page.get_by_test_id("oidc-problem")
    expect(problem).to_have_attribute("data-reason", "denied")
    expect(problem.get_by_role("heading")).to_have_text("Se canceló el inicio de sesión")
    screens.shoot("cancelled")
    problem.get_by_role("link", name="Volver al inicio de sesión").click()
    expect(page.get_by_test_id("signin-email")).to_be_visible()
    expect(page.get_by_test_id("signed-in-as")).to_be_hidden()


def test_an_agent_by_the_providers_group_signs_in_to_the_dashboard_reloads_and_signs_out(
    open_window: Any, screens: Screens
) -> None:
    window = without_web_fonts(open_window("omar"))
    page = window.page
    # given: the dashboard offers the provider
    page.goto("/")
    offer = page.get_by_test_id("signin-oidc")
    expect(offer).to_have_text(f"Sign in with {PROVIDER_NAME}")

    # when: an agent (the provider's "caseworker" group) signs in there
    offer.click()
    sign_in_at_provider(page, "omar")

    # then: the dashboard, signed in as them, live, with the token in memory only
    expect(page).to_have_url(re.compile(r"127\.0\.0\.1:\d+/$"))
    expect(page.get_by_test_id("signed-in-as")).to_have_text("Omar Haddad")
    expect(page.get_by_test_id("live-status")).to_have_text("live")
    expect(page.get_by_test_id("queue")).to_be_visible()
    assert page.evaluate("() => window.localStorage.length + window.sessionStorage.length") == 0
    screens.shoot("dashboard")

    # a reload signs in again from the session cookie; sign-out ends the session on the server
    page.reload()
    expect(page.get_by_test_id("signed-in-as")).to_have_text("Omar Haddad")
    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("signin-oidc")).to_be_visible()
    page.reload()
    expect(page.get_by_test_id("signin-oidc")).to_be_visible()
    expect(page.get_by_test_id("signed-in-as")).to_be_hidden()


def test_staff_signing_in_on_the_portal_are_sent_to_the_dashboard_and_their_session_ends(
    open_window: Any, screens: Screens
) -> None:
    window = without_web_fonts(open_window("omar-portal"))
    page = window.page
    page.goto("/portal")
    page.get_by_test_id("signin-oidc").click()
    sign_in_at_provider(page, "omar")
    # then: the portal says where staff go, and keeps no session
    expect(page.get_by_text("Staff use the agent dashboard at /.")).to_be_visible()
    screens.shoot("staff on the portal")
    with page.expect_response(lambda response: response.url.endswith("/auth/refresh")) as refreshed:
        page.reload()
    assert refreshed.value.status == 204  # no session cookie any more
    expect(page.get_by_test_id("signed-in-as")).to_be_hidden()
