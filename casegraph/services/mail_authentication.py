"""What the mail gateway found about a message's origin: its ``Authentication-Results`` (RFC 8601).

Only headers whose authserv-id is the configured gateway's count: anyone can write an
``Authentication-Results`` line into a mail, and a gateway removes (or never trusts) lines
claiming its own id that arrived from outside (RFC 8601, section 5). When a gateway is
configured and its header is missing, the mail did not come through it: refused too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from casegraph.domain.errors import DomainError, permission_denied

COMMENT: Final = re.compile(r"\([^()]*\)")
RESULT: Final = re.compile(r"^\s*(dkim|dmarc)\s*=\s*([a-z]+)", re.IGNORECASE)
FAILED: Final = frozenset({"fail", "permerror"})


def results_of(headers: Sequence[str], authserv_id: str) -> list[tuple[str, str]] | None:
    """(method, result) pairs for DKIM and DMARC from the gateway's headers; None without one."""
    found: list[tuple[str, str]] | None = None
    for header in headers:
        text = COMMENT.sub(" ", header)
        first, *clauses = text.split(";")
        names = first.split()
        if not names or names[0].lower() != authserv_id.lower():
            continue
        found = found if found is not None else []
        for clause in clauses:
            match = RESULT.match(clause)
            if match:
                found.append((match.group(1).lower(), match.group(2).lower()))
    return found


def refusal(headers: Sequence[str], authserv_id: str | None) -> DomainError | None:
    """Why the gateway's verdict refuses this mail, or None (always None when none is configured)."""
    if authserv_id is None:
        return None
    results = results_of(headers, authserv_id)
    if results is None:
        return permission_denied("The message carries no Authentication-Results of the mail gateway.", "message")
    dmarc = [result for method, result in results if method == "dmarc"]
    dkim = [result for method, result in results if method == "dkim"]
    if any(result in FAILED for result in dmarc):
        return permission_denied("The message failed DMARC at the mail gateway.", "message")
    # One valid signature is enough; failures without one mean the content or sender was forged.
    if "pass" not in dkim and any(result in FAILED for result in dkim):
        return permission_denied("The message failed DKIM at the mail gateway.", "message")
    return None
