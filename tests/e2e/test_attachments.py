"""Attachments in the portal and the dashboard, in a real browser (issue 18): a constituent
attaches a phone photo to a new request with the file picker, sees its thumbnail (a plain <img> of
the server's link, which the browser fetches with its download cookie) and saves the file by a plain
link, which comes back without the photo's GPS
position; the agent sees files arrive live, dropped or picked; a file over the limit is refused by
the page before a byte is sent; another constituent cannot fetch one.

Every test runs against each store (``STORES``: a directory, and a bucket of an S3-compatible
server on loopback) on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from casegraph.auth import issue_token
from casegraph.domain.enums import Role
from casegraph.settings import DEV_SECRET, Settings
from casegraph.web import STATIC
from tests.conftest import BACKENDS
from tests.e2e.conftest import E2EServer, Screens, running_e2e_server
from tests.e2e.portal_steps import file_case, sign_in_with_demo_user
from tests.e2e.world import SERVICE, token
from tests.services.object_store_server import ObjectStoreServer

# Where the server keeps files: a directory, or a bucket of the S3-compatible server the
# session's `object_store_server` fixture starts on loopback (moto's server mode).
STORES: Final = ("directory", "s3")
MIB: Final = 1024 * 1024
THUMBNAIL_LINK: Final = re.compile(r"^/attachments/[^?]+\?variant=thumbnail&expires=\d+&signature=\w+$")
# What the browser's own request for a link answers, cookies and all (as an <img> or a link would).
STATUS_OF: Final = "async (url) => (await fetch(url)).status"


@pytest.fixture(scope="module", params=[(backend, store) for backend in BACKENDS for store in STORES])
def attachments_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2EServer]:
    backend, store = request.param
    workdir = tmp_path_factory.mktemp(f"e2e-files-{backend}-{store}")
    extra_env = {"CASEGRAPH_ATTACHMENTS_DIR": str(workdir / "files")}
    if store == "s3":
        objects: ObjectStoreServer = request.getfixturevalue("object_store_server")
        bucket = objects.new_bucket()
        extra_env |= {
            "CASEGRAPH_ATTACHMENTS_URL": f"s3://{bucket.bucket}/{bucket.prefix}",
            "CASEGRAPH_S3_ENDPOINT_URL": objects.endpoint_url,
        }
    with running_e2e_server(backend, workdir, extra_env=extra_env) as server:
        yield server


@pytest.fixture
def server_under_test(attachments_server: E2EServer) -> E2EServer:
    return attachments_server


def phone_photo(size: tuple[int, int] = (800, 600)) -> bytes:
    image = Image.new("RGB", size, (90, 120, 200))
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
    expect(thumbnail).to_have_attribute("src", THUMBNAIL_LINK)
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
    expect(shown.get_by_test_id("attachment-thumbnail")).to_have_attribute("src", THUMBNAIL_LINK)
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


def sign_in_agent(page: Page, who: str = "dana") -> None:
    page.goto("/")
    page.locator(f'[data-testid="dev-user"][data-user-id="{who}"]').click()
    expect(page.get_by_test_id("live-status")).to_have_text("live")


def drop_files(page: Page, zone_testid: str, files: list[tuple[str, str, bytes]]) -> None:
    """Drop files on a drop zone as a browser does when they are dragged from the desktop."""
    transfer = page.evaluate_handle(
        """(files) => {
          const transfer = new DataTransfer();
          for (const [name, type, bytes] of files) transfer.items.add(new File([new Uint8Array(bytes)], name, { type }));
          return transfer;
        }""",
        [[name, kind, list(content)] for name, kind, content in files],
    )
    page.get_by_test_id(zone_testid).dispatch_event("drop", {"dataTransfer": transfer})


def saved_picture(page: Page, button: Any, tmp_path: Path, name: str) -> Path:
    with page.expect_download() as saving:
        button.click()
    saved = tmp_path / name
    saving.value.save_as(saved)
    return saved


def test_a_phone_photo_sent_with_a_new_request_reaches_the_agent_without_its_position_and_more_arrive_live(
    open_window: Any, screens: Screens, tmp_path: Path
) -> None:
    # given: dana on the dashboard, alice on the portal's form for a new request
    constituent, agent = open_window("constituent"), open_window("agent")
    portal, desk = constituent.page, agent.page
    sign_in_agent(desk)
    sign_in_with_demo_user(constituent, "alice")
    portal.locator(f'[data-testid="service"][data-code="{SERVICE}"]').click()
    form = portal.get_by_test_id("file-form")
    form.get_by_test_id("input-title").fill("Broken street light")
    form.get_by_test_id("input-description").fill("The light on Elm St is out; photo attached.")
    # when: she adds the photo from her phone to the request itself — by keyboard: the drop
    # zone's file input takes the focus and opens the chooser — and sends it
    chooser_input = form.get_by_test_id("file-attachments")
    chooser_input.focus()
    expect(chooser_input).to_be_focused()
    with portal.expect_file_chooser() as choosing:
        chooser_input.press("Enter")
    choosing.value.set_files({"name": "IMG_3001.jpg", "mimeType": "image/jpeg", "buffer": phone_photo()})
    expect(form.get_by_test_id("file-attachments-chosen")).to_contain_text("IMG_3001.jpg")
    form.get_by_test_id("file-submit").click()
    # then: her request is shown with the photo on it
    detail = portal.get_by_test_id("case-detail")
    expect(detail.get_by_test_id("case-title")).to_have_text("Broken street light")
    case_id = detail.get_attribute("data-case-id")
    expect(detail.get_by_test_id("attachment")).to_have_count(1)
    expect(detail.get_by_test_id("attachment-scan")).to_have_text("Not checked for viruses")
    # and: dana opens it from her queue and sees the thumbnail; the file she saves has no GPS
    desk.locator(f'[data-testid="queue-row"][data-case-id="{case_id}"]').click()
    view = desk.get_by_test_id("case-view")
    expect(view).to_have_attribute("data-case-id", str(case_id))
    shown = view.get_by_test_id("attachment")
    expect(shown).to_have_count(1)
    expect(shown.get_by_test_id("attachment-thumbnail")).to_have_attribute("src", THUMBNAIL_LINK)
    expect(shown.get_by_test_id("attachment-scan")).to_have_text("Not scanned")
    saved = saved_picture(desk, shown.get_by_test_id("attachment-download"), tmp_path, "light.jpg")
    with Image.open(saved) as image:
        assert image.size == (800, 600) and not image.getexif() and not image.getexif().get_ifd(0x8825)
    # when: alice drops two more photos on the case at once
    drop_files(
        portal,
        "attachment-drop",
        [("pole.jpg", "image/jpeg", phone_photo()), ("street.jpg", "image/jpeg", phone_photo((640, 480)))],
    )
    expect(detail.get_by_test_id("attachment-chosen")).to_contain_text("pole.jpg, street.jpg")
    detail.get_by_test_id("attachment-submit").click()
    # then: each had its progress line and was attached; dana sees them arrive without a reload
    expect(detail.locator('[data-testid="upload-row"][data-outcome="attached"]')).to_have_count(2)
    expect(view.get_by_test_id("attachment")).to_have_count(3)
    expect(view.get_by_test_id("attachment-thumbnail")).to_have_count(3)
    screens.shoot("dropped photos on both sides")
    # when: dana drops a file for alice on her side
    drop_files(desk, "attachment-drop", [("permit.txt", "text/plain", b"Repair booked for Tuesday.\n")])
    view.get_by_test_id("attachment-submit").click()
    # then: alice sees it live
    expect(view.locator('[data-testid="upload-row"][data-outcome="attached"]')).to_have_count(1)
    expect(detail.get_by_test_id("attachment")).to_have_count(4)
    expect(detail.locator('[data-testid="attachment"]').last).to_contain_text("permit.txt")


def test_a_file_over_the_limit_is_refused_by_the_page_before_it_is_sent(open_window: Any, screens: Screens) -> None:
    # given: alice's request
    window = open_window("constituent")
    page = window.page
    sign_in_with_demo_user(window, "alice")
    file_case(window, "Flooded underpass", "Water up to the knees.")
    detail = page.get_by_test_id("case-detail")
    uploads: list[str] = []
    page.on(
        "request",
        lambda request: (
            uploads.append(request.url) if "multipart" in (request.headers.get("content-type") or "") else None
        ),
    )
    # when: she picks a 20 MiB video-sized file beside a small photo
    detail.get_by_test_id("attachment-file").set_input_files(
        [
            {"name": "flood.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8" + b"\x00" * (20 * MIB)},
            {"name": "small.jpg", "mimeType": "image/jpeg", "buffer": phone_photo()},
        ]
    )
    detail.get_by_test_id("attachment-submit").click()
    # then: the big one is refused in her words, never sent; the small one is attached
    refused = detail.locator('[data-testid="upload-row"][data-file="flood.jpg"]')
    expect(refused).to_have_attribute("data-outcome", "refused")
    expect(refused).to_contain_text("flood.jpg is too large: a file may be up to 10 MB.")
    expect(detail.locator('[data-testid="upload-row"][data-file="small.jpg"]')).to_have_attribute(
        "data-outcome", "attached"
    )
    expect(detail.get_by_test_id("attachment")).to_have_count(1)
    assert len(uploads) == 1
    screens.shoot("refused as too large")
    # when: she reads the portal in Spanish and picks the big file, and a program, again
    spanish = json.loads((STATIC / "portal" / "i18n" / "es.json").read_text(encoding="utf-8"))
    page.get_by_test_id("language").select_option("es")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(detail.locator(".drop-zone-title")).to_have_text(spanish["attachments.label"])
    detail.get_by_test_id("attachment-file").set_input_files(
        [
            {"name": "flood.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8" + b"\x00" * (20 * MIB)},
            {"name": "setup.exe", "mimeType": "application/x-msdownload", "buffer": b"MZ" + b"\x00" * 100},
        ]
    )
    detail.get_by_test_id("attachment-submit").click()
    # then: both refusals are in Spanish, and still nothing was sent
    expect(detail.locator('[data-testid="upload-row"][data-file="flood.jpg"]')).to_contain_text(
        spanish["attachments.refused.tooLarge"].replace("{name}", "flood.jpg").replace("{megabytes}", "10")
    )
    expect(detail.locator('[data-testid="upload-row"][data-file="setup.exe"]')).to_contain_text(
        spanish["attachments.refused.type"].replace("{name}", "setup.exe")
    )
    assert len(uploads) == 1
    page.get_by_test_id("language").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_another_constituent_can_fetch_the_file_neither_by_its_link_nor_by_its_id(
    open_window: Any, server_under_test: E2EServer
) -> None:
    # given: alice's photo on her request, and its link as the server made it for her
    window = open_window("constituent")
    sign_in_with_demo_user(window, "alice")
    case_id, _ = file_case(window, "Graffiti on the library", "Photo attached.")
    detail = window.page.get_by_test_id("case-detail")
    detail.get_by_test_id("attachment-file").set_input_files(
        {"name": "wall.jpg", "mimeType": "image/jpeg", "buffer": phone_photo()}
    )
    detail.get_by_test_id("attachment-submit").click()
    expect(detail.get_by_test_id("attachment")).to_have_count(1)
    query = "query($id: ID!) { case(id: $id) { attachments { id url } } }"
    bruno = issue_token(Settings(jwt_secret=DEV_SECRET), sub="bruno", roles=[Role.CONSTITUENT], name="Bruno")
    with httpx.Client(base_url=server_under_test.url, timeout=30) as http:
        alices = http.post(
            "/graphql",
            json={"query": query, "variables": {"id": case_id}},
            headers={"Authorization": f"Bearer {token('alice')}"},
        ).json()["data"]["case"]["attachments"][0]
        # when: bruno, another constituent, uses her link, asks for the file by id, and for the case
        by_link = http.get(alices["url"], headers={"Authorization": f"Bearer {bruno}"})
        by_id = http.get(f"/attachments/{alices['id']}", headers={"Authorization": f"Bearer {bruno}"})
        listing = http.post(
            "/graphql",
            json={"query": query, "variables": {"id": case_id}},
            headers={"Authorization": f"Bearer {bruno}"},
        ).json()
        hers = http.get(alices["url"], headers={"Authorization": f"Bearer {token('alice')}"})
    # then: refused every way, while the link still works for alice
    assert by_link.status_code == 403 and by_id.status_code in {403, 404}
    assert listing["data"]["case"] is None or listing.get("errors")
    assert hers.status_code == 200 and hers.headers["content-type"] == "image/jpeg"


def test_a_files_plain_link_works_only_in_the_browser_that_signed_in_and_until_it_signs_out(
    open_window: Any, screens: Screens
) -> None:
    # given: alice's photo on her request
    window = open_window("constituent")
    page = window.page
    window.allow(r"status of 40[13]")  # the refusals this test asks for, as the browser logs them
    sign_in_with_demo_user(window, "alice")
    file_case(window, "Broken bench", "In the park, by the pond.")
    detail = page.get_by_test_id("case-detail")
    detail.get_by_test_id("attachment-file").set_input_files(
        {"name": "bench.jpg", "mimeType": "image/jpeg", "buffer": phone_photo()}
    )
    detail.get_by_test_id("attachment-submit").click()
    attachment = detail.get_by_test_id("attachment")
    expect(attachment).to_have_count(1)
    # then: the thumbnail is an <img> of the server's link, shown; the download is a plain link
    thumbnail = attachment.get_by_test_id("attachment-thumbnail")
    expect(thumbnail).to_have_attribute("src", THUMBNAIL_LINK)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    download = attachment.get_by_test_id("attachment-download")
    expect(download).to_have_attribute("href", re.compile(r"^/attachments/[^?]+\?expires="))
    link = download.get_attribute("href")
    assert link is not None
    assert page.evaluate(STATUS_OF, link) == 200
    screens.shoot("thumbnail by link")
    # when: dana, signed in in her own browser, opens alice's link
    desk_window = open_window("agent")
    desk_window.allow(r"status of 40[13]")
    sign_in_agent(desk_window.page)
    # then: it is not hers
    assert desk_window.page.evaluate(STATUS_OF, link) == 403
    # when: alice signs out
    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("dev-users")).to_be_visible()
    # then: the same link, still in its time, no longer opens in her browser
    assert page.evaluate(STATUS_OF, link) == 401
