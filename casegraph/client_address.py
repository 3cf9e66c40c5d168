"""Which address a request came from, for rate limits and logs.

``X-Forwarded-For`` is only believed when the direct peer is a configured proxy: otherwise any
client could pick its own address and escape its per-IP limit.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Protocol


class MultiHeaders(Protocol):
    """Request headers that keep repeated lines apart (Starlette's ``Headers``)."""

    def getlist(self, key: str) -> list[str]: ...


def _in(address: str, proxies: Sequence[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for proxy in proxies:
        try:
            if ip in ipaddress.ip_network(proxy, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_address(peer: str | None, headers: MultiHeaders, trusted_proxies: Sequence[str]) -> str:
    """The client's address: the peer, or — behind trusted proxies — the last untrusted hop."""
    address = peer or "unknown"
    if not trusted_proxies or not _in(address, trusted_proxies):
        return address
    # Several header lines are one list, in order (RFC 9110, section 5.3): a client's own line
    # comes first and the proxy's appended line last, so reading only the first would let the
    # client name any address it likes.
    hops = [hop.strip() for line in headers.getlist("x-forwarded-for") for hop in line.split(",") if hop.strip()]
    # Walk from the nearest hop outwards; the first one that is not our proxy is the client.
    for hop in reversed(hops):
        if not _in(hop, trusted_proxies):
            return hop if _valid(hop) else address
    return hops[0] if hops and _valid(hops[0]) else address


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True
