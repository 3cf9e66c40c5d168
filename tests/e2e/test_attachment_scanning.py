"""Malware scanning in the pages, in a real browser (issue 18): with a real clamd and an S3-compatible
bucket behind the server, a constituent's EICAR file is quarantined — her portal says it was refused,
live, and the agent's dashboard shows it INFECTED with nothing to download — while her letter is
cleared and can be opened."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import BACKENDS
from tests.e2e.conftest import E2EServer, Screens, running_e2e_server
from tests.e2e.portal_steps import file_case, sign_in_with_demo_user
from tests.services.clamd_server import EICAR, ClamdServer
from tests.services.object_store_server import ObjectStoreServer


@pytest.fixture(scope="module", params=BACKENDS)
def scanning_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    clamd_server: ClamdServer,
    object_store_server: ObjectStoreServer,
) -> Iterator[E2EServer]:
    backend = str(request.param)
    bucket = object_store_server.new_bucket()
    extra_env = {
        "CASEGRAPH_CLAMD_URL": f"tcp://127.0.0.1:{clamd_server.port}",
        "CASEGRAPH_ATTACHMENTS_URL": f"s3://{bucket.bucket}/{bucket.prefix}",
        "CASEGRAPH_S3_ENDPOINT_URL": object_store_server.endpoint_url,
    }
    with running_e2e_server(backend, tmp_path_factory.mktemp(f"e2e-scan-{backend}"), extra_env=extra_env) as server:
        yield server


@pytest.fixture
def server_under_test(scanning_server: E2EServer) -> E2EServer:
    return scanning_server


def test_an_eicar_file_is_refused_live_on_both_sides_and_a_letter_is_cleared(
    open_window: Any, screens: Screens, tmp_path: Path
) -> None:
    # given: alice on the portal with a new request, dana with it open on the dashboard
    constituent, agent = open_window("constituent"), open_window("agent")
    portal, desk = constituent.page, agent.page
    sign_in_with_demo_user(constituent, "alice")
    desk.goto("/")
    desk.locator('[data-testid="dev-user"][data-user-id="dana"]').click()
    expect(desk.get_by_test_id("live-status")).to_have_text("live")
    case_id, _ = file_case(constituent, "Invoice for the repair", "Attached is the invoice.")
    desk.locator(f'[data-testid="queue-row"][data-case-id="{case_id}"]').click()
    view = desk.get_by_test_id("case-view")
    expect(view).to_have_attribute("data-case-id", case_id)
    detail = portal.get_by_test_id("case-detail")
    # when: alice attaches the EICAR test file and a letter
    for name, content in (("invoice.txt", EICAR), ("letter.txt", b"The crossing light is out again.\n")):
        detail.get_by_test_id("attachment-file").set_input_files(
            {"name": name, "mimeType": "text/plain", "buffer": content}
        )
        detail.get_by_test_id("attachment-submit").click()
        expect(detail.locator(f'[data-testid="attachment"]:has-text("{name}")')).to_have_count(1)
    # then: on her page, live, the EICAR file is refused with nothing to open, the letter opens
    infected = detail.locator('[data-testid="attachment"]:has-text("invoice.txt")')
    clean = detail.locator('[data-testid="attachment"]:has-text("letter.txt")')
    expect(infected).to_have_attribute("data-scan-status", "INFECTED")
    expect(infected.get_by_test_id("attachment-scan")).to_be_visible()
    expect(infected.get_by_test_id("attachment-download")).to_be_disabled()
    expect(clean).to_have_attribute("data-scan-status", "CLEAN")
    expect(clean.get_by_test_id("attachment-download")).to_be_enabled()
    expect(detail.locator('[data-testid="timeline-item"][data-action="SCAN_ATTACHMENT"]')).to_have_count(1)
    screens.shoot("refused on the portal")
    # and: dana's dashboard shows the verdicts live and the scanner's finding in the history
    expect(view.locator('[data-testid="attachment"][data-scan-status="INFECTED"]')).to_contain_text("invoice.txt")
    expect(view.locator('[data-testid="attachment"][data-scan-status="CLEAN"]')).to_contain_text("letter.txt")
    expect(
        view.locator('[data-testid="attachment"][data-scan-status="INFECTED"]').get_by_test_id("attachment-download")
    ).to_be_disabled()
    expect(view.locator('[data-testid="history-item"][data-action="SCAN_ATTACHMENT"]')).to_have_count(2)
    screens.shoot("quarantined on the dashboard")
    # and: the letter she saves is her letter
    with portal.expect_download() as saving:
        clean.get_by_test_id("attachment-download").click()
    saved = tmp_path / "letter.txt"
    saving.value.save_as(saved)
    assert saved.read_bytes() == b"The crossing light is out again.\n"
