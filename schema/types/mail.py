"""A person's mail settings: the language of their mails and which mails they want."""

from __future__ import annotations

import strawberry

from models import User as UserRow
from schema.types.common import UserError


@strawberry.type(description="The viewer's mail settings.")
class MailPreferences:
    locale: str = strawberry.field(description="The language of the mails they get (e.g. en, es).")
    locale_chosen: bool = strawberry.field(
        description="Whether `locale` was chosen (setMailPreferences), not only the default (en)."
    )
    non_essential_mail: bool = strawberry.field(
        description="Satisfaction surveys and other optional mails; mails about their cases always go."
    )
    notification_mail: bool = strawberry.field(description="Staff: their notifications are mailed to them too.")
    languages: list[str] = strawberry.field(description="The languages mails can be written in.")

    @classmethod
    def from_row(cls, row: UserRow, languages: frozenset[str]) -> MailPreferences:
        return cls(
            locale=row.locale,
            locale_chosen=row.locale_chosen,
            non_essential_mail=row.non_essential_mail,
            notification_mail=row.notification_mail,
            languages=sorted(languages),
        )


@strawberry.input(description="What to change of the viewer's mail settings; omitted fields stay as they are.")
class SetMailPreferencesInput:
    locale: str | None = strawberry.field(default=None, description="One of `mailPreferences.languages`.")
    locale_chosen: bool | None = strawberry.field(
        default=None,
        description=(
            "With `locale`: whether it is the person's choice (the default) or only their browser's language,"
            " which a choice made elsewhere may replace."
        ),
    )
    non_essential_mail: bool | None = strawberry.field(default=None, description="false: no optional mails.")
    notification_mail: bool | None = strawberry.field(default=None, description="true: notifications by mail too.")


@strawberry.type(description="The viewer's mail settings after the change, or why it was refused.")
class MailPreferencesPayload:
    preferences: MailPreferences | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
