"""Opting out of optional mail: the signed link every mail carries, and the viewer's settings."""

from __future__ import annotations

from urllib.parse import urlsplit

from casegraph.mail.dispatcher import Links
from casegraph.settings import Settings
from models import User
from tests.helpers import GraphQLClient, World

PREFERENCES = "query { mailPreferences { locale nonEssentialMail notificationMail languages } }"
SET_PREFERENCES = """mutation Set($input: SetMailPreferencesInput!) {
  setMailPreferences(input: $input) { preferences { locale nonEssentialMail } errors { code field } }
}"""


def link(settings: Settings, user_id: str, language: str = "en") -> str:
    """The path and query of the user's unsubscribe link, as a mail in ``language`` carries it."""
    parts = urlsplit(Links(settings.public_url, settings.mail_signing_secret).unsubscribe(user_id, language))
    return f"{parts.path}?{parts.query}"


async def wants_optional_mail(user_id: str) -> bool:
    return (await User.get(id=user_id)).non_essential_mail


async def test_opening_the_link_asks_and_only_the_button_or_a_one_click_post_unsubscribes(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # when: a mail scanner (or the person) opens the link
    opened = await client.http.get(link(settings, "alice"))
    # then: a page with a button; nothing changed yet
    assert opened.status_code == 200 and '<form method="post">' in opened.text
    assert await wants_optional_mail("alice")

    # when: the mail client's one-click unsubscribe (RFC 8058)
    clicked = await client.http.post(
        link(settings, "alice"),
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    # then
    assert clicked.status_code == 200
    assert not await wants_optional_mail("alice")
    assert await wants_optional_mail("bob")


async def test_the_pages_speak_the_language_of_the_mail_that_carried_the_link(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: the link of a Spanish mail, opened in a browser set to English
    english = {"Accept-Language": "en"}
    # when
    opened = await client.http.get(link(settings, "alice", "es"), headers=english)
    clicked = await client.http.post(link(settings, "alice", "es"), headers=english)
    # then: asked, and told it is done, in Spanish
    assert opened.status_code == 200 and '<html lang="es">' in opened.text
    assert "¿Dejar de recibir correos opcionales?" in opened.text
    assert '<button type="submit" class="primary">Dejar de recibir correos opcionales</button>' in opened.text
    assert clicked.status_code == 200 and "<h1>Hecho</h1>" in clicked.text
    assert not await wants_optional_mail("alice")


async def test_a_refused_link_is_said_in_the_browsers_language_when_the_link_names_none(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: a link whose signature was cut off, without its language
    cut = link(settings, "alice").split("&token=")[0]
    # when
    refused = await client.http.post(cut, headers={"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"})
    # then
    assert refused.status_code == 400 and '<html lang="es">' in refused.text
    assert "Este enlace no es válido" in refused.text and "No se ha cambiado nada." in refused.text
    assert await wants_optional_mail("alice")


async def test_a_link_signed_for_someone_else_changes_nothing(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: Bob's link, with Alice's id put in
    forged = link(settings, "bob").replace("user=bob", "user=alice")
    # when
    response = await client.http.post(forged)
    # then
    assert response.status_code == 400
    assert await wants_optional_mail("alice") and await wants_optional_mail("bob")


async def test_the_viewer_sets_the_language_of_their_mails_to_one_the_catalogues_have(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given
    alice = world.token(settings, "requester")
    shown = await client.data(PREFERENCES, token=alice)
    assert shown["mailPreferences"] == {
        "locale": "en",
        "nonEssentialMail": True,
        "notificationMail": False,
        "languages": ["en", "es"],
    }
    # when
    changed = await client.data(SET_PREFERENCES, {"input": {"locale": "es", "nonEssentialMail": False}}, token=alice)
    refused = await client.data(SET_PREFERENCES, {"input": {"locale": "xx"}}, token=alice)
    # then
    assert changed["setMailPreferences"] == {
        "preferences": {"locale": "es", "nonEssentialMail": False},
        "errors": [],
    }
    assert refused["setMailPreferences"] == {
        "preferences": None,
        "errors": [{"code": "VALIDATION_FAILED", "field": "locale"}],
    }
    assert (await User.get(id="alice")).locale == "es"


CHOSEN = "query { mailPreferences { locale localeChosen } }"


async def test_a_chosen_english_is_told_apart_from_the_default_english(
    client: GraphQLClient, world: World, settings: Settings
) -> None:
    # given: a new account's mails are in English, which nobody chose
    alice = world.token(settings, "requester")
    assert (await client.data(CHOSEN, token=alice))["mailPreferences"] == {"locale": "en", "localeChosen": False}
    # when: her browser's Spanish is saved (not a choice), then she picks English
    await client.data(SET_PREFERENCES, {"input": {"locale": "es", "localeChosen": False}}, token=alice)
    assert (await client.data(CHOSEN, token=alice))["mailPreferences"] == {"locale": "es", "localeChosen": False}
    await client.data(SET_PREFERENCES, {"input": {"locale": "en"}}, token=alice)
    # then: English is now her choice, remembered as one
    assert (await client.data(CHOSEN, token=alice))["mailPreferences"] == {"locale": "en", "localeChosen": True}
    assert (await User.get(id="alice")).locale_chosen
    # and: localeChosen without a locale is refused and changes nothing
    refused = await client.data(SET_PREFERENCES, {"input": {"localeChosen": False}}, token=alice)
    assert refused["setMailPreferences"]["errors"] == [{"code": "VALIDATION_FAILED", "field": "localeChosen"}]
    assert (await client.data(CHOSEN, token=alice))["mailPreferences"] == {"locale": "en", "localeChosen": True}
