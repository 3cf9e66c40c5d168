"""The shape a client message must have before a protocol handler acts on it.

Strawberry's handlers index into messages as if they were well formed: valid JSON that is not
an object, or an operation whose payload is not an object, raised inside the handler (a
traceback in the log, the socket torn down without a reason). Both protocols check messages
here first and close with 4400 "bad request" and the reason.
"""

from __future__ import annotations

from typing import Final

BAD_MESSAGE: Final = 4400


def message_problem(message: object, *, start: str, with_id: tuple[str, ...]) -> str | None:
    """Why ``message`` cannot be acted on, or None.

    ``start`` is the type that runs an operation (``subscribe``, or legacy ``start``);
    ``with_id`` the types that name one.
    """
    if not isinstance(message, dict):
        return "A message must be a JSON object."
    kind = message.get("type")
    if not isinstance(kind, str):
        return "A message needs a string 'type'."
    if kind in with_id and not isinstance(message.get("id"), str):
        return f"A {kind} message needs a string 'id'."
    if kind == start:
        payload = message.get("payload")
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return f"A {kind} message needs a payload with a string 'query'."
        if not isinstance(payload.get("variables") or {}, dict):
            return "'variables' must be an object."
        if not isinstance(payload.get("operationName") or "", str):
            return "'operationName' must be a string."
    return None
