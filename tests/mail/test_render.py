"""Templates and catalogues: every mail renders in every language, an agency overrides one file
and keeps the rest, and a language is one more catalogue file."""

from __future__ import annotations

import dataclasses
import json
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
