"""Expected refusals: raised by the domain and services, returned to clients as data."""

from __future__ import annotations

from casegraph.domain.enums import ErrorCode


class DomainError(Exception):
    """A refusal the client should see: a code, a human message and optionally the input field,
    and, where code and field leave the cause open, a ``reason`` word that clients can word in
    their own language (the message is English, for developers)."""

    def __init__(self, code: ErrorCode, message: str, field: str | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.reason = reason

    def __repr__(self) -> str:
        return f"DomainError({self.code.value}, {self.message!r}, field={self.field!r})"


def not_found(what: str = "Case") -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND, f"{what} not found.")


def permission_denied(message: str, field: str | None = None) -> DomainError:
    return DomainError(ErrorCode.PERMISSION_DENIED, message, field)


def validation_failed(field: str, message: str, reason: str | None = None) -> DomainError:
    return DomainError(ErrorCode.VALIDATION_FAILED, message, field, reason)


def transition_not_allowed(message: str) -> DomainError:
    return DomainError(ErrorCode.TRANSITION_NOT_ALLOWED, message)


def version_conflict(expected: int, actual: int) -> DomainError:
    return DomainError(
        ErrorCode.VERSION_CONFLICT,
        f"The case is at version {actual}, not {expected}; reload it and try again.",
        "expectedVersion",
    )
