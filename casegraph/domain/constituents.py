"""Intake by staff (issue 19): what makes a registration of a caller valid, and the keys that
find a known one again (an e-mail address regardless of case, a phone number by its digits)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from casegraph.domain.errors import validation_failed
from casegraph.domain.validation import clean_email, clean_phone, clean_text

NAME_LIMIT: Final = 200
# Fewer digits name no line anyone could be called back on.
MIN_PHONE_DIGITS: Final = 3
# A search needs this much of a name, an address or a number: shorter prefixes match half the town.
MIN_SEARCH_LENGTH: Final = 2
SEARCH_LIMIT: Final = 20


@dataclass(frozen=True)
class NewConstituent:
    """A caller a member of staff registers: a name, and an e-mail address or a phone number."""

    name: str
    email: str | None
    phone: str | None

    @property
    def phone_digits(self) -> str | None:
        return phone_digits(self.phone) if self.phone is not None else None


def phone_digits(phone: str) -> str:
    """The number's digits alone: "+1 (555) 010-2030" and "1 555 0102030" are one line."""
    return "".join(character for character in phone if character.isascii() and character.isdigit())


def new_constituent(*, name: str | None, email: str | None, phone: str | None) -> NewConstituent:
    """The registration decoded, or a refusal naming the field at fault."""
    cleaned_name = clean_text("name", name, required=True, limit=NAME_LIMIT)
    if cleaned_name is None:  # clean_text refuses a missing required text; this says so to the types
        raise validation_failed("name", "name is required.")
    address = clean_email("email", email)
    number = clean_phone("phone", phone)
    if number is not None and len(phone_digits(number)) < MIN_PHONE_DIGITS:
        raise validation_failed("phone", f"phone must have at least {MIN_PHONE_DIGITS} digits.")
    if address is None and number is None:
        raise validation_failed("email", "Give an e-mail address or a phone number, so the caller can be reached.")
    # Addresses are compared regardless of case everywhere (migration 0012); stored lower-cased,
    # a later sign-in by mailed link or identity provider with any spelling finds this user.
    return NewConstituent(name=cleaned_name, email=address.lower() if address else None, phone=number)


def search_prefix(text: str) -> str | None:
    """What a search box's text is looked up by (lower-cased, trimmed), or None when too short."""
    trimmed = text.strip().lower()
    if len(trimmed) < MIN_SEARCH_LENGTH or len(trimmed) > NAME_LIMIT or "\x00" in trimmed:
        return None
    return trimmed


def prefix_end(prefix: str) -> str:
    """The least text after every text starting with ``prefix``: a prefix is searched as the range
    [prefix, prefix_end) of an index, which both SQLite and PostgreSQL read in order."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)
