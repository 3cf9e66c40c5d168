"""Replies to the mails about a resolved, closed or cancelled case (issue 17: "replies thread
back"): every such mail offers the reply address, but the requester may no longer comment there
(lifecycle.md), so the reply is filed as a new request that names the case, and its
acknowledgement says why — through the real intake endpoint, mails on a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from casegraph.app import Runtime, create_app
from casegraph.auth import TokenVerifier
from casegraph.domain.commands import Cancel, Close, ProposeSolution
from casegraph.domain.enums import CaseAction, CaseStatus, Channel, ResolutionCode
from casegraph.mail.dispatcher import MailDispatcher
from casegraph.mail.wiring import mail_dispatcher
from casegraph.services.mail_preferences import set_mail_preferences
from casegraph.settings import Settings, parse_smtp_url
from models import Case, CaseType, Comment
from tests.helpers import FakeClock, GraphQLClient, RecordingPublisher, World
from tests.mail.smtp_server import Accepted, SmtpServer, running_smtp_server
from tests.mail.test_dispatcher import ALICE, INTAKE_SECRET, MAILBOX, Desk, drain, reply_to, subject

HOUR = timedelta(hours=1)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    yield from running_smtp_server()


@pytest.fixture
def settings(smtp: SmtpServer) -> Settings:
    # No intake case type: a reply to a finished case is filed under that case's own type.
    return Settings(
        jwt_secret="test-secret-for-casegraph-tests-only",
        bind_host="127.0.0.1",
        smtp=parse_smtp_url(smtp.url()),
        mail_from="Roads desk <desk@city.example>",
        public_url="https://city.example",
        intake_secret=INTAKE_SECRET,
        intake_address=MAILBOX,
    )


@pytest.fixture
def dispatcher(settings: Settings, clock: FakeClock) -> MailDispatcher:
    return mail_dispatcher(settings, clock=clock)


@pytest.fixture
def desk(world: World, clock: FakeClock, publisher: RecordingPublisher) -> Desk:
    return Desk(world, clock, publisher)


async def send_reply(client: GraphQLClient, mail: Accepted, text: str) -> dict[str, str]:
    response = await client.http.post(
        "/intake/email",
        content=reply_to(mail, text),
        headers={"X-Casegraph-Intake-Secret": INTAKE_SECRET, "Content-Type": "message/rfc822"},
    )
    assert response.status_code == 201, response.text
    body: dict[str, str] = response.json()
    return body


async def test_a_reply_to_the_proposal_mail_is_kept_as_a_new_request_and_the_answer_links_the_decision(
    client: GraphQLClient, desk: Desk, dispatcher: MailDispatcher, clock: FakeClock, smtp: SmtpServer
) -> None:
    # given: Alice's case is resolved, the proposal mail in her inbox
    case = await desk.file()
    await desk.act("agent", CaseAction.ASSIGN_TO_ME, case)
    await desk.act(
        "agent",
        CaseAction.PROPOSE_SOLUTION,
        case,
        ProposeSolution(resolution_code=ResolutionCode.SOLVED, resolution_notes="Filled and rolled."),
    )
    await drain(dispatcher, clock)
    proposal = smtp.recorder.to(ALICE)[-1]
    assert proposal.message["Reply-To"] is not None

    # when: she replies to it
    filed = await send_reply(client, proposal, "It is still there after the rain.")

    # then: the resolved case is unchanged (no comment, still waiting for her decision)
    row = await Case.get(id=case.id)
    assert row.status is CaseStatus.RESOLVED and row.version == case.version + 2
    assert await Comment.filter(case_id=case.id, author_id="alice").count() == 0
    # and: her reply is a new request of hers, of the same type, that names the case
    assert filed["action"] == "created" and filed["caseId"] != case.id
    new = await Case.get(id=filed["caseId"]).prefetch_related("case_type")
    assert new.requester_id == "alice" and new.channel is Channel.EMAIL
    assert new.case_type is not None and new.case_type.code == "POTHOLE"
    assert new.description is not None and new.description.startswith("It is still there after the rain.")
    assert f"case {case.number}, which is RESOLVED" in new.description
    assert new.title == "Re: " + subject(proposal).split(" [")[0]  # without the reply token
    # and: the answer tells her why, and where to accept or reject the solution
    await drain(dispatcher, clock)
    answer = smtp.recorder.to(ALICE)[-1]
    assert subject(answer).startswith(f"Case {new.number} received")
    assert "waits for your decision, so your reply could not be added to it" in answer.text()
    assert f"https://city.example/portal#case-{case.id}" in answer.text()
    assert f'href="https://city.example/portal#case-{case.id}"' in answer.html()


@pytest.mark.parametrize("ending", ["closed", "cancelled"])
async def test_a_reply_to_the_closure_mail_is_kept_as_a_new_request_in_the_senders_language(
    client: GraphQLClient,
    world: World,
    desk: Desk,
    dispatcher: MailDispatcher,
    clock: FakeClock,
    smtp: SmtpServer,
    ending: str,
) -> None:
    # given: a Spanish-speaking requester whose case was closed (or cancelled)
    await set_mail_preferences(
        actor=world.actor("requester"),
        locale="es",
        non_essential_mail=None,
        notification_mail=None,
        languages=dispatcher.renderer.catalogs.languages,
        now=clock(),
    )
    case = await desk.file("Bache en la calle Mayor")
    await desk.act("agent", CaseAction.ASSIGN_TO_ME, case)
    if ending == "closed":
        await desk.act("agent", CaseAction.CLOSE, case, Close(resolution_notes="Not ours: a private road."))
    else:
        await desk.act("manager", CaseAction.CANCEL, case, Cancel(reason="Filed twice."))
    await drain(dispatcher, clock)
    closure = smtp.recorder.to(ALICE)[-1]

    # when: she replies to the closure mail
    filed = await send_reply(client, closure, "Sigue sin arreglar.")

    # then: nothing changes on the finished case; the reply is a new request naming it
    row = await Case.get(id=case.id)
    assert row.status is (CaseStatus.CLOSED if ending == "closed" else CaseStatus.CANCELLED)
    new = await Case.get(id=filed["caseId"])
    assert new.requester_id == "alice" and new.description is not None
    assert new.description.startswith("Sigue sin arreglar.") and case.number in new.description
    # and: the answer, in Spanish, says the case is finished and the reply was kept
    await drain(dispatcher, clock)
    answer = smtp.recorder.to(ALICE)[-1]
    assert answer.message["Content-Language"] == "es"
    finished = "está cerrado" if ending == "closed" else "fue cancelado"
    assert f"El caso {case.number} {finished}" in answer.text()
    assert "hemos guardado su respuesta aquí" in answer.text()
    assert new.number in subject(answer)


async def test_a_reply_to_a_case_still_open_is_a_comment_as_before(
    client: GraphQLClient, desk: Desk, dispatcher: MailDispatcher, clock: FakeClock, smtp: SmtpServer
) -> None:
    # given: the acknowledgement of an open case
    case = await desk.file()
    await drain(dispatcher, clock)
    received = smtp.recorder.to(ALICE)[-1]
    # when
    response = await client.http.post(
        "/intake/email",
        content=reply_to(received, "One more detail: it is near the school."),
        headers={"X-Casegraph-Intake-Secret": INTAKE_SECRET, "Content-Type": "message/rfc822"},
    )
    # then: a comment on the case, no new request
    assert response.status_code == 200 and response.json()["action"] == "commented", response.text
    assert await Case.all().count() == 1
    assert await Comment.filter(case_id=case.id, author_id="alice").count() == 1


async def test_a_reply_to_a_finished_case_whose_type_was_retired_is_filed_under_the_intake_type(
    client: GraphQLClient,
    settings: Settings,
    clock: FakeClock,
    world: World,
    publisher: RecordingPublisher,
    smtp: SmtpServer,
) -> None:
    # given: intake files under QUESTION; alice's POTHOLE case is closed, and POTHOLE retired since
    with_intake = replace(settings, intake_case_type="QUESTION")
    dispatcher = mail_dispatcher(with_intake, clock=clock)
    desk = Desk(world, clock, publisher)
    case = await desk.file()
    await desk.act("agent", CaseAction.ASSIGN_TO_ME, case)
    await desk.act("agent", CaseAction.CLOSE, case, Close(resolution_notes="Filled."))
    await drain(dispatcher, clock)
    closure = smtp.recorder.to(ALICE)[-1]
    await CaseType.filter(code="POTHOLE").update(active=False)
    runtime = Runtime(settings=with_intake, verifier=TokenVerifier(with_intake), clock=clock, publisher=publisher)
    app = create_app(with_intake, manage_resources=False, runtime=runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        # when
        response = await http.post(
            "/intake/email",
            content=reply_to(closure, "It came back."),
            headers={"X-Casegraph-Intake-Secret": INTAKE_SECRET, "Content-Type": "message/rfc822"},
        )
    # then: kept all the same, under the intake's type
    assert response.status_code == 201, response.text
    new = await Case.get(id=response.json()["caseId"]).prefetch_related("case_type")
    assert new.case_type is not None and new.case_type.code == "QUESTION"
    assert new.description is not None and case.number in new.description
