"""Inbound e-mail over HTTP: real multipart messages create cases or comment on them."""

from __future__ import annotations

import contextlib
import dataclasses
import io
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from casegraph.app import Runtime, create_app
from casegraph.domain.enums import CaseStage, CaseStatus
from casegraph.services import attachments, email_intake
from casegraph.services.attachment_store import LocalDirectoryStore
from casegraph.services.email_intake import parse_message
from casegraph.services.records import CaseRecord
from casegraph.services.reply_addresses import ReplyAddresses
from casegraph.settings import Settings
from models import Attachment, Case, CaseEvent, Comment, MailDelivery, User
from tests.helpers import FakeClock, GraphQLClient, World, case_row, insert_case

SECRET = "intake-secret-for-tests"
REPLY_QUERY = "query Reply($id: ID!) { case(id: $id) { replyToken replyAddress } }"


MAILBOX = "cases@city.example"
REPLY = ReplyAddresses(secret=SECRET, mailbox=MAILBOX)
GATEWAY = "mx.city.example"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        jwt_secret="test-secret-for-casegraph-tests-only",
        intake_secret=SECRET,
        intake_case_type="POTHOLE",
        intake_address=MAILBOX,
        attachments_dir=str(tmp_path / "attachments"),
    )


def reply_address(case: CaseRecord) -> str:
    address = REPLY.address(case_id=case.id, number=case.number)
    assert address is not None
    return address


def mail(
    *,
    sender: str = "Carol Citizen <carol@example.org>",
    subject: str = "Hole on Main St",
    text: str = "There is a deep hole.\nPlease fix.",
    html: bool = True,
    attachment: bool = True,
    message_id: str | None = None,
    to: str = MAILBOX,
    authentication: tuple[str, ...] = (),
) -> bytes:
    message = EmailMessage()
    for verdict in authentication:
        message["Authentication-Results"] = verdict
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid()
    message.set_content(text)
    if html:
        message.add_alternative(f"<p>{text}</p>", subtype="html")
    if attachment:
        message.add_attachment(b"\x89PNG fake", maintype="image", subtype="png", filename="hole.png")
    return bytes(message)


async def post(client: httpx.AsyncClient, raw: bytes, secret: str = SECRET) -> httpx.Response:
    return await client.post(
        "/intake/email", content=raw, headers={"X-Casegraph-Intake-Secret": secret, "Content-Type": "message/rfc822"}
    )


async def counts() -> tuple[int, int, int, int]:
    return (
        await Case.all().count(),
        await CaseEvent.all().count(),
        await Comment.all().count(),
        await User.all().count(),
    )


async def test_a_mail_from_a_new_address_files_a_case_for_a_new_constituent(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # when
    response = await post(client.http, mail())
    # then
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["action"] == "created" and body["number"].startswith("CS")
    user = await User.get(email="carol@example.org")
    assert user.roles == ["CONSTITUENT"] and user.name == "Carol Citizen"
    case = await Case.get(id=body["caseId"])
    assert case.channel.value == "EMAIL" and case.title == "Hole on Main St"
    assert (
        case.description is not None and "There is a deep hole." in case.description and "hole.png" in case.description
    )
    assert case.requester_id == user.id and case.contact_email == "carol@example.org"


async def test_a_reply_to_the_cases_reply_address_answers_an_information_request(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: alice (alice@example.org) has a case waiting for her answer; staff read its reply address
    case = await insert_case(world, state=(CaseStage.REVIEW, CaseStatus.AWAITING_INFO))
    shown = await client.data(REPLY_QUERY, {"id": case.id}, token=world.token(settings, "agent"))
    # when: she answers the mail that was sent from it
    response = await post(
        client.http,
        mail(
            sender="Alice <ALICE@example.org>",
            subject=f"Re: [{case.number}] question",
            to=shown["case"]["replyAddress"],
            text="It is by the lamp post.",
            html=False,
            attachment=False,
        ),
    )
    # then: a public comment by alice, and the case is back where it was before the question
    assert response.status_code == 200, response.text
    assert response.json() == {"action": "commented", "caseId": case.id, "number": case.number}
    after = await case_row(case.id)
    assert (after.stage, after.status) == (CaseStage.REVIEW, CaseStatus.OPEN) and after.version == 2
    comment = await Comment.get(case_id=case.id)
    assert comment.author_id == "alice" and comment.body == "It is by the lamp post."


async def test_redelivery_of_the_same_message_stores_nothing_new(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    raw = mail(message_id="<same-1@mail.example>")
    first = await post(client.http, raw)
    before = await counts()
    # when
    second = await post(client.http, raw)
    # then
    assert second.status_code == 201 and second.json() == first.json()
    assert await counts() == before


@pytest.mark.parametrize(
    "raw",
    [
        b"this is not an e-mail at all",
        b"From: \r\nSubject: no sender\r\n\r\nbody",
        b"From: a@example.org, b@example.org\r\nSubject: two senders\r\n\r\nbody",
        b"From: someone@example.org\r\n\r\n",
        b"From: x@example.org\r\nSubject: big\r\n\r\n" + b"x" * 1_100_000,
        b"From: " + b"a" * 250 + b"@example.org\r\nSubject: long sender\r\n\r\nbody",
    ],
    ids=["garbage", "empty-from", "two-senders", "empty", "oversized", "address-too-long-for-a-user-id"],
)
async def test_a_malformed_message_is_refused_and_nothing_is_stored(
    client: GraphQLClient, world: World, settings: Settings, raw: bytes
) -> None:
    # given
    before = await counts()
    # when
    response = await post(client.http, raw)
    # then
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "VALIDATION_FAILED"
    assert await counts() == before


async def test_an_overlong_display_name_is_shortened_not_a_crash(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    response = await post(client.http, mail(sender=f"{'Carol ' * 60}<carol@example.org>"))
    assert response.status_code == 201, response.text
    user = await User.get(email="carol@example.org")
    assert user.name is not None and 0 < len(user.name) <= 200 and user.name.startswith("Carol Carol")


async def test_a_reply_token_of_someone_elses_case_is_not_found_and_changes_nothing(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: bob's case, and its genuine reply address
    case = await insert_case(world, requester="other_constituent")
    before = await counts()
    # when: alice writes to it
    response = await post(
        client.http, mail(sender="alice@example.org", subject=f"About {case.number}", to=reply_address(case))
    )
    # then
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"
    assert await counts() == before


async def test_a_wrong_secret_is_refused(client: GraphQLClient, world: World, settings: Settings) -> None:
    before = await counts()
    response = await post(client.http, mail(), secret="guess")
    assert response.status_code == 401
    assert await counts() == before


async def test_wrong_secrets_from_one_address_are_throttled_until_its_window_ends(
    runtime: Runtime, world: World, settings: Settings, clock: FakeClock
) -> None:
    # given: one server, a guesser and a mail relay at different addresses
    assert settings.intake_guesses is not None
    app = create_app(settings, manage_resources=False, runtime=runtime)

    def client_at(address: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://testserver"
        )

    async with client_at("203.0.113.9") as guesser, client_at("198.51.100.7") as relay:
        wrong = [await post(guesser, mail(), secret=f"guess-{n}") for n in range(settings.intake_guesses.count)]
        before = await counts()
        # when: the guesser then tries the right secret, and the relay delivers
        refused = await post(guesser, mail())
        stored = await counts()
        delivered = await post(relay, mail())
        # and: once the window has passed
        clock.advance(timedelta(seconds=settings.intake_guesses.seconds + 1))
        later = await post(guesser, mail())
    # then: each wrong guess was a 401; past the limit even the right secret is refused, and stores nothing
    assert [response.status_code for response in wrong] == [401] * settings.intake_guesses.count
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert 0 < int(refused.headers["retry-after"]) <= settings.intake_guesses.seconds
    assert stored == before
    # and: other addresses are not held back, and the guesser's address is let in again later
    assert delivered.status_code == 201, delivered.text
    assert later.status_code == 201, later.text


def test_the_guess_limit_is_configurable() -> None:
    settings = Settings.from_env({"CASEGRAPH_RATE_INTAKE_GUESSES": "3/600"}, dotenv=Path("/nonexistent/.env"))
    assert settings.intake_guesses is not None
    assert (settings.intake_guesses.count, settings.intake_guesses.seconds) == (3, 600)


# --- the mail's files (issue 18) ----------------------------------------------------------------


def phone_photo() -> bytes:
    """A JPEG as a phone mails it: with EXIF naming the phone and a GPS position (the sender's home)."""
    image = Image.new("RGB", (640, 480), (30, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (40.0, 26.0, 46.0), 3: "W", 4: (79.0, 58.0, 56.0)}  # GPSInfo
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def mail_with_files(
    *, inline_photo: bool = False, files: tuple[tuple[str, bytes, str], ...] = (), **headers: str
) -> bytes:
    """A mail as a phone's mail app sends it: text, HTML (with the photo inline if asked), files."""
    message = EmailMessage()
    message["From"] = headers.get("sender", "Carol Citizen <carol@example.org>")
    message["To"] = headers.get("to", MAILBOX)
    message["Subject"] = headers.get("subject", "Hole on Main St")
    message["Message-ID"] = headers.get("message_id", make_msgid())
    message.set_content("There is a deep hole.")
    if inline_photo:
        message.add_alternative('<p>There is a deep hole.</p><img src="cid:photo1">', subtype="html")
        html = next(part for part in message.iter_parts() if part.get_content_type() == "text/html")
        assert isinstance(html, EmailMessage)
        html.add_related(phone_photo(), maintype="image", subtype="jpeg", cid="<photo1>")
    for filename, content, content_type in files:
        maintype, subtype = content_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return bytes(message)


async def stored_bytes(settings: Settings, sha256: str) -> bytes:
    return b"".join([chunk async for chunk in LocalDirectoryStore(settings.attachments_dir).read(sha256)])


def kept_files(settings: Settings) -> list[Path]:
    root = Path(settings.attachments_dir)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


async def test_a_mailed_phone_photo_is_kept_on_the_new_case_without_its_gps_position(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: a mail carrying a phone photo as an attachment
    raw = mail_with_files(files=(("IMG_0042.jpg", phone_photo(), "image/jpeg"),))
    # when
    response = await post(client.http, raw)
    # then: the new case holds the photo, uploaded by the sender, as any file attached in the pages
    assert response.status_code == 201, response.text
    case_id = response.json()["caseId"]
    attachment = await Attachment.get(case_id=case_id)
    user = await User.get(email="carol@example.org")
    assert (attachment.filename, attachment.content_type) == ("IMG_0042.jpg", "image/jpeg")
    assert attachment.uploaded_by_id == user.id and not attachment.internal
    assert attachment.scan_status.value == "NOT_SCANNED" and attachment.thumbnail_sha256 is not None
    # and: what is kept has lost the phone's EXIF, GPS included
    kept = await stored_bytes(settings, attachment.sha256)
    assert not Image.open(io.BytesIO(kept)).getexif() and b"PhoneMaker" not in kept
    # and: the case's history records the file as an action of the sender
    actions = [event.action for event in await CaseEvent.filter(case_id=case_id).order_by("sequence")]
    assert actions[-1] == "ADD_ATTACHMENT"
    case = await Case.get(id=case_id)
    assert case.description is not None and "not kept" not in case.description


async def test_a_photo_sent_inline_in_the_html_is_kept_too(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # when
    response = await post(client.http, mail_with_files(inline_photo=True))
    # then
    assert response.status_code == 201, response.text
    rows = await Attachment.filter(case_id=response.json()["caseId"])
    assert [row.content_type for row in rows] == ["image/jpeg"]


async def test_a_part_that_may_not_be_attached_is_named_with_its_reason_and_the_rest_is_kept(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: a program disguised as a photo beside a letter as plain text
    raw = mail_with_files(
        files=(
            ("holiday.jpg", b"MZ\x90\x00" + b"\x00" * 200, "image/jpeg"),
            ("letter.txt", b"Dear council, the hole is still there.", "text/plain"),
        )
    )
    # when
    response = await post(client.http, raw)
    # then: the letter is kept; the program is not, and the case says so
    assert response.status_code == 201, response.text
    case = await Case.get(id=response.json()["caseId"])
    rows = await Attachment.filter(case_id=case.id)
    assert [(row.filename, row.content_type) for row in rows] == [("letter.txt", "text/plain")]
    assert case.description is not None
    assert "Attachments not kept: holiday.jpg (This kind of file cannot be attached" in case.description
    assert len(kept_files(settings)) == 1
    # and: her acknowledgement mail names the file that was not kept
    acknowledgement = await MailDelivery.get(case_id=case.id, template="received")
    assert acknowledgement.facts["files_refused"] == "holiday.jpg"


async def test_a_file_over_the_limit_is_named_and_nothing_of_it_is_kept(
    client: GraphQLClient, world: World, settings: Settings, runtime: Runtime
) -> None:
    # given: a file over the per-file limit
    runtime.attachments = dataclasses.replace(runtime.attachments, max_bytes=1000)
    raw = mail_with_files(files=(("notes.txt", b"a" * 1001, "text/plain"),))
    # when
    response = await post(client.http, raw)
    # then
    assert response.status_code == 201, response.text
    case = await Case.get(id=response.json()["caseId"])
    assert case.description is not None and "notes.txt (The file is over the limit of 1000 bytes.)" in case.description
    assert await Attachment.all().count() == 0 and kept_files(settings) == []


async def test_a_replys_photo_goes_onto_the_case_it_answers(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: alice's case waits for her answer
    case = await insert_case(world, state=(CaseStage.REVIEW, CaseStatus.AWAITING_INFO))
    shown = await client.data(REPLY_QUERY, {"id": case.id}, token=world.token(settings, "agent"))
    raw = mail_with_files(
        sender="Alice <alice@example.org>",
        subject=f"Re: [{case.number}] question",
        to=shown["case"]["replyAddress"],
        files=(("closer.jpg", phone_photo(), "image/jpeg"),),
    )
    # when
    response = await post(client.http, raw)
    # then: her answer is a comment, and her photo is on the case, uploaded by her
    assert response.status_code == 200, response.text
    comment = await Comment.get(case_id=case.id)
    assert comment.body == "There is a deep hole."
    attachment = await Attachment.get(case_id=case.id)
    assert attachment.filename == "closer.jpg" and attachment.uploaded_by_id == "alice"
    # and: listed under her comment, as a file sent with a comment in the pages is
    assert attachment.comment_id == comment.id and await Comment.filter(case_id=case.id).count() == 1


async def test_redelivery_of_a_mail_with_files_keeps_them_once(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    raw = mail_with_files(message_id="<same-files@mail.example>", files=(("a.jpg", phone_photo(), "image/jpeg"),))
    first = await post(client.http, raw)
    files_after_first = kept_files(settings)
    # when
    second = await post(client.http, raw)
    # then: one attachment, and no second copy or staging file left behind
    assert second.json() == first.json()
    assert await Attachment.all().count() == 1
    assert kept_files(settings) == files_after_first


def test_a_mail_part_keeps_its_bytes_and_the_text_bodies_are_not_files() -> None:
    # when
    parsed = parse_message(mail_with_files(files=(("x.txt", b"hello", "text/plain"),)))
    # then
    assert [(part.filename, part.content) for part in parsed.attachments] == [("x.txt", b"hello")]


async def test_a_file_lost_after_the_text_was_filed_is_attached_when_the_mail_comes_again(
    client: GraphQLClient, world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the first delivery files the text, then loses its connection attaching the file
    raw = mail_with_files(message_id="<file-lost@mail.example>", files=(("a.jpg", phone_photo(), "image/jpeg"),))
    attach = attachments.attach_staged  # the one email_intake imported, before the patch below
    calls = 0

    async def connection_lost_once(**kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionResetError("the database connection went away")
        return await attach(**kwargs)

    monkeypatch.setattr(email_intake, "attach_staged", connection_lost_once)
    with contextlib.suppress(ConnectionResetError):
        first = await post(client.http, raw)
        assert first.status_code >= 500
    assert (await Case.all().count(), await Attachment.all().count()) == (1, 0)
    # when: the gateway delivers the mail again
    second = await post(client.http, raw)
    # then: the same case, now with its file, once
    assert second.status_code == 201, second.text
    case = await Case.get()
    assert second.json()["number"] == case.number
    attachment = await Attachment.get()
    assert (attachment.case_id, attachment.filename) == (case.id, "a.jpg")
    # and: a third delivery adds nothing
    await post(client.http, raw)
    assert await Attachment.all().count() == 1
