"""The viewer's mail settings: ``mailPreferences`` and ``setMailPreferences``. The rules live in
``casegraph/services/mail_preferences.py``."""

from __future__ import annotations

from casegraph.services import mail_preferences as rules
from models import User as UserRow
from resolvers.pipeline import run_mutation
from schema.context import Info
from schema.payloads import refused
from schema.types.mail import MailPreferences, MailPreferencesPayload, SetMailPreferencesInput


async def mail_preferences(info: Info) -> MailPreferences | None:
    actor = info.context.require_actor()
    row = await UserRow.get_or_none(id=actor.user_id)
    return MailPreferences.from_row(row, info.context.mail_languages) if row is not None else None


async def set_mail_preferences(info: Info, input: SetMailPreferencesInput) -> MailPreferencesPayload:
    languages = info.context.mail_languages
    return await run_mutation(
        info,
        refused=refused(MailPreferencesPayload),
        call=lambda actor: rules.set_mail_preferences(
            actor=actor,
            locale=input.locale,
            locale_chosen=input.locale_chosen,
            non_essential_mail=input.non_essential_mail,
            notification_mail=input.notification_mail,
            languages=languages,
            now=info.context.clock(),
        ),
        done=lambda row: MailPreferencesPayload(preferences=MailPreferences.from_row(row, languages)),
    )
