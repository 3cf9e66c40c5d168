"""The dashboard's notification bell (issue 19, "Notifications"): a manager assigns a case on her
dashboard; the agent's bell counts it at once, without a reload, lists "<case> was assigned to
you.", and opening it shows the case and marks it read. Given to another agent, the case is
told as taken from her; "Mark all read" clears the count. By keyboard, and axe-core clean."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from casegraph.auth import issue_token
from casegraph.domain.enums import Role
from casegraph.settings import DEV_SECRET, Settings
from tests.e2e.accessibility import wcag_violations
from tests.e2e.conftest import E2EServer, Screens
from tests.e2e.test_agent_and_constituent import run_action, sign_in
from tests.e2e.world import CASE_TYPE, GROUP, token
from tests.live.support import GraphQLHttp, run_sync

# Not in the shared world (tests/e2e/world.py): a manager of the help desk for this test only.
MANAGER = "maria"
MANAGER_NAME = "Maria Manager"


def manager_token() -> str:
    return issue_token(
        Settings(jwt_secret=DEV_SECRET),
        sub=MANAGER,
        roles=[Role.MANAGER],
        name=MANAGER_NAME,
        email="maria@example.org",
    )


def a_new_case_and_a_manager_of_its_group(base: str) -> dict[str, str]:
    """Maria manages the help desk; Alice files a question nobody has yet."""

    async def set_up() -> dict[str, str]:
        async with GraphQLHttp(base) as gql:
            await gql.data("query { me { id } }", token=manager_token())
            await gql.mutate(
                "addGroupMember",
                {"groupCode": GROUP, "userId": MANAGER, "isManager": True},
                "member { user { id } }",
                token=token("ada"),
            )
            payload = await gql.mutate(
                "createCase",
                {"caseTypeCode": CASE_TYPE, "title": "Parking permit renewal"},
                "case { id number assignedTo { id } }",
                token=token("alice"),
            )
        case: dict[str, Any] = payload["case"]
        assert case["assignedTo"] is None
        return {"id": case["id"], "number": case["number"]}

    return run_sync(set_up)


def test_a_manager_assigns_a_case_and_the_agents_bell_rings_live(
    open_window: Any, e2e_server: E2EServer, screens: Screens
) -> None:
    # given: Dana on her dashboard, nothing unread; Maria on hers
    case = a_new_case_and_a_manager_of_its_group(e2e_server.url)
    agent, manager = open_window("agent"), open_window("manager")
    desk = agent.page
    marker = sign_in(agent, "/", "dana")
    manager.page.goto("/")
    manager.page.locator(f'[data-testid="dev-user"][data-user-id="{MANAGER}"]').click()
    expect(manager.page.get_by_test_id("signed-in-as")).to_have_text(MANAGER_NAME)
    bell = desk.get_by_test_id("notification-bell")
    count = desk.get_by_test_id("notification-count")
    expect(count).to_have_text("0")

    # when: Maria assigns the case to Dana on her dashboard
    manager.page.locator(f'[data-testid="queue-row"][data-case-id="{case["id"]}"]').click()
    run_action(manager.page, "ASSIGN", assigneeId="dana")
    expect(manager.page.get_by_test_id("case-assignee")).to_contain_text("Dana Desk")

    # then: Dana's bell counts it without a reload, and says so to a screen reader
    expect(count).to_have_text("1")
    expect(bell).to_have_attribute("aria-label", "Notifications, 1 unread")
    expect(desk.get_by_test_id("notification-count-spoken")).to_have_text("1 unread notification")
    screens.shoot("the bell counts the assignment")

    # when: she opens the list by keyboard
    bell.focus()
    desk.keyboard.press("Enter")
    panel = desk.get_by_test_id("notification-panel")
    expect(panel).to_be_visible()
    expect(bell).to_have_attribute("aria-expanded", "true")
    item = panel.get_by_test_id("notification").first
    expect(item).to_have_attribute("data-kind", "ASSIGNED")
    expect(item).to_contain_text(f"{case['number']} was assigned to you.")
    expect(item).to_contain_text("Assigned to you")
    assert wcag_violations(desk, ".notification-bell") == []
    screens.shoot("the list")

    # when: she opens the notification (focus is on it: the panel's first button is "Mark all read",
    # disabled only when nothing is unread, so Tab order is bell → mark all read → the notifications)
    item.get_by_role("button").press("Enter")

    # then: the case is open, the notification read, the count back to 0, all without a reload
    view = desk.get_by_test_id("case-view")
    expect(view).to_have_attribute("data-case-id", case["id"])
    expect(count).to_have_text("0")
    expect(panel).to_be_hidden()
    bell.click()
    expect(panel.get_by_test_id("notification").first).not_to_have_class("notification unread")
    expect(panel.get_by_test_id("notifications-mark-all-read")).to_be_disabled()
    desk.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(bell).to_be_focused()
    screens.shoot("opened and read")

    # when: Maria gives the case to Eli
    run_action(manager.page, "ASSIGN", assigneeId="eli")
    expect(manager.page.get_by_test_id("case-assignee")).to_contain_text("Eli Helper")
    # then: Dana is told it was taken from her, at once; the newest is listed first
    expect(count).to_have_text("1")
    bell.click()
    newest = panel.get_by_test_id("notification").first
    expect(newest).to_have_attribute("data-kind", "UNASSIGNED")
    expect(newest).to_contain_text(f"{case['number']} was taken from you and assigned to eli.")
    expect(panel.get_by_test_id("notification")).to_have_count(2)
    # when: she marks all read
    panel.get_by_test_id("notifications-mark-all-read").click()
    # then: nothing unread, the list kept, focus back on the bell
    expect(count).to_have_text("0")
    expect(panel.locator(".notification.unread")).to_have_count(0)
    expect(panel.get_by_test_id("notification")).to_have_count(2)
    expect(bell).to_be_focused()
    assert agent.marker() == marker
    screens.shoot("all read")
