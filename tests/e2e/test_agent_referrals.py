"""Referrals in the agent dashboard, between two real casegraph instances on loopback.

The e2e server is the city (``CASEGRAPH_AGENCY_CODE=CITY``); a second ``casegraph serve`` with a
SQLite database of its own is the health department (``HEALTH``). Their administrators register
each other over GraphQL with a shared secret, as in tests/referrals/test_two_instances.py.

Outbound, in the agent's window: Dana refers a case with a note; the health department has not
configured a case type for the city's referrals yet, so it refuses it: the referral shows Failed
with the partner's words and a Retry button. Its administrator fixes that; Dana retries, and the
referral goes Pending delivery → Delivered with the partner's case number. At the health
department (over GraphQL) Grace takes the case and resolves it: Dana's open case view shows
Accepted, then the partner's resolution, and REFERRAL_UPDATE rows in the history, all live.

Inbound: the health department refers a case to the city; it appears in Dana's queue, received
from the partner. Dana, not yet its agent, may accept it but is offered no rejection; she accepts
it, takes it, then rejects it (a reason is needed): the case is cancelled here, and the health
department's referral says rejected, why.

Every wait is Playwright's auto-waiting ``expect`` on the page as it is, never a reload (a marker
on ``window`` survives to the end). Screenshots per step, as in the other e2e tests.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import E2E_AGENCY_CODE, E2EServer, Screens
from tests.e2e.test_agent_and_constituent import run_action, sign_in
from tests.e2e.world import CASE_TYPE, act_as
from tests.live.support import GraphQLHttp, LiveWorld, ServerProcess, run_sync, server_env, set_up_world, start_server

SHARED_SECRET: Final = "city-and-health-share-this-secret-0123456789"
HEALTH_SECRET: Final = "health-jwt-secret-for-the-e2e-referrals-0123456789"
HEALTH: Final = "HEALTH"
HEALTH_NAME: Final = "Health department"
WAIT: Final = 30.0
NOTE: Final = "Pest control is yours: rats by the playground."
SOLUTION: Final = "Baited and sealed the drain."
REJECTION: Final = "Not ours: private land, the owner must deal with it."
PARTNER_FIELDS: Final = "partner { code }"
REFERRAL_FIELDS: Final = "id status reason remoteCaseId remoteCaseNumber"

# Records each state the page shows for the referrals, so a short-lived one cannot go unseen.
WATCH_REFERRALS: Final = """() => {
  const view = document.querySelector('[data-testid="case-view"]');
  window.__referralStates = [];
  const note = () => {
    const states = [...view.querySelectorAll('[data-testid="referral"]')]
      .map((item) => item.querySelector('[data-testid="referral-status"]').textContent);
    const last = window.__referralStates[window.__referralStates.length - 1];
    if (states.length && states.join("|") !== last) window.__referralStates.push(states.join("|"));
  };
  note();
  new MutationObserver(note).observe(view, { subtree: true, childList: true, characterData: true });
}"""


@dataclass
class Health:
    """The partner instance: its server, its people and its GraphQL endpoint."""

    server: ServerProcess
    world: LiveWorld

    def data(self, query: str, variables: dict[str, Any] | None = None, who: str = "ada") -> dict[str, Any]:
        async def run() -> dict[str, Any]:
            async with GraphQLHttp(self.server.http_url) as gql:
                return await gql.data(query, variables, token=self.world.token(who))

        return run_sync(run)

    def mutate(self, field: str, input_: dict[str, Any], selection: str, who: str) -> dict[str, Any]:
        async def run() -> dict[str, Any]:
            async with GraphQLHttp(self.server.http_url) as gql:
                return await gql.mutate(field, input_, selection, token=self.world.token(who))

        return run_sync(run)

    def referral(self, case_id: str) -> dict[str, Any]:
        data = self.data(
            f"query($id: ID!) {{ case(id: $id) {{ referrals {{ {REFERRAL_FIELDS} }} }} }}", {"id": case_id}
        )
        [only] = data["case"]["referrals"]
        return dict(only)


@pytest.fixture
def health(e2e_server: E2EServer, tmp_path: Path) -> Iterator[Health]:
    """The health department, registered with the city and the city with it.

    It does not say yet what the city's referrals become there (no receiveCaseTypeCode): the
    city's first referral is refused until its administrator sets that.
    """
    env = server_env(
        database_url=f"sqlite://{tmp_path / 'health.sqlite3'}",
        secret=HEALTH_SECRET,
        agency_code=HEALTH,
        outbox_interval="0.2",
    )
    server = start_server("health", env, tmp_path / "health", wait_ready=True)
    try:

        async def configure() -> LiveWorld:
            world = await set_up_world(server.http_url, secret=HEALTH_SECRET)
            async with GraphQLHttp(server.http_url) as gql:
                await gql.mutate(
                    "createPartnerAgency",
                    {
                        "code": E2E_AGENCY_CODE,
                        "name": "City of Example",
                        "graphqlUrl": f"{e2e_server.url}/graphql",
                        "sharedSecret": SHARED_SECRET,
                    },
                    PARTNER_FIELDS,
                    token=world.token("ada"),
                )
            async with GraphQLHttp(e2e_server.url) as gql:
                await gql.mutate(
                    "createPartnerAgency",
                    {
                        "code": HEALTH,
                        "name": HEALTH_NAME,
                        "graphqlUrl": f"{server.http_url}/graphql",
                        "sharedSecret": SHARED_SECRET,
                        "receiveCaseTypeCode": CASE_TYPE,
                    },
                    PARTNER_FIELDS,
                    token=e2e_server.world.tokens["ada"],
                )
            return world

        yield Health(server, run_sync(configure))
    finally:
        server.stop()


def eventually(check: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def referral_states(page: Page) -> list[str]:
    states: list[str] = page.evaluate("() => window.__referralStates")
    return states


def history_details(page: Page, action: str) -> Any:
    view = page.get_by_test_id("case-view")
    return view.locator(f'[data-testid="history-item"][data-action="{action}"] [data-testid="history-details"]')


def test_agent_refers_a_case_and_decides_one_received_live(
    open_window: Any, e2e_server: E2EServer, health: Health, screens: Screens
) -> None:
    started = time.monotonic()
    city_url = e2e_server.url
    case = run_sync(
        lambda: act_as(
            city_url,
            "alice",
            "createCase",
            {"caseTypeCode": CASE_TYPE, "title": "Rats near the playground", "description": "Seen every evening."},
        )
    )
    case_id = str(case["id"])
    run_sync(lambda: act_as(city_url, "dana", "assignToMe", {"caseId": case_id}))

    agent = open_window("agent")
    desk = agent.page
    marker = sign_in(agent, "/", "dana")
    desk.locator(f'[data-testid="queue-row"][data-case-id="{case_id}"]').click()
    view = desk.get_by_test_id("case-view")
    expect(view).to_have_attribute("data-case-id", case_id)
    expect(view.get_by_test_id("referrals")).to_contain_text("Not referred to a partner agency.")
    desk.evaluate(WATCH_REFERRALS)
    screens.shoot("case open, not referred")

    # 1. Dana refers the case with a note; the partner refuses it (nothing configured for the city).
    form = view.get_by_test_id("refer-form")
    expect(form).to_be_visible()
    form.get_by_label("Partner agency").select_option(HEALTH)
    form.get_by_label("Note for the partner").fill(NOTE)
    form.get_by_test_id("refer-submit").click()
    item = view.get_by_test_id("referral")
    expect(item).to_have_count(1)
    expect(item.get_by_test_id("referral-partner")).to_have_text(f"To {HEALTH_NAME}")
    expect(item).to_contain_text(NOTE)
    expect(form.get_by_label("Note for the partner")).to_have_value("")
    expect(history_details(desk, "REFER")).to_have_text(f"Referred to {HEALTH}, with a note")
    expect(item).to_have_attribute("data-status", "FAILED")
    status = item.get_by_test_id("referral-status")
    expect(status).to_contain_text(
        "Failed (VALIDATION_FAILED: No case type is configured here for referrals from CITY."
    )
    expect(history_details(desk, "REFERRAL_UPDATE")).to_have_text(f"{HEALTH}: delivery failed")
    assert referral_states(desk)[:2] == ["Pending delivery", status.text_content()], referral_states(desk)
    screens.shoot("referral refused by the partner")

    # 2. The partner's administrator fixes it; Dana retries: pending, then delivered.
    health.mutate(
        "updatePartnerAgency", {"code": E2E_AGENCY_CODE, "receiveCaseTypeCode": "PAYMENT"}, PARTNER_FIELDS, who="ada"
    )
    item.get_by_role("button", name=f"Retry the referral to {HEALTH_NAME}").click()
    expect(item).to_have_attribute("data-status", "DELIVERED")
    expect(status).to_have_text("Delivered")
    remote_number = item.get_by_test_id("referral-remote-number")
    expect(remote_number).to_have_text(re.compile(r"^CS\d+$"))
    number = remote_number.text_content()
    expect(history_details(desk, "REFERRAL_UPDATE").last).to_have_text(f"{HEALTH}: delivered ({number})")
    expect(item.get_by_test_id("referral-retry")).to_have_count(0)
    states = referral_states(desk)
    assert states[-2:] == ["Pending delivery", "Delivered"], states
    screens.shoot("referral delivered after a retry")

    # At the health department: exactly one case for it, from the city, with the note.
    nodes = [
        e["node"]
        for e in health.data("{ cases(first: 10) { edges { node { id number channel description } } } }")["cases"][
            "edges"
        ]
    ]
    assert [(n["number"], n["channel"]) for n in nodes] == [(number, "PARTNER")]
    received_id = nodes[0]["id"]
    assert NOTE in nodes[0]["description"]

    # 3. Grace takes it at the health department: Dana sees it accepted, live.
    health.mutate("assignToMe", {"caseId": received_id}, "case { status }", who="grace")
    expect(item).to_have_attribute("data-status", "ACCEPTED")
    expect(status).to_have_text("Accepted")
    expect(item.get_by_test_id("referral-remote-status")).to_have_text("Open")
    expect(history_details(desk, "REFERRAL_UPDATE").last).to_have_text(f"{HEALTH}: accepted — open ({number})")
    screens.shoot("partner accepted")

    # 4. Grace resolves it: Dana sees the partner's resolution, live.
    health.mutate(
        "proposeSolution",
        {"caseId": received_id, "resolutionCode": "SOLVED", "resolutionNotes": SOLUTION},
        "case { status }",
        who="grace",
    )
    expect(item.get_by_test_id("referral-remote-status")).to_have_text("Resolved")
    expect(item.get_by_test_id("referral-resolution-code")).to_have_attribute("data-resolution", "SOLVED")
    expect(item.get_by_test_id("referral-resolution-notes")).to_have_text(SOLUTION)
    expect(status).to_have_text("Accepted")
    expect(history_details(desk, "REFERRAL_UPDATE").last).to_have_text(f"{HEALTH}: resolved — solved")
    expect(history_details(desk, "REFERRAL_UPDATE")).to_have_count(4)  # failed, delivered, accepted, resolved
    expect(view.get_by_test_id("case-status")).to_have_attribute(
        "data-status", "OPEN"
    )  # the agent decides what follows
    screens.shoot("partner resolved")

    # 5. The health department refers one of its cases to the city: it reaches Dana's queue.
    pothole = health.mutate(
        "createCase",
        {
            "caseTypeCode": "POTHOLE",
            "title": "Needle bin overflowing",
            "description": "By the bus stop.",
            "impact": 2,
            "urgency": 2,
        },
        "case { id number }",
        who="alice",
    )["case"]
    health.mutate("assignToMe", {"caseId": pothole["id"]}, "case { status }", who="eli")
    health.mutate(
        "referCase",
        {"caseId": pothole["id"], "partnerCode": E2E_AGENCY_CODE, "note": "Street cleaning?"},
        "referral { id }",
        who="eli",
    )
    sent = eventually(
        lambda: _when(health.referral(pothole["id"]), lambda r: r["status"] == "DELIVERED"),
        "the health department's referral to be delivered",
    )
    inbound_id = sent["remoteCaseId"]
    row = desk.locator(f'[data-testid="queue-row"][data-case-id="{inbound_id}"]')
    expect(row).to_contain_text("Needle bin overflowing")
    row.click()
    expect(view).to_have_attribute("data-case-id", inbound_id)
    expect(view.get_by_test_id("case-channel")).to_have_text("Partner")
    inbound = view.get_by_test_id("referral")
    expect(inbound).to_have_attribute("data-direction", "INBOUND")
    expect(inbound.get_by_test_id("referral-partner")).to_have_text(f"From {HEALTH_NAME}")
    expect(inbound.get_by_test_id("referral-status")).to_have_text("Received (awaiting our decision)")
    expect(inbound.get_by_test_id("referral-remote-number")).to_have_text(pothole["number"])
    screens.shoot("referral received from the partner")

    # 6. Dana, an agent of the group but not the case's, may accept it but not turn it down (the
    # server would refuse): she accepts, and the partner is told.
    expect(inbound.get_by_test_id("referral-reject")).to_have_count(0)
    inbound.get_by_role("button", name=f"Accept the referral from {HEALTH_NAME}").click()
    expect(inbound).to_have_attribute("data-status", "ACCEPTED")
    expect(inbound.get_by_test_id("referral-accept")).to_have_count(0)
    expect(history_details(desk, "ACCEPT_REFERRAL")).to_have_text(f"Accepted the referral from {HEALTH}")
    eventually(lambda: health.referral(pothole["id"])["status"] == "ACCEPTED", "the partner to learn of the acceptance")
    screens.shoot("received referral accepted")

    # 7. Dana takes the case, then rejects the referral, which needs a reason: the case is cancelled here.
    run_action(desk, "ASSIGN_TO_ME")
    expect(view.get_by_test_id("case-assignee")).to_contain_text("Dana Desk")
    inbound.get_by_role("button", name=f"Reject the referral from {HEALTH_NAME}").click()
    inbound.get_by_test_id("referral-reject-submit").click()
    expect(inbound.get_by_test_id("referral-reject-error")).to_have_text(
        "Please give a reason: the partner agency is told."
    )
    inbound.get_by_label(f"Why reject the referral from {HEALTH_NAME}?", exact=False).fill(REJECTION)
    inbound.get_by_test_id("referral-reject-submit").click()
    expect(view.get_by_test_id("case-status")).to_have_attribute("data-status", "CANCELLED")
    expect(inbound).to_have_attribute("data-status", "REJECTED")
    expect(inbound.get_by_test_id("referral-status")).to_have_text(f"Rejected ({REJECTION})")
    expect(inbound.get_by_test_id("referral-reject")).to_have_count(0)
    expect(history_details(desk, "REJECT_REFERRAL")).to_have_text(f"Rejected the referral from {HEALTH}")
    expect(view.get_by_test_id("refer-form")).to_be_hidden()
    told = eventually(
        lambda: _when(health.referral(pothole["id"]), lambda r: r["status"] == "REJECTED"),
        "the partner to learn of the rejection",
    )
    assert told["reason"] == REJECTION
    screens.shoot("received referral rejected")

    assert agent.marker() == marker  # never reloaded
    print(f"referrals on {e2e_server.backend}: {time.monotonic() - started:.1f}s")


def _when(value: dict[str, Any], predicate: Callable[[dict[str, Any]], Any]) -> dict[str, Any] | None:
    return value if predicate(value) else None
