"""Sends the mail outbox: a background task of each server process (started by the lifespan).

Like the webhook outbox (casegraph/outbox_dispatcher.py): each pass picks due PENDING mails and
claims each with one conditional UPDATE (``attempts`` as the version, pushing ``next_attempt_at``
a lease ahead), so of several dispatchers exactly one sends a given attempt. A sent mail is
DELIVERED; a temporary refusal is tried again with the outbox's backoff until ``MAX_ATTEMPTS``;
a permanent one (5xx) fails at once. The unique (event, recipient) key of the rows means no
event is mailed to anyone twice. A process dying between the server's acceptance and the
DELIVERED mark leaves the mail to be sent again after the lease: its Message-ID is the same,
so mail clients show it once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Final
from urllib.parse import quote, urlencode

from jinja2 import TemplateError

from casegraph.clock import Clock
from casegraph.delivery_queue import ERROR_LIMIT, MAX_ATTEMPTS, DeliveryQueue, Pass, Tally, backoff, log_pass
from casegraph.mail.catalogs import CatalogError
from casegraph.mail.render import Extras, Mail, MailRenderer
from casegraph.mail.transport import TIMEOUT, MailTransport, SendFailure
from casegraph.services.mail_preferences import unsubscribe_token
from casegraph.services.notification_mail import NOTIFICATION
from casegraph.services.reply_addresses import ReplyAddresses
from casegraph.services.requester_mail import RequesterMail
from casegraph.services.sign_in import SIGN_IN_TEMPLATE, STAFF_SIGN_IN_TEMPLATE, link_secret, signs_in_elsewhere
from models import Comment, DeliveryStatus, MailDelivery

log = logging.getLogger("casegraph.mail")

# A claimed mail is not picked again for this long: more than an SMTP conversation's timeouts.
LEASE: Final = timedelta(minutes=5)
UNSUBSCRIBE_PATH: Final = "/mail/unsubscribe"
SIGN_IN_PATH: Final = "/signin/link"


@dataclass(frozen=True)
class Links:
    """The addresses mails point at: the portal's case page, the unsubscribe endpoint and sign-in
    links. ``unsubscribe_secret`` is the server's mail signing secret, which makes both."""

    public_url: str
    unsubscribe_secret: str

    def case(self, case_id: str) -> str:
        """The case on the constituent portal."""
        return f"{self.public_url}/portal#case-{quote(case_id, safe='')}"

    def desk_case(self, case_id: str) -> str:
        """The case on the agent dashboard."""
        return f"{self.public_url}/#/case/{quote(case_id, safe='')}"

    # Pages a mail links to speak the mail's language (``lang``, casegraph/pages), whatever the
    # browser that opens them is set to.

    def sign_in(self, link_id: str, language: str) -> str:
        """The page that signs the link's owner in (casegraph/sign_in_pages.py)."""
        query = urlencode({"token": link_secret(self.unsubscribe_secret, link_id), "lang": language})
        return f"{self.public_url}{SIGN_IN_PATH}?{query}"

    def unsubscribe(self, user_id: str, language: str) -> str:
        token = unsubscribe_token(self.unsubscribe_secret, user_id)
        query = urlencode({"user": user_id, "token": token, "lang": language})
        return f"{self.public_url}{UNSUBSCRIBE_PATH}?{query}"


class MailDispatcher(DeliveryQueue):
    task_name = "casegraph-mail-dispatcher"
    log = log
    stop_grace = 2 * TIMEOUT  # an SMTP conversation in progress may take its timeouts
    model = MailDelivery
    lease = LEASE

    def __init__(
        self,
        *,
        interval: float,
        clock: Clock,
        transport: MailTransport,
        renderer: MailRenderer,
        links: Links,
        reply: ReplyAddresses | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        staff_sign_in_elsewhere: bool = False,
    ) -> None:
        """``staff_sign_in_elsewhere``: an identity provider signs staff in (CASEGRAPH_OIDC_ISSUER),
        so a sign-in link asked for with a staff member's address is not sent: a mail telling
        them to use their organisation's sign-in is (services/sign_in.py)."""
        super().__init__(interval=interval, clock=clock, max_attempts=max_attempts)
        self.transport = transport
        self.renderer = renderer
        self.links = links
        self.reply = reply
        self.staff_sign_in_elsewhere = staff_sign_in_elsewhere

    async def run_once(self) -> Pass:
        now = self._clock()
        tally = Tally()
        for row in await self.due(now):
            if await self.claim(row, now):
                tally.count(await self._send(row["id"], row["attempts"] + 1))
        result = tally.result()
        log_pass(log, "Mail", result, delivered="sent")
        return result

    async def _send(self, delivery_id: object, attempts: int) -> DeliveryStatus:
        row = await MailDelivery.get(id=delivery_id)
        template = row.template
        # Decided when sending, not when asked for: asking looks up nobody (no account oracle).
        if template == SIGN_IN_TEMPLATE and self.staff_sign_in_elsewhere and await signs_in_elsewhere(row.recipient):
            template = STAFF_SIGN_IN_TEMPLATE
        mail = Mail(
            delivery_id=str(row.id),
            event_sequence=row.event_sequence,
            case_id=str(row.case_id) if row.case_id is not None else None,
            recipient=row.recipient,
            template=template,
            locale=row.locale,
            facts=row.facts,
        )
        error: str | None = None
        permanent = False
        try:
            message = self.renderer.render(mail, await self._extras(mail, row.user_id), now=self._clock())
            await self.transport.send(message, mail.recipient)
        except SendFailure as failure:
            error, permanent = str(failure), failure.permanent
        except (CatalogError, TemplateError, KeyError, ValueError) as broken:
            # An agency's template or catalogue is wrong: retried, so fixing it sends the mail.
            error = f"rendering {mail.template} ({mail.locale}): {type(broken).__name__}: {broken}"
            log.error("Mail %s not rendered: %s", mail.delivery_id, error)
        now = self._clock()
        if error is None:
            outcome = DeliveryStatus.DELIVERED
            changes: dict[str, object] = {"delivered_at": now, "last_error": None}
        elif permanent or attempts >= self.max_attempts:
            outcome = DeliveryStatus.FAILED
            changes = {"last_error": error[:ERROR_LIMIT]}
            # Kept, not lost: an operator lists it with `casegraph mail failed` and re-queues it.
            log.warning("Mail %s (%s) gave up after %d attempts: %s", mail.delivery_id, mail.template, attempts, error)
        else:
            outcome = DeliveryStatus.PENDING
            changes = {"last_error": error[:ERROR_LIMIT], "next_attempt_at": now + backoff(attempts)}
        await MailDelivery.filter(id=row.id, attempts=attempts).update(status=outcome, **changes)
        return outcome

    async def _extras(self, mail: Mail, user_id: str | None) -> Extras:
        number = str(mail.facts.get("number", ""))
        language = self.renderer.catalogs.choose(mail.locale)
        if mail.template == STAFF_SIGN_IN_TEMPLATE:
            return Extras(case_url="", desk_url=f"{self.links.public_url}/")
        if mail.template == SIGN_IN_TEMPLATE or mail.case_id is None:
            # About no case: the link is all the mail carries (its secret derived, never stored).
            return Extras(case_url="", sign_in_url=self.links.sign_in(str(mail.facts.get("link_id", "")), language))
        unsubscribe = self.links.unsubscribe(user_id, language) if user_id is not None else None
        if mail.template == NOTIFICATION:
            # Staff: their dashboard, and no reply address (intake takes replies from requesters).
            return Extras(case_url=self.links.desk_case(mail.case_id), unsubscribe_url=unsubscribe)
        question = None
        if mail.template == RequesterMail.QUESTION.value:
            # The question is the public comment the REQUEST_INFO event wrote.
            comment = await Comment.filter(case_id=mail.case_id, event_sequence=mail.event_sequence).first()
            question = comment.body if comment is not None else None
        # A reply to a resolved case, filed as a new request: the resolved case is where the
        # requester accepts or rejects its solution (services/email_intake.py).
        follows = mail.facts.get("follows_case_id") if mail.facts.get("follows_status") == "RESOLVED" else None
        return Extras(
            case_url=self.links.case(mail.case_id),
            follows_url=self.links.case(str(follows)) if follows else None,
            reply_address=self.reply.address(case_id=mail.case_id, number=number) if self.reply else None,
            reply_token=self.reply.token(case_id=mail.case_id, number=number) if self.reply else None,
            unsubscribe_url=unsubscribe,
            question=question,
        )
