"""Which events write a mail to the requester, to which address, in which language: the mail
outbox rows themselves, before any dispatcher reads them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from tortoise.exceptions import IntegrityError

from casegraph.domain.commands import ProposeSolution
from casegraph.domain.enums import CaseAction, ResolutionCode
from casegraph.services.case_actions import ActionRequest, perform
from casegraph.services.case_changes import ActionResult
from casegraph.services.case_creation import NewCase, create_case
from casegraph.services.notifications import NotificationKind, notify
from casegraph.services.records import CaseRecord
from models import CaseEvent, DeliveryStatus, MailDelivery, User
from tests.helpers import FakeClock, RecordingPublisher, World


async def file(
    world: World, clock: FakeClock, publisher: RecordingPublisher, *, submit: bool = True, contact: str | None = None
) -> CaseRecord:
    created = await create_case(
        actor=world.actor("requester"),
        new=NewCase(case_type_code="POTHOLE", title="Hole", submit=submit, contact_email=contact),
        now=clock(),
        publisher=publisher,
    )
    return created.case


async def act(
    world: World, clock: FakeClock, publisher: RecordingPublisher, who: str, action: CaseAction, case: CaseRecord
) -> ActionResult:
    return await perform(
        actor=world.actor(who), request=ActionRequest(action, case.id), now=clock(), publisher=publisher
    )


async def mails() -> list[tuple[str, str, str]]:
    rows = await MailDelivery.all().order_by("event_sequence").values("template", "recipient", "locale")
    return [(row["template"], row["recipient"], row["locale"]) for row in rows]


async def test_a_draft_mails_nobody_until_it_is_submitted(
    world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given
    draft = await file(world, clock, publisher, submit=False)
    assert await mails() == []
    # when
    await act(world, clock, publisher, "requester", CaseAction.SUBMIT, draft)
    # then
    assert await mails() == [("received", "alice@example.org", "en")]


async def test_a_mail_keeps_when_its_event_happened_so_it_can_say_so(
    world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # when
    case = await file(world, clock, publisher)
    clock.advance(timedelta(hours=3))
    await act(world, clock, publisher, "requester", CaseAction.CANCEL, case)
    # then: each row holds its own event's moment, hours apart
    rows = await MailDelivery.all().order_by("event_sequence").values("template", "facts", "event_sequence")
    events = {e.sequence: e.occurred_at for e in await CaseEvent.filter(case_id=case.id)}
    assert [row["template"] for row in rows] == ["received", "cancelled"]
    moments = [datetime.fromisoformat(row["facts"]["at"]) for row in rows]
    assert moments == [events[row["event_sequence"]] for row in rows]
    assert moments[1] - moments[0] >= timedelta(hours=3)


async def test_the_requesters_own_address_comes_before_the_cases_contact_address(
    world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: one case with a contact address, filed by Alice, whose address is known
    await file(world, clock, publisher, contact="alice.work@example.org")
    # and: Bob without an address of his own files one with a contact address
    await User.filter(id="bob").update(email=None)
    await create_case(
        actor=world.actor("other_constituent"),
        new=NewCase(case_type_code="POTHOLE", title="Lamp", contact_email="bob.home@example.org"),
        now=clock(),
        publisher=publisher,
    )
    # then
    assert [recipient for _, recipient, _ in await mails()] == ["alice@example.org", "bob.home@example.org"]


async def test_a_requester_without_any_address_gets_no_mail(
    world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given
    await User.filter(id="alice").update(email=None)
    # when
    await file(world, clock, publisher)
    # then
    assert await mails() == []


async def test_the_survey_invitation_respects_the_no_optional_mail_preference_and_status_mails_do_not(
    world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: Alice wants no optional mail; her case is solved
    await User.filter(id="alice").update(non_essential_mail=False, locale="es")
    case = await file(world, clock, publisher)
    await act(world, clock, publisher, "agent", CaseAction.ASSIGN_TO_ME, case)
    await perform(
        actor=world.actor("agent"),
        request=ActionRequest(
            CaseAction.PROPOSE_SOLUTION,
            case.id,
            command=ProposeSolution(resolution_code=ResolutionCode.SOLVED, resolution_notes="Filled."),
        ),
        now=clock(),
        publisher=publisher,
    )
    # when: she accepts
    await act(world, clock, publisher, "requester", CaseAction.ACCEPT_SOLUTION, case)
    # then: the status mails, in her language; no survey invitation
    assert await mails() == [("received", "alice@example.org", "es"), ("proposed", "alice@example.org", "es")]
    proposed = await MailDelivery.get(template="proposed")
    assert proposed.essential and proposed.facts["resolution_notes"] == "Filled."


async def test_an_event_mails_an_address_once_whatever_writes_it_again(
    world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given
    await file(world, clock, publisher)
    written = await MailDelivery.get()
    # when / then: the database refuses a second mail of that event to that address
    with pytest.raises(IntegrityError):
        await MailDelivery.create(
            id=uuid.uuid4(),
            event_sequence=written.event_sequence,
            case_id=written.case_id,
            recipient=written.recipient,
            user_id=written.user_id,
            template=written.template,
            locale=written.locale,
            facts=written.facts,
            status=DeliveryStatus.PENDING,
            next_attempt_at=clock(),
            created_at=clock(),
        )
    assert await MailDelivery.all().count() == 1


async def test_a_change_rolled_back_after_its_event_was_written_leaves_no_mail(
    world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: a request that fails after the case and its event were written
    async def fail(_result: ActionResult) -> None:
        raise RuntimeError("the request failed after the event was written")

    # when
    with pytest.raises(RuntimeError):
        await create_case(
            actor=world.actor("requester"),
            new=NewCase(case_type_code="POTHOLE", title="Hole"),
            now=clock(),
            publisher=publisher,
            on_success=fail,
        )

    # then: the mail went with the event
    assert await mails() == []


async def test_the_auto_close_reminder_is_mailed_to_the_requester_and_other_notifications_only_on_request(
    world: World, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    # given: Alice's case; Dana asked for nothing by mail
    case = await file(world, clock, publisher)
    await MailDelivery.all().delete()

    # when: the reminder tells Alice, an alert tells Dana
    await notify(
        user_ids=["alice"], case_id=case.id, kind=NotificationKind.AUTO_CLOSE_REMINDER, text="Soon.", now=clock()
    )
    await notify(user_ids=["dana"], case_id=case.id, kind=NotificationKind.STAGE_DWELL, text="Late.", now=clock())

    # then: one mail, the reminder, to Alice
    assert await mails() == [("reminder", "alice@example.org", "en")]
    reminder = await MailDelivery.get()
    assert reminder.essential and reminder.notification_id is not None and reminder.event_sequence is None
