"""Response bodies as JSON bytes: orjson, which encodes a page of cases faster than the standard library.

orjson refuses what JSON cannot say exactly (integers beyond 64 bits, keys that are not
strings); those bodies — a client's own JSON scalar, say — fall back to the standard encoder,
so every body that was encodable still is.
"""

from __future__ import annotations

import json

import orjson


def encode_body(data: object) -> bytes:
    try:
        return orjson.dumps(data)
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(data, separators=(",", ":")).encode()
