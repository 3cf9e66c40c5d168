"""Input rules shared by every action: trimming, blank text, length limits (lifecycle.md)."""

from __future__ import annotations

import re
import uuid
from typing import Final

from casegraph.domain.errors import validation_failed
from casegraph.domain.priority import LEVELS

TITLE_LIMIT: Final = 200
TEXT_LIMIT: Final = 20_000
CODE_PATTERN: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
EMAIL_PATTERN: Final = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
PHONE_PATTERN: Final = re.compile(r"^[0-9+()./ -]{3,40}$")


def clean_text(field: str, value: str | None, *, required: bool, limit: int = TEXT_LIMIT) -> str | None:
    """Trimmed text, or None when absent and optional; refuses blank-when-required and too long."""
    if value is None:
        if required:
            raise validation_failed(field, f"{field} is required.")
        return None
    # Check the raw length first so a huge payload is refused without copying it around.
    if len(value) > limit + 1000 or len(value.strip()) > limit:
        raise validation_failed(field, f"{field} must be at most {limit} characters.")
    trimmed = value.strip()
    if "\x00" in trimmed:
        raise validation_failed(field, f"{field} must not contain NUL characters.")
    if not trimmed:
        if required:
            raise validation_failed(field, f"{field} must not be blank.")
        return None
    return trimmed


def lookup_key(value: str, limit: int) -> str | None:
    """``value`` as a key to look a stored row up by, or None when no stored key can equal it.

    Longer than its column (``limit``): Tortoise refuses to compare such a value at all; holding
    NUL: PostgreSQL text cannot hold one, so the driver refuses the query. Either way the lookup
    cannot match, and the caller answers as it does for an unknown key.
    """
    if len(value) > limit or "\x00" in value:
        return None
    return value


def courtesy_text(value: object, limit: int) -> str | None:
    """An optional text someone else chose for us (a token's name, a mail's display name).

    Cut to its column rather than refused: it is a courtesy, not input the user can correct.
    Dropped when it is empty or holds NUL (PostgreSQL text cannot store one).
    """
    if not isinstance(value, str) or not value or "\x00" in value:
        return None
    return value[:limit]


def id_number(value: str, maximum: int) -> int | None:
    """A numeric id given as text, or None when it cannot be one: not plain ASCII digits
    (``"²".isdigit()`` holds but ``int("²")`` fails), or above its column's largest value
    (``maximum``; PostgreSQL refuses to compare an INT column with a larger number)."""
    if not (value.isascii() and value.isdigit()) or len(value) > len(str(maximum)):
        return None
    number = int(value)
    return number if number <= maximum else None


def uuid_key(value: str) -> str | None:
    """A UUID id exactly as we issue them (lower case, with hyphens), or None.

    ``uuid.UUID`` also reads braces, ``urn:uuid:`` and upper case, which SQLite would compare as
    different text and PostgreSQL partly refuses; ids are opaque, so other spellings match nothing.
    """
    try:
        canonical = str(uuid.UUID(value))
    except ValueError:
        return None
    return value if value == canonical else None


def clean_title(value: str | None, *, required: bool, field: str = "title") -> str | None:
    return clean_text(field, value, required=required, limit=TITLE_LIMIT)


def clean_level(field: str, value: int | None) -> int | None:
    if value is None:
        return None
    if value not in LEVELS:
        raise validation_failed(field, f"{field} must be 1 (high), 2 (medium) or 3 (low).")
    return value


def clean_code(field: str, value: str) -> str:
    trimmed = value.strip()
    if not CODE_PATTERN.match(trimmed):
        raise validation_failed(
            field, f"{field} must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit."
        )
    return trimmed


def clean_email(field: str, value: str | None) -> str | None:
    cleaned = clean_text(field, value, required=False, limit=320)
    if cleaned is not None and not EMAIL_PATTERN.match(cleaned):
        raise validation_failed(field, f"{field} is not an e-mail address.")
    return cleaned


def clean_phone(field: str, value: str | None) -> str | None:
    cleaned = clean_text(field, value, required=False, limit=40)
    if cleaned is not None and not PHONE_PATTERN.match(cleaned):
        raise validation_failed(field, f"{field} is not a phone number.")
    return cleaned


def clean_rating(value: int) -> int:
    if not 1 <= value <= 5:
        raise validation_failed("rating", "rating must be between 1 and 5.")
    return value


def clean_location(latitude: float | None, longitude: float | None) -> tuple[float, float] | None:
    """Both coordinates (WGS 84 degrees) or neither."""
    if latitude is None and longitude is None:
        return None
    if latitude is None or longitude is None:
        raise validation_failed(
            "latitude" if latitude is None else "longitude", "Give latitude and longitude together."
        )
    if not -90.0 <= latitude <= 90.0:
        raise validation_failed("latitude", "latitude must be between -90 and 90.")
    if not -180.0 <= longitude <= 180.0:
        raise validation_failed("longitude", "longitude must be between -180 and 180.")
    return (latitude, longitude)
