from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class User(Model):
    """A person or service account, keyed by the identity provider's stable ``sub``."""

    id = fields.CharField(max_length=255, primary_key=True)
    name = fields.CharField(max_length=200, null=True)
    email = fields.CharField(max_length=320, null=True, db_index=True)
    # Intake by staff (issue 19): the phone number as the caller gave it, and its digits alone,
    # which deduplicate registrations and serve the desk's prefix search (indexed by migration
    # 0025 with the lower-cased name and address it searches too).
    phone = fields.CharField(max_length=40, null=True)
    phone_digits = fields.CharField(max_length=40, null=True)
    roles: fields.Field[list[str]] = fields.JSONField(default=list)
    agency = fields.CharField(max_length=100, null=True)
    # Routing skips agents marked unavailable, needs all of a case type's skills (NULL: none),
    # and breaks ties in favour of whoever has waited longest since their last assignment.
    available = fields.BooleanField(default=True)
    skills: fields.Field[list[str] | None] = fields.JSONField(null=True)
    last_assigned_at = fields.DatetimeField(null=True)
    # Mail (issue 17): the language of the mails they get (a catalogue name, casegraph/mail), whether
    # they want non-essential mails (survey invitations; case-status mails always go), and, for
    # staff, whether their notifications are mailed to them too (opt-in).
    locale = fields.CharField(max_length=16, default="en", db_default="en")
    # Whether ``locale`` is the person's choice (setMailPreferences) or only the default: English
    # is both, and a chosen English must win over a browser that asks for another language.
    locale_chosen = fields.BooleanField(default=False, db_default=False)
    non_essential_mail = fields.BooleanField(default=True, db_default=True)
    notification_mail = fields.BooleanField(default=False, db_default=False)
    # An administrator's deactivation (setUserActive): tokens of the user are refused, their
    # browser sessions revoked, and mailed sign-in links sign them in no more.
    active = fields.BooleanField(default=True, db_default=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "users"
