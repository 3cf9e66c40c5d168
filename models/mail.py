"""Mails to people about their cases, written with the change that causes them (issue 17).

A row is inserted in the transaction that recorded the case event, so a committed event always
has its mails and a refused or rolled-back one has none. The mail dispatcher (casegraph/mail)
renders and sends them after commit, retrying with backoff. One row per (event, recipient
address): a second enqueue of the same mail is refused by the database, so no event mails anyone
twice, however many dispatchers run. A staff notification mailed (to those who opted in) is one
row per notification, which is per recipient already.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from models.outbox import DeliveryStatus


class MailDelivery(Model):
    """One mail of ``template`` about one case event to one address, in the recipient's language.

    ``facts`` holds what the template shows (case number and title, the question, the notes…),
    copied at the event so a later change of the case does not rewrite a mail already due.
    """

    id = fields.UUIDField(primary_key=True)
    # The event the mail is about; None for a staff notification an event did not cause (an SLA
    # alert), which is keyed by its notification instead.
    event_sequence = fields.BigIntField(null=True)
    notification_id = fields.IntField(null=True, unique=True)
    # None: a mail about no case (a sign-in link, services/sign_in.py).
    case_id = fields.UUIDField(null=True)
    recipient = fields.CharField(max_length=320)
    # The user the address belongs to (their preferences, the unsubscribe link); None: the case's
    # contact address of a requester without one of their own.
    user_id = fields.CharField(max_length=255, null=True)
    template = fields.CharField(max_length=32)
    locale = fields.CharField(max_length=16)
    # Non-essential mails (survey invitations) carry List-Unsubscribe and are not written for
    # people who asked for none.
    essential = fields.BooleanField(default=True)
    facts: fields.Field[dict[str, Any]] = fields.JSONField()
    status = fields.CharEnumField(DeliveryStatus, max_length=16, default=DeliveryStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    last_error = fields.CharField(max_length=500, null=True)
    last_attempt_at = fields.DatetimeField(null=True)
    delivered_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "mail_deliveries"
        unique_together = (("event_sequence", "recipient"),)
