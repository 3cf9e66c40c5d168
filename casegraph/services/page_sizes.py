"""Page sizes: what a client may ask for, refused (not silently cut) above the cap.

A client that asks for ``first: 500`` and gets 100 rows cannot tell "there are 100" from "you
were cut"; a refusal naming the argument and the cap tells it what to send instead (api.md
*Limits*: ``first`` is capped at 100, ``Settings.query_limits.max_page_size``).
"""

from __future__ import annotations

from casegraph.domain.errors import DomainError, validation_failed


def over_cap(argument: str, asked: int, cap: int) -> DomainError:
    return validation_failed(argument, f"{argument} may be at most {cap}; {asked} was asked for.")


def checked_page_size(first: int | None, *, cap: int, default: int, argument: str = "first") -> int:
    """``first`` as asked, ``default`` (itself within the cap) when not given; refuses <0 and >cap."""
    if first is None:
        return min(default, cap)
    if first < 0:
        raise validation_failed(argument, f"{argument} must not be negative.")
    if first > cap:
        raise over_cap(argument, first, cap)
    return first
