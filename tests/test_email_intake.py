"""Inbound e-mail over HTTP: real multipart messages create cases or comment on them."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import httpx
import pytest

from casegraph.app import Runtime, create_app
from casegraph.domain.enums import CaseStage, CaseStatus
from casegraph.services.records import CaseRecord
from casegraph.services.reply_addresses import ReplyAddresses
from casegraph.settings import Settings
from models import Case, CaseEvent, Comment, User
from tests.helpers import FakeClock, GraphQLClient, World, case_row, insert_case

SECRET = "intake-secret-for-tests"
REPLY_QUERY = "query Reply($id: ID!) { case(id: $id) { replyToken replyAddress } }"


MAILBOX = "cases@city.example"
REPLY = ReplyAddresses(secret=SECRET, mailbox=MAILBOX)
GATEWAY = "mx.city.example"


@pytest.fixture
def settings() -> Settings:
    return Settings(
        jwt_secret="test-secret-for-casegraph-tests-only",
        intake_secret=SECRET,
        intake_case_type="POTHOLE",
        intake_address=MAILBOX,
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
