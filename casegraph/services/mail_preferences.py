"""A person's mail settings: their language, and whether they want non-essential mail.

Every mail carries an unsubscribe link (``List-Unsubscribe``) signed for its recipient's user id,
so following it needs no sign-in and cannot be aimed at someone else: the token is an HMAC of the
user id under the mail secret, recomputed, never stored. It turns non-essential mail (survey
invitations) off; mails about the state of one's case keep coming.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Final

from casegraph.domain.errors import validation_failed
from casegraph.domain.relations import Actor
from models import User

LOCALE_LIMIT: Final = 16
TOKEN_HEX_DIGITS: Final = 32


def unsubscribe_token(secret: str, user_id: str) -> str:
    digest = hmac.new(secret.encode(), b"casegraph-unsubscribe\x00" + user_id.encode(), hashlib.sha256)
    return digest.hexdigest()[:TOKEN_HEX_DIGITS]


def token_matches(secret: str, user_id: str, token: str) -> bool:
    return hmac.compare_digest(unsubscribe_token(secret, user_id), token.strip().lower())


async def stop_non_essential_mail(*, user_id: str, now: datetime) -> bool:
    """True if the user exists (their preference is now off, whatever it was)."""
    return bool(await User.filter(id=user_id).update(non_essential_mail=False, updated_at=now))


async def set_mail_preferences(
    *,
    actor: Actor,
    locale: str | None,
    non_essential_mail: bool | None,
    locale_chosen: bool | None = None,
    notification_mail: bool | None,
    languages: frozenset[str],
    now: datetime,
) -> User:
    """The actor's own settings; a language must be one the mail catalogues have.

    A ``locale`` is the person's choice unless ``locale_chosen`` is False (the portal saving the
    browser's language): a choice, English included, is what the portal keeps over a browser
    asking for another language (users.locale_chosen)."""
    values: dict[str, object] = {}
    if locale_chosen is not None and locale is None:
        raise validation_failed("localeChosen", "Give it with the locale it is about.")
    if locale is not None:
        cleaned = locale.strip()
        if cleaned not in languages:
            raise validation_failed("locale", f"One of: {', '.join(sorted(languages))}.")
        values["locale"] = cleaned
        values["locale_chosen"] = locale_chosen is not False
    if non_essential_mail is not None:
        values["non_essential_mail"] = non_essential_mail
    if notification_mail is not None:
        values["notification_mail"] = notification_mail
    if values:
        await User.filter(id=actor.user_id).update(**values, updated_at=now)
    user = await User.get_or_none(id=actor.user_id)
    if user is None:
        raise validation_failed("user", "Unknown user.")
    return user
