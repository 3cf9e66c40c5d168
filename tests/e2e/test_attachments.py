"""Attachments in the portal, in a real browser (issue 18): a constituent attaches a phone photo
to a new request with the file picker, sees its thumbnail (fetched with her token, shown from a
blob: URL) and saves the file, which comes back without the photo's GPS position. With the files in
a directory and in an S3-compatible bucket, on both backends."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.conftest import BACKENDS
from tests.e2e.conftest import E2EServer, Screens, running_e2e_server
from tests.e2e.portal_steps import file_case, sign_in_with_demo_user
from tests.services.object_store_server import ObjectStoreServer

STORES = ["directory", "s3"]


@pytest.fixture(scope="module", params=[(b, s) for b in BACKENDS for s in STORES], ids=lambda p: "-".join(p))
def attachment_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2EServer]:
    """A server per backend and store: the directory, or a bucket of an S3-compatible server."""
    backend, store = request.param
    extra_env: dict[str, str] = {}
    if store == "s3":
        objects: ObjectStoreServer = request.getfixturevalue("object_store_server")
        bucket = objects.new_bucket()
        extra_env = {
            "CASEGRAPH_ATTACHMENTS_URL": f"s3://{bucket.bucket}/{bucket.prefix}",
            "CASEGRAPH_S3_ENDPOINT_URL": objects.endpoint_url,
        }
    workdir = tmp_path_factory.mktemp(f"e2e-files-{backend}-{store}")
    with running_e2e_server(backend, workdir, extra_env=extra_env) as server:
        yield server


@pytest.fixture
def server_under_test(attachment_server: E2EServer) -> E2EServer:
    return attachment_server


def phone_photo() -> bytes:
    image = Image.new("RGB", (800, 600), (90, 120, 200))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (40.0, 26.0, 46.0), 3: "W", 4: (79.0, 58.0, 56.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_a_constituent_attaches_a_phone_photo_and_gets_it_back_without_its_position(
    open_window: Any, screens: Screens, tmp_path: Path
) -> None:
    # given: alice's new request
    window = open_window("constituent")
    page = window.page
    sign_in_with_demo_user(window, "alice")
    file_case(window, "Pothole by the school", "Deep, next to the crossing.")
    detail = page.get_by_test_id("case-detail")
    # when: she picks the photo from her phone and attaches it
    detail.get_by_test_id("attachment-file").set_input_files(
        {"name": "IMG_2031.jpg", "mimeType": "image/jpeg", "buffer": phone_photo()}
    )
    detail.get_by_test_id("attachment-submit").click()
    # then: it is listed with its thumbnail, and the history says she added a file
    attachment = detail.get_by_test_id("attachment")
    expect(attachment).to_have_count(1)
    expect(attachment).to_have_attribute("data-scan-status", "NOT_SCANNED")
    thumbnail = attachment.get_by_test_id("attachment-thumbnail")
    expect(thumbnail).to_have_attribute("src", re.compile(r"^blob:"))
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    assert thumbnail.evaluate("img => img.naturalWidth") <= 320
    expect(detail.locator('[data-testid="timeline-item"][data-action="ADD_ATTACHMENT"]')).to_have_count(1)
    screens.shoot("attached")
    # and: saving it gives the picture without its EXIF (and so without GPS)
    with page.expect_download() as saving:
        attachment.get_by_test_id("attachment-download").click()
    saved = tmp_path / "saved.jpg"
    saving.value.save_as(saved)
    assert saving.value.suggested_filename == "IMG_2031.jpg"
    with Image.open(saved) as image:
        assert image.size == (800, 600)
        assert not image.getexif()


def test_the_agent_sees_the_photo_live_and_adds_an_internal_file_the_constituent_never_sees(
    open_window: Any, screens: Screens
) -> None:
    # given: alice on the portal with a new request, dana with it open on the dashboard
    constituent, agent = open_window("constituent"), open_window("agent")
    portal, desk = constituent.page, agent.page
    sign_in_with_demo_user(constituent, "alice")
    desk.goto("/")
    desk.locator('[data-testid="dev-user"][data-user-id="dana"]').click()
    expect(desk.get_by_test_id("live-status")).to_have_text("live")
    case_id, _ = file_case(constituent, "Fallen sign", "The stop sign on 5th lies on the pavement.")
    desk.locator(f'[data-testid="queue-row"][data-case-id="{case_id}"]').click()
    view = desk.get_by_test_id("case-view")
    expect(view).to_have_attribute("data-case-id", case_id)
    # when: alice attaches her photo
    detail = portal.get_by_test_id("case-detail")
    detail.get_by_test_id("attachment-file").set_input_files(
        {"name": "sign.jpg", "mimeType": "image/jpeg", "buffer": phone_photo()}
    )
    detail.get_by_test_id("attachment-submit").click()
    # then: dana's open case shows it, thumbnail and all, without a reload
    shown = view.get_by_test_id("attachment")
    expect(shown).to_have_count(1)
    expect(shown.get_by_test_id("attachment-thumbnail")).to_have_attribute("src", re.compile(r"^blob:"))
    # when: dana attaches an internal note for the crew
    view.get_by_test_id("attachment-file").set_input_files(
        {"name": "crew.txt", "mimeType": "text/plain", "buffer": b"Bring the long ladder.\n"}
    )
    view.get_by_test_id("attachment-internal").check()
    view.get_by_test_id("attachment-submit").click()
    # then: dana sees both, alice (live) still only her photo
    expect(view.get_by_test_id("attachment")).to_have_count(2)
    expect(view.locator('[data-testid="attachment"][data-internal="true"]')).to_contain_text("crew.txt")
    expect(detail.locator('[data-testid="timeline-item"][data-action="ADD_ATTACHMENT"]')).to_have_count(1)
    expect(detail.get_by_test_id("attachment")).to_have_count(1)
    screens.shoot("agent and constituent files")
