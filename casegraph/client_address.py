"""Which address a request came from, for rate limits and logs.

Behind the proxies named in ``CASEGRAPH_TRUSTED_PROXIES``, uvicorn's ``ProxyHeadersMiddleware``
(installed outermost by ``casegraph.app``) has already replaced the scope's client with the one
``X-Forwarded-For`` names: several header lines read as one list, in order (RFC 9110, section
5.3), and the right-most hop that is not a trusted proxy wins, so a client's own line cannot
choose its address. From any other peer the header is ignored: a client talking to us directly
cannot pick its own address and escape its per-IP limit.
"""

from __future__ import annotations

from collections.abc import Sequence

UNKNOWN = "unknown"


def client_address(client: Sequence[object] | None) -> str:
    """The scope's client host (``scope["client"]``, ``connection.client``), or ``unknown``."""
    if not client:
        return UNKNOWN
    host = client[0]
    return host if isinstance(host, str) and host else UNKNOWN
