"""Mails to requesters end to end: written with the case's events, sent by the dispatcher (driven
at FakeClock readings) to a real SMTP server on loopback, read back as the recipient would."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from casegraph.domain.commands import Cancel, Close, ProposeSolution, RequestInfo, UpdateCase
from casegraph.domain.enums import CaseAction, CaseStatus, ErrorCode, ResolutionCode
from casegraph.domain.errors import DomainError
from casegraph.mail.dispatcher import MailDispatcher
from casegraph.mail.wiring import mail_dispatcher
from casegraph.services.case_actions import ActionRequest, perform
from casegraph.services.case_creation import NewCase, create_case
from casegraph.services.mail_preferences import set_mail_preferences
from casegraph.services.records import CaseRecord
from casegraph.settings import Settings, parse_smtp_url
from models import Case, Comment, DeliveryStatus, MailDelivery, Notification, User
from tests.helpers import FakeClock, GraphQLClient, RecordingPublisher, World
from tests.mail.smtp_server import Accepted, SmtpServer, running_smtp_server

HOUR = timedelta(hours=1)
ALICE = "alice@example.org"
INTAKE_SECRET = "intake-secret-for-the-mail-tests-0123456789"
MAILBOX = "cases@city.example"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    yield from running_smtp_server()


@pytest.fixture
def settings(smtp: SmtpServer) -> Settings:
    return Settings(
        jwt_secret="test-secret-for-casegraph-tests-only",
        bind_host="127.0.0.1",
        smtp=parse_smtp_url(smtp.url()),
        mail_from="Roads desk <desk@city.example>",
        public_url="https://city.example",
        intake_secret=INTAKE_SECRET,
        intake_case_type="POTHOLE",
        intake_address=MAILBOX,
    )


@pytest.fixture
def dispatcher(settings: Settings, clock: FakeClock) -> MailDispatcher:
    return mail_dispatcher(settings, clock=clock)


async def drain(dispatcher: MailDispatcher, clock: FakeClock, passes: int = 3) -> None:
    """Passes an hour apart: every backoff used here has run out by the next one."""
    for _ in range(passes):
        await dispatcher.run_once()
        clock.advance(HOUR)


class Desk:
    """The case actions of these tests, by who takes them."""

    def __init__(self, world: World, clock: FakeClock, publisher: RecordingPublisher) -> None:
        self.world, self.clock, self.publisher = world, clock, publisher

    async def file(self, title: str = "Hole on Main St", who: str = "requester") -> CaseRecord:
        created = await create_case(
            actor=self.world.actor(who),
            new=NewCase(case_type_code="POTHOLE", title=title),
            now=self.clock(),
            publisher=self.publisher,
        )
        return created.case

    async def act(self, who: str, action: CaseAction, case: CaseRecord, command: object = None) -> CaseRecord:
        request = ActionRequest(action, case.id) if command is None else ActionRequest(action, case.id, command=command)  # type: ignore[arg-type]
        result = await perform(actor=self.world.actor(who), request=request, now=self.clock(), publisher=self.publisher)
        return result.case


@pytest.fixture
def desk(world: World, clock: FakeClock, publisher: RecordingPublisher) -> Desk:
    return Desk(world, clock, publisher)


def subject(mail: Accepted) -> str:
    """As a mail client shows it: Python folds a long subject right after ``Subject:``, and
    unfolding leaves the fold's space in front."""
    return str(mail.message["Subject"]).strip()


def subjects(mails: list[Accepted]) -> list[str]:
    return [subject(mail) for mail in mails]


async def test_the_requester_hears_of_receipt_question_proposal_and_survey_each_once(
    desk: Desk, dispatcher: MailDispatcher, clock: FakeClock, smtp: SmtpServer
) -> None:
    # given: a case filed, taken, asked about, answered, solved and accepted
    case = await desk.file()
    await desk.act("agent", CaseAction.ASSIGN_TO_ME, case)
    await desk.act("agent", CaseAction.REQUEST_INFO, case, RequestInfo(question="Which side of the street?"))
    await desk.act("requester", CaseAction.UPDATE, case, UpdateCase(comment="The north side."))
    await desk.act(
        "agent",
        CaseAction.PROPOSE_SOLUTION,
        case,
        ProposeSolution(resolution_code=ResolutionCode.SOLVED, resolution_notes="Filled and rolled."),
    )
    await desk.act("requester", CaseAction.ACCEPT_SOLUTION, case)

    # when
    await drain(dispatcher, clock)

    # then: four mails, in order, to Alice only, from the desk
    mails = smtp.recorder.accepted
    assert [mail.recipients for mail in mails] == [(ALICE,)] * 4
    assert all(mail.envelope_from == "desk@city.example" for mail in mails)
    received, question, proposed, survey = mails
    number = case.number
    assert subjects(mails)[0].startswith(f"Case {number} received: Hole on Main St")
    assert f"Its case number is {number}" in received.text()
    assert "Which side of the street?" in question.text() and "reply to this mail" in question.text()
    assert "Filled and rolled." in proposed.text() and "Solved" in proposed.text()
    assert "accept the solution" in proposed.text()
    assert "how we did" in survey.text()
    # every mail links to the case on the portal, in both parts
    link = f"https://city.example/portal#case-{case.id}"
    assert all(link in mail.text() and link in mail.html() for mail in mails)
    # the agent's question and Alice's answer mailed nobody else; every row is sent
    assert await MailDelivery.filter(status=DeliveryStatus.DELIVERED).count() == 4


async def test_mails_about_a_case_thread_and_can_be_answered_or_opted_out_of(
    desk: Desk, dispatcher: MailDispatcher, clock: FakeClock, smtp: SmtpServer
) -> None:
    # given
    case = await desk.file()
    await desk.act("agent", CaseAction.ASSIGN_TO_ME, case)
    await desk.act("agent", CaseAction.REQUEST_INFO, case, RequestInfo(question="Which side?"))

    # when
    await drain(dispatcher, clock)

    # then: the question answers the first mail's Message-ID, so clients thread them
    received, question = (mail.message for mail in smtp.recorder.accepted)
    assert question["In-Reply-To"] == received["Message-ID"] == question["References"]
    assert received["Message-ID"] != question["Message-ID"]
    # replies go to the case's reply address, and the subject carries its token too
    reply_to = str(question["Reply-To"])
    assert reply_to.startswith("cases+" + case.number + "-") and reply_to.endswith("@city.example")
    token = reply_to.removeprefix("cases+").split("@")[0]
    assert f"[{token}]" in subject(smtp.recorder.accepted[1])
    # one-click unsubscribe (RFC 8058) to this server, and no auto-replies
    assert str(question["List-Unsubscribe"]).startswith("<https://city.example/mail/unsubscribe?user=alice&token=")
    assert question["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert question["Auto-Submitted"] == "auto-generated"


async def test_closing_and_cancelling_tell_the_requester_the_outcome(
    desk: Desk, dispatcher: MailDispatcher, clock: FakeClock, smtp: SmtpServer
) -> None:
    # given: one case closed by its agent with notes, one withdrawn by the requester
    closed = await desk.file("Broken lamp")
    await desk.act("agent", CaseAction.ASSIGN_TO_ME, closed)
    await desk.act("agent", CaseAction.CLOSE, closed, Close(resolution_notes="Replaced by the utility."))
    cancelled = await desk.file("Noise")
    await desk.act("manager", CaseAction.CANCEL, cancelled, Cancel(reason="Reported twice."))

    # when
    await drain(dispatcher, clock)

    # then
    by_subject = {subject(mail).split(" [")[0]: mail for mail in smtp.recorder.to(ALICE)}
    closing = by_subject[f"Case {closed.number} is closed"]
    assert "Replaced by the utility." in closing.text()
    cancelling = by_subject[f"Case {cancelled.number} is cancelled"]
    assert "Reported twice." in cancelling.text()
    assert len(smtp.recorder.accepted) == 4  # and the two acknowledgements


async def test_two_dispatchers_running_at_once_and_again_send_each_mail_once(
    desk: Desk, settings: Settings, clock: FakeClock, smtp: SmtpServer
) -> None:
    # given: six mails due, and two dispatchers (as two server processes run)
    for i in range(6):
        await desk.file(f"Hole {i}")
    first, second = mail_dispatcher(settings, clock=clock), mail_dispatcher(settings, clock=clock)

    # when: both pass at once, then again, later
    await asyncio.gather(first.run_once(), second.run_once())
    clock.advance(HOUR)
    await asyncio.gather(first.run_once(), second.run_once())

    # then
    ids = [str(mail.message["Message-ID"]) for mail in smtp.recorder.accepted]
    assert len(ids) == 6 and len(set(ids)) == 6
    assert await MailDelivery.filter(status=DeliveryStatus.DELIVERED, attempts=1).count() == 6


async def test_a_refused_action_mails_nobody(
    desk: Desk, dispatcher: MailDispatcher, clock: FakeClock, smtp: SmtpServer
) -> None:
    # given: a taken case, its acknowledgement sent
    case = await desk.file()
    await desk.act("agent", CaseAction.ASSIGN_TO_ME, case)
    await drain(dispatcher, clock)
    rows = await MailDelivery.all().count()

    # when: a proposal without notes is refused
    with pytest.raises(DomainError) as refused:
        await desk.act(
            "agent",
            CaseAction.PROPOSE_SOLUTION,
            case,
            ProposeSolution(resolution_code=ResolutionCode.SOLVED, resolution_notes="  "),
        )
    await drain(dispatcher, clock)

    # then
    assert refused.value.code is ErrorCode.VALIDATION_FAILED
    assert await MailDelivery.all().count() == rows == 1
    assert len(smtp.recorder.accepted) == 1


async def test_a_mail_the_server_refuses_for_now_arrives_once_after_the_backoff(
    desk: Desk, dispatcher: MailDispatcher, clock: FakeClock, smtp: SmtpServer
) -> None:
    # given: a server that answers the first DATA with 451
    smtp.recorder.refusals_left = 1
    await desk.file()

    # when: the first attempt is refused
    first = await dispatcher.run_once()

    # then: it waits for its backoff, not sent meanwhile
    assert (first.delivered, first.retried) == (0, 1)
    row = await MailDelivery.get()
    assert row.status is DeliveryStatus.PENDING and "451" in (row.last_error or "")
    assert (await dispatcher.run_once()).delivered == 0
    assert smtp.recorder.accepted == []

    # when: the backoff has passed
    clock.advance(timedelta(seconds=10))
    later = await dispatcher.run_once()
    await drain(dispatcher, clock)

    # then: it arrives, once
    assert later.delivered == 1
    assert len(smtp.recorder.accepted) == 1 and smtp.recorder.refused == 1
    sent = await MailDelivery.get(id=row.id)
    assert sent.status is DeliveryStatus.DELIVERED and sent.attempts == 2


async def test_a_mail_the_server_refuses_for_good_fails_without_retries(
    desk: Desk, dispatcher: MailDispatcher, clock: FakeClock, smtp: SmtpServer
) -> None:
    # given
    smtp.recorder.refusals_left = 1
    smtp.recorder.refusal = "550 5.1.1 No such mailbox"
    await desk.file()

    # when
    await drain(dispatcher, clock)

    # then
    row = await MailDelivery.get()
    assert row.status is DeliveryStatus.FAILED and row.attempts == 1 and "550" in (row.last_error or "")
    assert smtp.recorder.accepted == [] and smtp.recorder.refused == 1


async def test_a_spanish_speaking_requester_gets_the_spanish_text(
    desk: Desk, world: World, dispatcher: MailDispatcher, clock: FakeClock, smtp: SmtpServer
) -> None:
    # given
    await set_mail_preferences(
        actor=world.actor("requester"),
        locale="es",
        non_essential_mail=None,
        notification_mail=None,
        languages=dispatcher.renderer.catalogs.languages,
        now=clock(),
    )
    case = await desk.file("Bache en la calle Mayor")

    # when
    await drain(dispatcher, clock)

    # then
    [mail] = smtp.recorder.accepted
    assert subject(mail).startswith(f"Caso {case.number} recibido: Bache en la calle Mayor")
    assert "Hemos recibido su solicitud" in mail.text() and "Hemos recibido su solicitud" in mail.html()
    assert mail.message["Content-Language"] == "es"
    # and: the opt-out page it links to will speak Spanish too, whatever the browser says
    assert str(mail.message["List-Unsubscribe"]).endswith("&lang=es>")


async def test_html_parts_escape_what_people_typed(
    desk: Desk, dispatcher: MailDispatcher, clock: FakeClock, smtp: SmtpServer
) -> None:
    # given
    await desk.file('<img src=x onerror="alert(1)"> & co')

    # when
    await drain(dispatcher, clock)

    # then: markup typed into a title is text in the HTML part, as it is in the plain one
    [mail] = smtp.recorder.accepted
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; co" in mail.html()
    assert "<img" not in mail.html()
    assert '<img src=x onerror="alert(1)"> & co' in mail.text()


def reply_to(question: Accepted, text: str) -> bytes:
    """What Alice's mail client sends when she answers the question mail."""
    reply = EmailMessage()
    reply["From"] = f"Alice <{ALICE}>"
    reply["To"] = str(question.message["Reply-To"])
    reply["Subject"] = "Re: " + subject(question)
    reply["Message-ID"] = make_msgid()
    reply["In-Reply-To"] = str(question.message["Message-ID"])
    reply.set_content(text + "\n\n> " + question.text().replace("\n", "\n> "))
    return bytes(reply)


async def test_replying_to_the_question_mail_answers_it_on_the_case(
    client: GraphQLClient, desk: Desk, dispatcher: MailDispatcher, clock: FakeClock, smtp: SmtpServer
) -> None:
    # given: the question mail in Alice's inbox
    case = await desk.file()
    await desk.act("agent", CaseAction.ASSIGN_TO_ME, case)
    await desk.act("agent", CaseAction.REQUEST_INFO, case, RequestInfo(question="Which side?"))
    await drain(dispatcher, clock)
    question = smtp.recorder.to(ALICE)[-1]

    # when: she replies to it
    response = await client.http.post(
        "/intake/email",
        content=reply_to(question, "The north side."),
        headers={"X-Casegraph-Intake-Secret": INTAKE_SECRET, "Content-Type": "message/rfc822"},
    )

    # then: her answer is a public comment by her, and the case is back where it was
    assert response.status_code == 200, response.text
    assert response.json()["action"] == "commented"
    row = await Case.get(id=case.id)
    assert row.status is CaseStatus.OPEN
    comments = await Comment.filter(case_id=case.id).order_by("id").values("author_id", "body")
    assert comments[-1]["author_id"] == "alice" and comments[-1]["body"].startswith("The north side.")


async def test_staff_get_their_notifications_by_mail_only_when_they_opted_in(
    desk: Desk, dispatcher: MailDispatcher, clock: FakeClock, smtp: SmtpServer
) -> None:
    # given: Eli asked for his notifications by mail, in Spanish; Maria did not
    await User.filter(id="eli").update(notification_mail=True, locale="es")
    case = await desk.file()
    await desk.act("agent", CaseAction.ASSIGN_TO_ME, case)

    # when: Dana mentions both in a work note
    await desk.act("agent", CaseAction.UPDATE, case, UpdateCase(work_note="@eli @maria please look"))
    await drain(dispatcher, clock)

    # then: Eli's mail links to the case on the dashboard; nothing for Maria
    [mail] = smtp.recorder.to("eli@example.org")
    assert subject(mail) == f"Caso {case.number}: le mencionaron"
    assert f"https://city.example/#/case/{case.id}" in mail.text()
    assert "dana mentioned you on" in mail.text()
    assert mail.message["Reply-To"] is None
    assert smtp.recorder.to("maria@example.org") == []
    assert await Notification.filter(user_id="maria").count() == 1
