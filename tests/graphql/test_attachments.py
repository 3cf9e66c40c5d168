"""Attachments over GraphQL (issue 18): addAttachment over the multipart request spec, the files on
a case for who may see them, signed download links bound to their user, removal, and the safety
rules (sniffed types, metadata stripped, limits refused early, nothing left by a refusal)."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from casegraph.domain import lifecycle as lc
from casegraph.domain.attachments import ATTACHMENT_RULES
from casegraph.domain.enums import CaseAction
from casegraph.settings import MIB, Settings
from models import Attachment, CaseEvent
from tests.helpers import FakeClock, GraphQLClient, RecordingPublisher, World, event_count, insert_case
from tests.services.object_store_server import ObjectStoreServer, bucket_keys

ATTACHMENT_FIELDS = "id filename contentType size sha256 scanStatus internal url thumbnailUrl uploadedBy { id }"
ADD_ATTACHMENT = f"""
mutation Add($input: AddAttachmentInput!) {{
  addAttachment(input: $input) {{
    attachment {{ {ATTACHMENT_FIELDS} }}
    case {{ id version }}
    event {{ action type version }}
    errors {{ code field message }}
  }}
}}"""
REMOVE_ATTACHMENT = """
mutation Remove($input: RemoveAttachmentInput!) {
  removeAttachment(input: $input) {
    attachment { id }
    case { id version }
    event { action type }
    errors { code field }
  }
}"""
CASE_ATTACHMENTS = f"""
query Files($id: ID!) {{
  case(id: $id) {{
    attachments {{ {ATTACHMENT_FIELDS} }}
    comments {{ body attachments {{ id }} }}
    workNotes {{ body attachments {{ id }} }}
    attachmentActions
    history {{ edges {{ node {{ action details }} }} }}
  }}
}}"""
CASE_LIMIT = 3 * MIB


@pytest.fixture(params=["directory", "s3"])
def settings(settings: Settings, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """The suite's settings with a store of this test's own (a directory, or a bucket of an
    S3-compatible server: every test runs with both) and a small per-case limit."""
    store: dict[str, Any] = {}
    if request.param == "s3":
        server: ObjectStoreServer = request.getfixturevalue("object_store_server")
        store = {"attachments_url": server.new_bucket(), "s3_endpoint_url": server.endpoint_url}
    return dataclasses.replace(
        settings, attachments_dir=str(tmp_path / "attachments"), attachment_case_max_bytes=CASE_LIMIT, **store
    )


def photo_with_gps(size: tuple[int, int] = (640, 480)) -> bytes:
    """A JPEG as a phone writes it: with EXIF and a GPS position (the requester's home)."""
    image = Image.new("RGB", size, (200, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (40.0, 26.0, 46.0), 3: "W", 4: (79.0, 58.0, 56.0)}  # GPSInfo
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


async def upload(
    client: GraphQLClient,
    token: str | None,
    *,
    case_id: str,
    content: bytes,
    filename: str = "pothole.jpg",
    claimed_type: str = "image/jpeg",
    **fields: Any,
) -> httpx.Response:
    """addAttachment as Apollo's and urql's upload clients send it (the multipart request spec)."""
    operations = {"query": ADD_ATTACHMENT, "variables": {"input": {"caseId": case_id, "file": None, **fields}}}
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return await client.http.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.input.file"]})},
        files={"0": (filename, content, claimed_type)},
        headers=headers,
    )


async def attach(client: GraphQLClient, token: str, **kwargs: Any) -> dict[str, Any]:
    response = await upload(client, token, **kwargs)
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body
    payload: dict[str, Any] = body["data"]["addAttachment"]
    return payload


async def download(client: GraphQLClient, url: str, token: str) -> httpx.Response:
    return await client.http.get(url, headers={"Authorization": f"Bearer {token}"})


def stored_files(settings: Settings) -> list[str]:
    """Every file the store holds: in the directory (staging included) and, with S3, in the bucket."""
    root = Path(settings.attachments_dir)
    local = sorted(str(path) for path in root.rglob("*") if path.is_file()) if root.exists() else []
    location = settings.attachments_url
    if location is None:
        return local
    return local + bucket_keys(location, str(settings.s3_endpoint_url))


async def test_a_constituents_phone_photo_is_kept_without_its_gps_position_and_gets_a_thumbnail(
    client: GraphQLClient, world: World, settings: Settings, publisher: RecordingPublisher
) -> None:
    # given: alice's case, and a photo from her phone that knows where she lives
    case = await insert_case(world, state=lc.INTAKE_NEW)
    alice = world.token(settings, "requester")
    original = photo_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)
    # when
    payload = await attach(client, alice, case_id=case.id, content=original, filename="IMG_0042.jpg")
    # then: recorded as a case action, published after the commit
    assert payload["errors"] == []
    assert payload["event"] == {"action": "ADD_ATTACHMENT", "type": "CASE_UPDATED", "version": 2}
    assert [event.action for event in publisher.events] == [CaseAction.ADD_ATTACHMENT]
    attachment = payload["attachment"]
    assert attachment["filename"] == "IMG_0042.jpg"
    assert attachment["contentType"] == "image/jpeg"
    assert attachment["scanStatus"] == "NOT_SCANNED"
    assert attachment["uploadedBy"] == {"id": "alice"}
    # and: what is served has no EXIF at all, GPS included, and is the same picture
    served = await download(client, attachment["url"], alice)
    assert served.status_code == 200, served.text
    image = Image.open(io.BytesIO(served.content))
    assert image.size == (640, 480)
    assert not image.getexif()
    assert b"PhoneMaker" not in served.content
    assert len(served.content) == attachment["size"]
    # and: a thumbnail, served inline from the same route
    thumbnail = await download(client, attachment["thumbnailUrl"], alice)
    assert thumbnail.status_code == 200
    assert max(Image.open(io.BytesIO(thumbnail.content)).size) <= 320
    assert thumbnail.headers["content-disposition"].startswith("inline")


async def test_a_download_is_inert_whatever_it_holds(client: GraphQLClient, world: World, settings: Settings) -> None:
    # given: a text file whose bytes would be a page if a browser guessed
    case = await insert_case(world, state=lc.INTAKE_NEW)
    alice = world.token(settings, "requester")
    script = b"<html><script>alert(document.cookie)</script></html>\n"
    payload = await attach(
        client,
        alice,
        case_id=case.id,
        content=script,
        filename="../../etc/notes\u202etxt.html",
        claimed_type="text/html",
    )
    attachment = payload["attachment"]
    # when
    served = await download(client, attachment["url"], alice)
    # then: plain text, saved rather than shown, under a name with no path and no bidi override
    assert attachment["contentType"] == "text/plain"
    assert attachment["filename"] == "notestxt.html.txt"
    assert served.headers["content-type"] == "text/plain; charset=utf-8"
    assert served.headers["content-disposition"].startswith('attachment; filename="notestxt.html.txt"')
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert "no-store" in served.headers["cache-control"] and "private" in served.headers["cache-control"]
    assert served.content == script


async def test_another_constituent_can_neither_list_nor_fetch_the_file(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: alice's photo on her case
    case = await insert_case(world, state=lc.INTAKE_NEW)
    alice, bob = world.token(settings, "requester"), world.token(settings, "other_constituent")
    attachment = (await attach(client, alice, case_id=case.id, content=photo_with_gps()))["attachment"]
    # when: bob asks for the case, and uses alice's link (leaked) with his own session
    listed = await client.data(CASE_ATTACHMENTS, {"id": case.id}, token=bob)
    leaked = await download(client, attachment["url"], bob)
    leaked_thumbnail = await download(client, attachment["thumbnailUrl"], bob)
    without_session = await client.http.get(attachment["url"])
    # then
    assert listed["case"] is None
    assert leaked.status_code == 403 and leaked_thumbnail.status_code == 403
    assert without_session.status_code == 401
    assert leaked.headers["x-content-type-options"] == "nosniff"


async def test_a_link_used_after_its_five_minutes_is_refused(
    client: GraphQLClient, world: World, settings: Settings, clock: FakeClock
) -> None:
    # given
    case = await insert_case(world, state=lc.INTAKE_NEW)
    alice = world.token(settings, "requester")
    attachment = (await attach(client, alice, case_id=case.id, content=b"A letter.\n", filename="l.txt"))["attachment"]
    # when
    clock.advance(timedelta(minutes=5, seconds=1))
    late = await download(client, attachment["url"], alice)
    tampered = await download(client, attachment["url"].replace("expires=", "expires=9"), alice)
    # then: a fresh link works again
    assert late.status_code == 403
    assert tampered.status_code == 403
    fresh = (await client.data(CASE_ATTACHMENTS, {"id": case.id}, token=alice))["case"]["attachments"][0]["url"]
    assert (await download(client, fresh, alice)).status_code == 200


async def test_a_link_stops_working_when_its_user_no_longer_sees_the_case(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: an agent of the case's group holds a link to the file
    case = await insert_case(world, state=lc.INTAKE_NEW)
    eli = world.token(settings, "other_agent")
    attachment = (await attach(client, eli, case_id=case.id, content=b"Site notes.\n", filename="n.txt"))["attachment"]
    # when: the case is moved to another group's type (he no longer sees it), then he uses the link
    from models import Case

    await Case.filter(id=case.id).update(assignment_group_id=world.group_ids["BENEFITS"], assigned_to_id=None)
    used = await download(client, attachment["url"], eli)
    # then
    assert used.status_code == 404


async def test_an_internal_file_is_the_staffs_only(client: GraphQLClient, world: World, settings: Settings) -> None:
    # given: the assigned agent attaches an internal file with a work note, and a public one with a comment
    case = await insert_case(world, state=lc.INTAKE_OPEN)
    dana, alice = world.token(settings, "agent"), world.token(settings, "requester")
    internal = await attach(
        client,
        dana,
        case_id=case.id,
        content=b"Contractor quote.\n",
        filename="quote.txt",
        internal=True,
        comment="Quote",
    )
    public = await attach(
        client, dana, case_id=case.id, content=b"We are on it.\n", filename="plan.txt", comment="Plan"
    )
    # when
    seen_by_alice = (await client.data(CASE_ATTACHMENTS, {"id": case.id}, token=alice))["case"]
    seen_by_dana = (await client.data(CASE_ATTACHMENTS, {"id": case.id}, token=dana))["case"]
    by_link = await download(client, internal["attachment"]["url"], alice)
    # then
    assert [a["filename"] for a in seen_by_alice["attachments"]] == ["plan.txt"]
    assert [a["filename"] for a in seen_by_dana["attachments"]] == ["quote.txt", "plan.txt"]
    assert seen_by_alice["comments"] == [{"body": "Plan", "attachments": [{"id": public["attachment"]["id"]}]}]
    assert seen_by_alice["workNotes"] == []
    assert seen_by_dana["workNotes"] == [{"body": "Quote", "attachments": [{"id": internal["attachment"]["id"]}]}]
    assert by_link.status_code == 403  # a link made for dana
    # and: the history does not name the internal file to alice
    details = [
        e["node"]["details"] for e in seen_by_alice["history"]["edges"] if e["node"]["action"] == "ADD_ATTACHMENT"
    ]
    assert details == [{}, {"comment": "Plan", "attached": "plan.txt"}]


async def test_the_requester_may_not_add_an_internal_file(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    case = await insert_case(world, state=lc.INTAKE_NEW)
    alice = world.token(settings, "requester")
    # when
    payload = await attach(client, alice, case_id=case.id, content=b"hi\n", filename="a.txt", internal=True)
    # then
    assert payload["errors"] == [
        {"code": "PERMISSION_DENIED", "field": "internal", "message": payload["errors"][0]["message"]}
    ]
    assert await Attachment.all().count() == 0 and stored_files(settings) == []


async def test_a_body_over_the_limit_is_refused_with_413_before_it_is_read_and_nothing_is_stored(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    case = await insert_case(world, state=lc.INTAKE_NEW)
    alice = world.token(settings, "requester")
    before = await event_count(case.id)
    # when: 20 MiB against the default limit of 10 MiB
    response = await upload(client, alice, case_id=case.id, content=b"x" * (20 * MIB), filename="big.txt")
    # then
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert await event_count(case.id) == before
    assert await Attachment.all().count() == 0 and stored_files(settings) == []


async def test_a_file_just_over_the_limit_inside_an_allowed_body_is_refused_while_streaming(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: a body within the multipart allowance, its file one byte over the file limit
    case = await insert_case(world, state=lc.INTAKE_NEW)
    alice = world.token(settings, "requester")
    # when
    response = await upload(
        client, alice, case_id=case.id, content=b"x" * (settings.attachment_max_bytes + 1), filename="big.txt"
    )
    # then
    assert response.status_code == 200
    errors = response.json()["data"]["addAttachment"]["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [("VALIDATION_FAILED", "file")]
    assert await Attachment.all().count() == 0 and stored_files(settings) == []


async def test_a_case_holds_no_more_than_its_total(client: GraphQLClient, world: World, settings: Settings) -> None:
    # given: two files of 1.5 MiB fill the case's 3 MiB
    case = await insert_case(world, state=lc.INTAKE_NEW)
    alice = world.token(settings, "requester")
    for name in ("a.txt", "b.txt"):
        content = name[0].encode() * (3 * MIB // 2)
        assert (await attach(client, alice, case_id=case.id, content=content, filename=name))["errors"] == []
    files_before = stored_files(settings)
    # when
    third = await attach(client, alice, case_id=case.id, content=b"c" * 1024, filename="c.txt")
    # then
    assert [(e["code"], e["field"]) for e in third["errors"]] == [("VALIDATION_FAILED", "file")]
    assert stored_files(settings) == files_before


@pytest.mark.parametrize(
    ("content", "filename", "claimed"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200, "holiday.jpg", "image/jpeg"),
        (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200, "scan.pdf", "application/pdf"),
        (b"PK\x03\x04" + b"\x00" * 200, "form.docx", "application/octet-stream"),
    ],
    ids=["windows-executable-as-jpeg", "elf-as-pdf", "broken-zip-as-docx"],
)
async def test_a_disguised_file_is_refused_by_what_its_bytes_are(
    client: GraphQLClient, world: World, settings: Settings, content: bytes, filename: str, claimed: str
) -> None:
    # given
    case = await insert_case(world, state=lc.INTAKE_NEW)
    alice = world.token(settings, "requester")
    # when
    payload = await attach(client, alice, case_id=case.id, content=content, filename=filename, claimed_type=claimed)
    # then: refused, and nothing of it kept
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("VALIDATION_FAILED", "file")]
    assert await event_count(case.id) == 1
    assert await Attachment.all().count() == 0 and stored_files(settings) == []


async def test_removing_a_file_purges_its_content_and_keeps_its_history(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: alice's photo, which showed more than she meant
    case = await insert_case(world, state=lc.INTAKE_OPEN)
    alice, dana = world.token(settings, "requester"), world.token(settings, "agent")
    attachment = (await attach(client, alice, case_id=case.id, content=photo_with_gps()))["attachment"]
    assert len(stored_files(settings)) == 2  # the photo and its thumbnail
    # when: alice may not remove it (who is judged before what: her blank reason is not the point); dana does
    by_alice = await client.data(
        REMOVE_ATTACHMENT, {"input": {"attachmentId": attachment["id"], "reason": " "}}, token=alice
    )
    blank = await client.data(
        REMOVE_ATTACHMENT, {"input": {"attachmentId": attachment["id"], "reason": " "}}, token=dana
    )
    removed = await client.data(
        REMOVE_ATTACHMENT,
        {"input": {"attachmentId": attachment["id"], "reason": "Shows a neighbour's face."}},
        token=dana,
    )
    # then
    assert [e["code"] for e in by_alice["removeAttachment"]["errors"]] == ["PERMISSION_DENIED"]
    assert [(e["code"], e["field"]) for e in blank["removeAttachment"]["errors"]] == [("VALIDATION_FAILED", "reason")]
    assert removed["removeAttachment"]["errors"] == []
    assert removed["removeAttachment"]["event"] == {"action": "REMOVE_ATTACHMENT", "type": "CASE_UPDATED"}
    assert stored_files(settings) == []
    assert (await download(client, attachment["url"], alice)).status_code == 404
    seen = (await client.data(CASE_ATTACHMENTS, {"id": case.id}, token=dana))["case"]
    assert seen["attachments"] == []
    actions = [e["node"]["action"] for e in seen["history"]["edges"]]
    assert actions[-2:] == ["ADD_ATTACHMENT", "REMOVE_ATTACHMENT"]
    row = await Attachment.get(id=attachment["id"])
    assert row.removed_at is not None and row.removal_reason == "Shows a neighbour's face."
    # and: removing it again finds nothing
    again = await client.data(
        REMOVE_ATTACHMENT, {"input": {"attachmentId": attachment["id"], "reason": "x"}}, token=dana
    )
    assert [e["code"] for e in again["removeAttachment"]["errors"]] == ["NOT_FOUND"]


async def test_a_repeat_with_the_same_idempotency_key_changes_nothing(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    case = await insert_case(world, state=lc.INTAKE_NEW)
    alice = world.token(settings, "requester")
    content = b"The form, scanned as text.\n"
    first = await attach(client, alice, case_id=case.id, content=content, filename="f.txt", idempotencyKey="up-1")
    # when: the same request again (a flaky connection), then the key with another file
    repeat = await attach(client, alice, case_id=case.id, content=content, filename="f.txt", idempotencyKey="up-1")
    other = await attach(client, alice, case_id=case.id, content=b"Another.\n", filename="f.txt", idempotencyKey="up-1")
    # then
    assert repeat["attachment"]["id"] == first["attachment"]["id"]
    assert repeat["event"] == first["event"]
    assert await Attachment.all().count() == 1
    assert await CaseEvent.filter(case_id=case.id, action=CaseAction.ADD_ATTACHMENT).count() == 1
    assert [(e["code"], e["field"]) for e in other["errors"]] == [("VALIDATION_FAILED", "idempotencyKey")]


async def test_a_multipart_request_without_a_token_is_refused_unread(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: what a form on another site could post with the browser's help
    case = await insert_case(world, state=lc.INTAKE_NEW)
    # when
    response = await upload(client, None, case_id=case.id, content=b"hi\n", filename="a.txt")
    # then
    assert response.status_code == 401
    assert await Attachment.all().count() == 0


ATTACH_VIEWERS = ["agent", "manager", "other_agent", "outsider_agent", "requester", "other_constituent", "admin"]
ATTACH_STATES = [lc.DRAFT, lc.INTAKE_NEW, lc.REVIEW_OPEN, lc.PROCESS_AWAITING, lc.RESOLVED, lc.CLOSED]
OFFERED_QUERY = "query Offered($id: ID!) { case(id: $id) { attachmentActions } }"
REFUSALS = {"PERMISSION_DENIED", "TRANSITION_NOT_ALLOWED", "NOT_FOUND"}


@pytest.mark.parametrize("action", list(ATTACHMENT_RULES), ids=lambda a: a.value)
async def test_an_attachment_action_is_offered_exactly_when_its_mutation_is_accepted(
    client: GraphQLClient, world: World, settings: Settings, action: CaseAction
) -> None:
    """Generated from ``ATTACHMENT_RULES``: every viewer relation × a spread of states."""
    verdicts: dict[tuple[str, str], tuple[bool, str]] = {}
    staff_uploader = world.token(settings, "manager")
    for state in ATTACH_STATES:
        for viewer in ATTACH_VIEWERS:
            # given: a fresh case in the state (a draft is alice's own), with a file on it to remove
            case = await insert_case(world, state=state)
            token = world.token(settings, viewer)
            if action is CaseAction.REMOVE_ATTACHMENT:
                existing = await _file_on(case.id, staff_uploader, state, client, world)
            offered_to = await client.data(OFFERED_QUERY, {"id": case.id}, token=token)
            offered = offered_to["case"] is not None and action.value in offered_to["case"]["attachmentActions"]
            # when
            if action is CaseAction.ADD_ATTACHMENT:
                payload = await attach(client, token, case_id=case.id, content=b"notes\n", filename="n.txt")
            else:
                data = await client.data(
                    REMOVE_ATTACHMENT, {"input": {"attachmentId": existing, "reason": "Wrong file."}}, token=token
                )
                payload = data["removeAttachment"]
            codes = {e["code"] for e in payload["errors"]}
            # then (collected, so a failure shows every disagreement at once)
            verdicts[(state[1].value, viewer)] = (offered, ",".join(sorted(codes)) or "accepted")
    disagreements = {
        where: (offered, outcome)
        for where, (offered, outcome) in verdicts.items()
        if offered != (outcome == "accepted") or not (outcome == "accepted" or set(outcome.split(",")) <= REFUSALS)
    }
    assert disagreements == {}
    accepted = {where for where, (_, outcome) in verdicts.items() if outcome == "accepted"}
    if action is CaseAction.ADD_ATTACHMENT:
        # the requester on her own open case, the case's staff; never a stranger or a closed case
        assert ("NEW", "requester") in accepted and ("NEW", "other_agent") in accepted
        assert ("RESOLVED", "requester") not in accepted and ("RESOLVED", "agent") in accepted
    else:
        assert ("NEW", "agent") in accepted and ("NEW", "requester") not in accepted
    assert not {
        where for where in accepted if where[0] == "CLOSED" or where[1] in {"other_constituent", "outsider_agent"}
    }


async def _file_on(case_id: str, token: str, state: lc.State, client: GraphQLClient, world: World) -> str:
    """A file on the case whatever its state (written directly where no one may add one)."""
    from casegraph.domain.attachments import ScanStatus

    row = await Attachment.create(
        case_id=case_id,
        uploaded_by_id=world.sub("manager"),
        filename="old.txt",
        content_type="text/plain",
        size=4,
        sha256="0" * 64,
        internal=False,
        scan_status=ScanStatus.NOT_SCANNED,
        event_sequence=0,
        created_at=world.clock(),
    )
    return str(row.id)


async def test_a_file_sent_as_json_text_is_refused_as_no_file(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: a client that put text where the file goes, in a plain JSON request
    case = await insert_case(world, state=lc.INTAKE_NEW)
    alice = world.token(settings, "requester")
    # when
    data = await client.data(
        ADD_ATTACHMENT, {"input": {"caseId": case.id, "file": "x", "idempotencyKey": "k"}}, token=alice
    )
    # then
    assert [(e["code"], e["field"]) for e in data["addAttachment"]["errors"]] == [("VALIDATION_FAILED", "file")]
    assert await event_count(case.id) == 1


async def test_over_federation_a_case_entitys_files_follow_its_visibility(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: a case referred to PARKS, with a public and an internal file
    from casegraph.domain.enums import Role
    from models import Case

    case = await insert_case(world, state=lc.INTAKE_OPEN)
    await Case.filter(id=case.id).update(referred_agency="PARKS")
    dana = world.token(settings, "agent")
    await attach(client, dana, case_id=case.id, content=b"Public plan.\n", filename="plan.txt")
    await attach(client, dana, case_id=case.id, content=b"Internal quote.\n", filename="quote.txt", internal=True)
    query = (
        """query E($r: [_Any!]!) { _entities(representations: $r) { ... on Case { id attachments { filename } } } }"""
    )
    representations = {"r": [{"__typename": "Case", "id": case.id}]}
    # when: the partner it was referred to, and another, resolve it through the gateway
    parks = client.token("svc-parks", Role.PARTNER, agency="PARKS")
    health = client.token("svc-health", Role.PARTNER, agency="HEALTH")
    seen_by_parks = (await client.data(query, representations, token=parks))["_entities"]
    seen_by_health = (await client.data(query, representations, token=health))["_entities"]
    # then: the referred partner sees the public file only; the other partner not the case at all
    assert seen_by_parks == [{"id": case.id, "attachments": [{"filename": "plan.txt"}]}]
    assert seen_by_health == [None]


@pytest.mark.parametrize("status", ["PENDING", "INFECTED"])
async def test_a_file_the_scanner_has_not_cleared_is_never_served(
    client: GraphQLClient, world: World, settings: Settings, status: str
) -> None:
    # given: alice's file and a link to it, then the file is waiting for the scanner or quarantined
    from casegraph.domain.attachments import ScanStatus

    case = await insert_case(world, state=lc.INTAKE_NEW)
    alice = world.token(settings, "requester")
    attachment = (await attach(client, alice, case_id=case.id, content=b"A letter.\n", filename="l.txt"))["attachment"]
    await Attachment.filter(id=attachment["id"]).update(scan_status=ScanStatus(status))
    # when
    listed = (await client.data(CASE_ATTACHMENTS, {"id": case.id}, token=alice))["case"]["attachments"]
    fetched = await download(client, attachment["url"], alice)
    # then: listed with its status and no link; the old link refused
    assert [(a["scanStatus"], a["url"]) for a in listed] == [(status, None)]
    assert fetched.status_code == 403


async def test_a_chunked_upload_without_a_length_is_cut_off_at_the_limit_and_leaves_nothing(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: a multipart body streamed in chunks, with no Content-Length, of 20 MiB
    case = await insert_case(world, state=lc.INTAKE_NEW)
    alice = world.token(settings, "requester")
    boundary = "casegraph-test-boundary"
    operations = {"query": ADD_ATTACHMENT, "variables": {"input": {"caseId": case.id, "file": None}}}
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{json.dumps(operations)}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{{"0": ["variables.input.file"]}}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="0"; filename="big.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    sent: list[int] = []

    async def body() -> Any:
        yield head
        for _ in range(20):
            sent.append(MIB)
            yield b"x" * MIB
        yield f"\r\n--{boundary}--\r\n".encode()

    # when
    response = await client.http.post(
        "/graphql",
        content=body(),
        headers={"Authorization": f"Bearer {alice}", "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    # then: refused once past the limit, not after reading it all, and nothing kept
    assert response.status_code == 413
    assert len(sent) < 20
    assert await event_count(case.id) == 1
    assert await Attachment.all().count() == 0 and stored_files(settings) == []


async def test_the_bytes_are_kept_where_the_deployment_says(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: the directory, or a bucket (the parametrized settings)
    case = await insert_case(world, state=lc.INTAKE_NEW)
    alice = world.token(settings, "requester")
    # when
    digest = (await attach(client, alice, case_id=case.id, content=b"A letter.\n", filename="l.txt"))["attachment"][
        "sha256"
    ]
    # then: under its content address there, and nowhere else (staging emptied)
    address = f"{digest[:2]}/{digest[2:4]}/{digest}"
    location = settings.attachments_url
    if location is None:
        assert stored_files(settings) == [str(Path(settings.attachments_dir) / address)]
    else:
        assert stored_files(settings) == [f"{location.prefix}{address}"]


async def test_each_file_refusal_names_its_reason_for_clients_to_word(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: alice's case, and files refused for each of the reasons a page words
    case = await insert_case(world, state=lc.INTAKE_NEW)
    alice = world.token(settings, "requester")
    query = ADD_ATTACHMENT.replace("errors { code field message }", "errors { code field reason }")

    async def refused(content: bytes, filename: str, claimed: str) -> list[dict[str, Any]]:
        operations = {"query": query, "variables": {"input": {"caseId": case.id, "file": None}}}
        response = await client.http.post(
            "/graphql",
            data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.input.file"]})},
            files={"0": (filename, content, claimed)},
            headers={"Authorization": f"Bearer {alice}"},
        )
        errors: list[dict[str, Any]] = response.json()["data"]["addAttachment"]["errors"]
        return errors

    # when
    empty = await refused(b"", "empty.txt", "text/plain")
    program = await refused(b"MZ\x90\x00\x03" + bytes(200), "setup.exe", "application/octet-stream")
    broken = await refused(b"\xff\xd8\xff\xe0 not really a picture", "photo.jpg", "image/jpeg")
    # then: the same code and field, and a reason each (the message is for developers)
    assert empty == [{"code": "VALIDATION_FAILED", "field": "file", "reason": "EMPTY"}]
    assert program == [{"code": "VALIDATION_FAILED", "field": "file", "reason": "TYPE"}]
    assert broken == [{"code": "VALIDATION_FAILED", "field": "file", "reason": "UNREADABLE"}]
