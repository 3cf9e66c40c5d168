"""The request id: the client's ``X-Request-ID`` when it is safe to store and log, else a new one."""

from __future__ import annotations

import re
import uuid
from typing import Final

HEADER: Final = "X-Request-ID"
# Fits case_events.request_id (64 characters) and cannot forge log lines or inject markup.
ACCEPTED: Final = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def accept_or_generate(given: str | None) -> str:
    if given is not None and ACCEPTED.fullmatch(given):
        return given
    return uuid.uuid4().hex
