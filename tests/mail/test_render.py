"""Templates and catalogues: every mail renders in every language, an agency overrides one file
and keeps the rest, and a language is one more catalogue file."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from casegraph.mail.catalogs import BUILT_IN, Catalogs
from casegraph.mail.render import Extras, Mail, MailRenderer
from casegraph.services.notification_mail import NOTIFICATION
from casegraph.services.requester_mail import RequesterMail

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FACTS = {
    "number": "CS0001001",
    "title": "Hole on Main St",
    "resolution_code": "SOLVED",
    "resolution_notes": "Filled.",
    "cancel_reason": "Reported twice.",
}


def mail(template: RequesterMail | str, locale: str = "en") -> Mail:
    name = template.value if isinstance(template, RequesterMail) else template
    return Mail(
        delivery_id="d",
        event_sequence=7,
        case_id="c0ffee00-0000-4000-8000-000000000001",
        recipient="alice@example.org",
        template=name,
        locale=locale,
        facts={**FACTS, "kind": "SLA_BREACHED", "text": "CS0001001 breached."} if name == NOTIFICATION else FACTS,
    )


EXTRAS = Extras(case_url="https://city.example/portal#case-1", question="Which side?")


@pytest.mark.parametrize(
    ("language", "received", "reminder"),
    [
        (
            "en",
            "Received on November 2, 2026, 3:00\u202fAM CST.",
            "Unless you reject the solution, the case will be closed on November 12, 2026.",
        ),
        (
            "es",
            "Recibida el 2 de noviembre de 2026, 3:00 -0600.",
            "Si no rechaza la solución, el caso se cerrará el 12 de noviembre de 2026.",
        ),
    ],
)
def test_dates_are_written_the_way_the_language_writes_them_on_the_agencys_clock(
    language: str, received: str, reminder: str
) -> None:
    # given: an agency in Chicago; a case received at 9:00 UTC (3:00 there), to be closed by itself
    # at 2:30 UTC on the 13th, which is still the 12th in Chicago
    renderer = MailRenderer(sender="desk@city.example", time_zone="America/Chicago")
    at = {**FACTS, "at": NOW.isoformat(), "closes_at": "2026-11-13T02:30:00+00:00"}
    # when
    mails = {
        template: renderer.render(replace(mail(template, language), facts=at), EXTRAS, now=NOW)
        for template in (RequesterMail.RECEIVED, RequesterMail.REMINDER)
    }
    # then: in both parts, in the language's words and order (CLDR's narrow space before AM),
    # on the agency's clock
    for template, expected in ((RequesterMail.RECEIVED, received), (RequesterMail.REMINDER, reminder)):
        text, html = mails[template].get_body(("plain",)), mails[template].get_body(("html",))
        assert text is not None and html is not None
        assert expected in text.get_content() and expected in html.get_content(), text.get_content()


@pytest.mark.parametrize(
    ("language", "by_reply", "on_portal"),
    [
        (
            "en",
            "To answer, reply to this mail (keep the case number in the subject), or answer on the portal:",
            "To answer, open your case on the portal:",
        ),
        (
            "es",
            "Para responder, conteste a este correo (conserve el número de caso en el asunto) o responda en el portal:",
            "Para responder, abra su caso en el portal:",
        ),
    ],
)
def test_the_question_mail_says_how_to_answer_in_the_recipients_language(
    language: str, by_reply: str, on_portal: str
) -> None:
    # given: a desk that takes replies by mail, and one that does not
    renderer = MailRenderer(sender="desk@city.example")
    replies = replace(EXTRAS, reply_address="cases+CS0001001-x@city.example", reply_token="CS0001001-x")
    # when
    answerable = renderer.render(mail(RequesterMail.QUESTION, language), replies, now=NOW)
    portal_only = renderer.render(mail(RequesterMail.QUESTION, language), EXTRAS, now=NOW)
    # then: the question, how to answer, and the portal link, in both parts
    for message, how in ((answerable, by_reply), (portal_only, on_portal)):
        text, html = message.get_body(("plain",)), message.get_body(("html",))
        assert text is not None and html is not None
        for part in (text.get_content(), html.get_content()):
            assert "Which side?" in part and how in part and EXTRAS.case_url in part
    assert answerable["Reply-To"] == "cases+CS0001001-x@city.example" and portal_only["Reply-To"] is None


def test_a_mail_written_before_dates_were_kept_renders_without_them() -> None:
    message = MailRenderer(sender="desk@city.example").render(mail(RequesterMail.RECEIVED), EXTRAS, now=NOW)
    text = message.get_body(("plain",))
    assert text is not None and "Received on" not in text.get_content()


def test_every_catalogue_has_the_texts_of_the_english_one() -> None:
    english = set(json.loads((BUILT_IN / "en.json").read_text(encoding="utf-8")))
    for path in sorted(BUILT_IN.glob("*.json")):
        assert set(json.loads(path.read_text(encoding="utf-8"))) == english, path.name


@pytest.mark.parametrize("language", sorted(Catalogs().languages))
@pytest.mark.parametrize("template", [*RequesterMail, NOTIFICATION])
def test_every_mail_renders_in_every_language(language: str, template: RequesterMail | str) -> None:
    # when
    message = MailRenderer(sender="desk@city.example").render(mail(template, language), EXTRAS, now=NOW)
    # then: both parts, the case number in the subject, the link in both
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    assert "CS0001001" in str(message["Subject"])
    assert EXTRAS.case_url in text.get_content() and EXTRAS.case_url in html.get_content()
    assert message["Content-Language"] == language


def test_an_agency_overrides_one_template_and_adds_a_language(tmp_path: Path) -> None:
    # given: its own received.txt, and French with only a subject translated
    (tmp_path / "received.txt").write_text("{{ t('greeting') }} {{ case.number }} est bien reçu.\n", encoding="utf-8")
    (tmp_path / "catalogs").mkdir()
    (tmp_path / "catalogs" / "fr.json").write_text(
        json.dumps({"subject.received": "Dossier {number} reçu", "greeting": "Bonjour,"}), encoding="utf-8"
    )
    renderer = MailRenderer(sender="desk@city.example", override=tmp_path)

    # when
    message = renderer.render(mail(RequesterMail.RECEIVED, "fr-CA"), EXTRAS, now=NOW)

    # then: its text part, the built-in HTML part, French where it has texts and English beneath
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    assert text.get_content() == "Bonjour, CS0001001 est bien reçu.\n"
    assert "We have received your request" in html.get_content()
    assert str(message["Subject"]) == "Dossier CS0001001 reçu"
    assert renderer.catalogs.languages == {"en", "es", "fr"}


def test_a_language_nobody_wrote_falls_back_to_english() -> None:
    catalogs = Catalogs()
    assert catalogs.choose("es-MX") == "es"
    assert catalogs.choose("de") == "en"
    assert catalogs.choose(None) == "en"


@pytest.mark.parametrize(("language", "words"), [("en", "could not be kept"), ("es", "no se pudieron guardar")])
def test_the_acknowledgement_of_a_mailed_request_names_the_files_not_kept(language: str, words: str) -> None:
    # given: a mailed request two of whose files were refused
    received = dataclasses.replace(
        mail(RequesterMail.RECEIVED, language), facts={**FACTS, "files_refused": "holiday.jpg, setup.exe"}
    )
    # when
    message = MailRenderer(sender="desk@city.example").render(received, EXTRAS, now=NOW)
    # then: both parts name them, in the requester's language
    for part in (message.get_body(("plain",)), message.get_body(("html",))):
        assert part is not None
        content = part.get_content()
        assert words in content and "holiday.jpg, setup.exe" in content


def test_an_acknowledgement_without_refused_files_says_nothing_of_files() -> None:
    message = MailRenderer(sender="desk@city.example").render(mail(RequesterMail.RECEIVED), EXTRAS, now=NOW)
    text = message.get_body(("plain",))
    assert text is not None and "could not be kept" not in text.get_content()
