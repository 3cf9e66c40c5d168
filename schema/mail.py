"""Mail settings over GraphQL, resolved by ``resolvers/mail_preferences.py``; the types are
``schema/types/mail.py``. Sending is ``casegraph/mail``."""

from __future__ import annotations

import strawberry

from resolvers import mail_preferences
from schema.context import Info
from schema.types.mail import MailPreferences, MailPreferencesPayload, SetMailPreferencesInput


@strawberry.type
class MailQuery:
    @strawberry.field(description="The viewer's mail settings: language and which mails they want.")
    async def mail_preferences(self, info: Info) -> MailPreferences | None:
        return await mail_preferences.mail_preferences(info)


@strawberry.type
class MailMutation:
    @strawberry.mutation(description="Change the viewer's mail language or which mails they want.")
    async def set_mail_preferences(self, info: Info, input: SetMailPreferencesInput) -> MailPreferencesPayload:
        return await mail_preferences.set_mail_preferences(info, input)
