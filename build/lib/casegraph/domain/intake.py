"""Intake rules: the fields a case type or template requires before a case may be submitted.

Pure: standard library only. Drafts may be incomplete; the fields are checked when the case is
submitted (``createCase`` with ``submit: true``, or ``submitCase``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Final

from casegraph.domain.errors import validation_failed


class CaseField(str, Enum):
    """A case field a case type or template can make mandatory at submission."""

    DESCRIPTION = "DESCRIPTION"
    CONTACT_EMAIL = "CONTACT_EMAIL"
    CONTACT_PHONE = "CONTACT_PHONE"
    LOCATION = "LOCATION"


# The input field each requirement is reported against (the names of createCase/updateCase).
INPUT_NAMES: Final[Mapping[CaseField, str]] = {
    CaseField.DESCRIPTION: "description",
    CaseField.CONTACT_EMAIL: "contactEmail",
    CaseField.CONTACT_PHONE: "contactPhone",
    CaseField.LOCATION: "location",
}


@dataclass(frozen=True)
class IntakeValues:
    """What a case holds of the fields that can be required.

    ``description_skeleton`` is the template's description: a description still equal to it
    was never filled in, so it does not count as given.
    """

    description: str | None
    contact_email: str | None
    contact_phone: str | None
    has_location: bool
    description_skeleton: str | None = None

    def has(self, field: CaseField) -> bool:
        if field is CaseField.DESCRIPTION:
            text = (self.description or "").strip()
            return bool(text) and text != (self.description_skeleton or "").strip()
        if field is CaseField.CONTACT_EMAIL:
            return bool(self.contact_email)
        if field is CaseField.CONTACT_PHONE:
            return bool(self.contact_phone)
        return self.has_location


def normalize(fields: Iterable[CaseField | str]) -> tuple[CaseField, ...]:
    """Deduplicated, in declaration order (so messages and listings are stable)."""
    wanted = {CaseField(f) for f in fields}
    return tuple(f for f in CaseField if f in wanted)


def missing_fields(required: Iterable[CaseField | str], values: IntakeValues) -> tuple[CaseField, ...]:
    return tuple(f for f in normalize(required) if not values.has(f))


def require_complete(required: Iterable[CaseField | str], values: IntakeValues) -> None:
    """Refuse with VALIDATION_FAILED naming the first missing field (the message names all)."""
    missing = missing_fields(required, values)
    if missing:
        names = ", ".join(INPUT_NAMES[f] for f in missing)
        raise validation_failed(
            INPUT_NAMES[missing[0]], f"This case type requires {names} before the case is submitted."
        )
