"""How the agent dashboard words referrals (``casegraph/web/static/agent/referrals.js``).

The states a browser test cannot reach cheaply (a delivery attempt failing and being retried, a
partner rejecting or cancelling) are worded here, by the module itself run in Node.js: the
referral's status in plain words, whether the refer form is offered, and the history's text of
each referral event. tests/e2e/test_agent_referrals.py shows the common path in a browser.
Needs Node.js (skipped without it; CI refuses to).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any, Final

import pytest

from casegraph.web import STATIC
from tests.conftest import IN_CI

# Reads [function name, ...arguments] calls as JSON on stdin, prints their results as JSON.
RUN: Final = """
const referrals = await import(process.argv[1] + "/agent/referrals.js");
let input = "";
for await (const chunk of process.stdin) input += chunk;
const results = JSON.parse(input).map(([name, ...args]) => referrals[name](...args));
console.log(JSON.stringify(results));
"""


def call(*calls: list[Any]) -> list[Any]:
    node = shutil.which("node")
    if node is None:
        if IN_CI:
            pytest.fail("CI must have Node.js to check the dashboard's referral wording")
        pytest.skip("node is not installed")
    completed = subprocess.run(
        [node, "--input-type=module", "-e", RUN, STATIC.resolve().as_uri()],
        input=json.dumps(list(calls)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    results: list[Any] = json.loads(completed.stdout)
    return results


def status(status: str, direction: str = "OUTBOUND", **more: str | None) -> list[Any]:
    return ["referralStatus", {"status": status, "direction": direction, "lastError": None, "reason": None, **more}]


def test_each_referral_status_in_plain_words() -> None:
    assert call(
        status("PENDING"),
        status("PENDING", lastError="ConnectError: All connection attempts failed"),
        status("DELIVERED"),
        status("DELIVERED", "INBOUND"),
        status("ACCEPTED"),
        status("REJECTED", reason="Not ours."),
        status("REJECTED"),
        status("FAILED", lastError="VALIDATION_FAILED: No case type is configured here."),
    ) == [
        {"label": "Pending delivery", "detail": ""},
        {"label": "Pending delivery", "detail": "retrying: ConnectError: All connection attempts failed"},
        {"label": "Delivered", "detail": ""},
        {"label": "Received", "detail": "awaiting our decision"},
        {"label": "Accepted", "detail": ""},
        {"label": "Rejected", "detail": "Not ours."},
        {"label": "Rejected", "detail": ""},
        {"label": "Failed", "detail": "VALIDATION_FAILED: No case type is configured here."},
    ]


def test_the_refer_form_is_offered_exactly_when_the_server_offers_refer() -> None:
    # given: the case as the dashboard reads it; availableActions is the server's verdict for the viewer
    def offered(actions: list[str], deleted_at: str | None = None) -> list[Any]:
        return ["mayOfferReferral", {"status": "OPEN", "deletedAt": deleted_at, "availableActions": actions}]

    # then: a group agent who is not the assignee (no REFER) gets no form, whatever their role
    assert call(
        offered(["ASSIGN_TO_ME", "UPDATE", "REFER", "CLOSE"]),
        offered(["UPDATE", "LINK_ARTICLE"]),
        offered([]),
        offered(["REFER"], "2026-01-05T10:00:00+00:00"),
        ["refersCases", ["AGENT"]],
        ["refersCases", ["MANAGER"]],
        ["refersCases", ["ADMIN"]],
        ["refersCases", ["FIELD_AGENT"]],
        ["refersCases", ["CONSTITUENT"]],
    ) == [True, False, False, False, True, True, True, False, False]


def event(action: str, **details: Any) -> list[Any]:
    return [
        "describeReferralEvent",
        {"action": action, "details": {"partner": "HEALTH", **details}},
        [{"id": "7", "title": "Rat baiting", "state": "OPEN"}],
    ]


def test_referral_events_read_as_sentences_in_the_history() -> None:
    assert call(
        event("REFER", taskId=None, note=False),
        event("REFER", taskId=None, note=True),
        event("REFER", taskId="7", note=False),
        event("REFERRAL_UPDATE", status="FAILED", remoteCaseNumber=None),
        event("REFERRAL_UPDATE", status="DELIVERED", remoteCaseNumber="CS0001005", remoteStatus=None),
        event("REFERRAL_UPDATE", status="ACCEPTED", remoteCaseNumber="CS0001005", remoteStatus="OPEN"),
        event(
            "REFERRAL_UPDATE",
            status="ACCEPTED",
            remoteCaseNumber="CS0001005",
            remoteStatus="RESOLVED",
            resolutionCode="SOLVED",
        ),
        event(
            "REFERRAL_UPDATE",
            status="ACCEPTED",
            remoteCaseNumber="CS0001005",
            remoteStatus="CLOSED",
            resolutionCode=None,
        ),
        event("REFERRAL_UPDATE", status="REJECTED", remoteCaseNumber="CS0001005", remoteStatus="CANCELLED"),
        event("REFERRAL_UPDATE", status="ACCEPTED", remoteCaseNumber="CS0001005", remoteStatus="CANCELLED"),
        event("ACCEPT_REFERRAL", status="ACCEPTED"),
        event("REJECT_REFERRAL", status="REJECTED"),
        ["describeReferralEvent", {"action": "ASSIGN_TO_ME", "details": {"assigneeId": "dana"}}, []],
    ) == [
        "Referred to HEALTH",
        "Referred to HEALTH, with a note",
        "Referred task “Rat baiting” to HEALTH",
        "HEALTH: delivery failed",
        "HEALTH: delivered (CS0001005)",
        "HEALTH: accepted — open (CS0001005)",
        "HEALTH: resolved — solved",
        "HEALTH: closed",
        "HEALTH: rejected (CS0001005)",
        "HEALTH: cancelled (CS0001005)",
        "Accepted the referral from HEALTH",
        "Rejected the referral from HEALTH",
        None,
    ]
