"""Per-case reply tokens: the only way an inbound mail is added to an existing case (issue 14, §3).

A token is the case number and an HMAC-SHA256 of the case id under the intake secret, cut to 96
bits: ``CS0001042-3f9c0a…``. Casegraph shows it to staff (``Case.replyToken``/``replyAddress``)
for the mails they send; a reply carries it back in the address it is sent to
(``cases+CS0001042-3f9c0a…@city.example``) or in its subject. The case number alone, which
anyone can read off a letter or guess, and the ``From`` line, which anyone can write, prove
nothing. Nothing is stored: the token is recomputed, so changing the intake secret retires every
token given out before.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Final

from casegraph.settings import Settings

MAC_HEX_DIGITS: Final = 24
TOKEN: Final = re.compile(rf"(?<![0-9A-Za-z])(CS\d{{7}})-([0-9a-f]{{{MAC_HEX_DIGITS}}})(?![0-9A-Za-z])", re.IGNORECASE)


@dataclass(frozen=True)
class ReplyToken:
    number: str
    mac: str


@dataclass(frozen=True)
class ReplyAddresses:
    secret: str
    # The intake mailbox (CASEGRAPH_INTAKE_ADDRESS), e.g. ``cases@city.example``; None: tokens only.
    mailbox: str | None = None

    def token(self, *, case_id: str, number: str) -> str:
        return f"{number}-{self._mac(case_id)}"

    def address(self, *, case_id: str, number: str) -> str | None:
        """The mailbox with the token as its sub-address (``local+token@domain``)."""
        if self.mailbox is None:
            return None
        local, _, domain = self.mailbox.rpartition("@")
        return f"{local}+{self.token(case_id=case_id, number=number)}@{domain}"

    def matches(self, token: ReplyToken, *, case_id: str) -> bool:
        return hmac.compare_digest(token.mac.lower(), self._mac(case_id))

    def _mac(self, case_id: str) -> str:
        digest = hmac.new(self.secret.encode(), b"casegraph-reply\x00" + case_id.encode(), hashlib.sha256)
        return digest.hexdigest()[:MAC_HEX_DIGITS]


def reply_addresses(settings: Settings) -> ReplyAddresses | None:
    """None while e-mail intake is off (no intake secret): there is nothing to reply to."""
    if settings.intake_secret is None:
        return None
    return ReplyAddresses(secret=settings.intake_secret, mailbox=settings.intake_address)


def tokens_in(texts: list[str]) -> list[ReplyToken]:
    """Every reply token written in the texts (addresses, subject), in order, once each."""
    found: dict[tuple[str, str], ReplyToken] = {}
    for text in texts:
        for number, mac in TOKEN.findall(text):
            token = ReplyToken(number=number.upper(), mac=mac.lower())
            found.setdefault((token.number, token.mac), token)
    return list(found.values())
