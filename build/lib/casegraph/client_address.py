"""Which address a request came from, for rate limits and logs.

``X-Forwarded-For`` is only believed when the direct peer is a configured proxy: otherwise any
client could pick its own address and escape its per-IP limit.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence


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


def client_address(peer: str | None, headers: Mapping[str, str], trusted_proxies: Sequence[str]) -> str:
    """The client's address: the peer, or — behind trusted proxies — the last untrusted hop."""
    address = peer or "unknown"
    if not trusted_proxies or not _in(address, trusted_proxies):
        return address
    forwarded = headers.get("x-forwarded-for", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
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
