"""Staff opt in to their notifications by mail on the dashboard itself (issue 17, "Staff get
their notifications by e-mail too, if they opt in"), not only through GraphiQL."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import E2EServer, Screens
from tests.e2e.test_agent_and_constituent import sign_in
from tests.e2e.world import token
from tests.live.support import GraphQLHttp, run_sync

PREFERENCES = "query { mailPreferences { notificationMail nonEssentialMail } }"
STOP_OPTIONAL = "mutation { setMailPreferences(input: {nonEssentialMail: false}) { errors { code } } }"


def preferences_of(base: str, who: str) -> dict[str, bool]:
    async def read() -> dict[str, bool]:
        async with GraphQLHttp(base) as gql:
            data: dict[str, dict[str, bool]] = await gql.data(PREFERENCES, token=token(who))
            return data["mailPreferences"]

    return run_sync(read)


def test_an_agent_opts_in_to_notification_mail_on_the_dashboard_and_out_again(
    open_window: Any, e2e_server: E2EServer, screens: Screens
) -> None:
    # given: Dana had stopped optional mail with an unsubscribe link
    async def stop_optional() -> None:
        async with GraphQLHttp(e2e_server.url) as gql:
            await gql.data(STOP_OPTIONAL, token=token("dana"))

    run_sync(stop_optional)
    window = open_window("agent")
    page = window.page
    sign_in(window, "/", "dana")
    box = page.get_by_test_id("notification-mail")
    expect(box).not_to_be_checked()
    expect(box).to_be_enabled()

    # when: she ticks "E-mail me my notifications"
    box.check()
    # then: saved on the server, optional mail on again with it (else nothing would be sent)
    expect(box).to_be_enabled()
    assert preferences_of(e2e_server.url, "dana") == {"notificationMail": True, "nonEssentialMail": True}
    screens.shoot("opted in")
    # and: the dashboard shows it after a reload
    page.reload()
    expect(page.get_by_test_id("notification-mail")).to_be_checked()

    # when: she unticks it
    page.get_by_test_id("notification-mail").uncheck()
    expect(page.get_by_test_id("notification-mail")).to_be_enabled()
    # then
    assert preferences_of(e2e_server.url, "dana")["notificationMail"] is False
