"""Wire helpers for the WhaleAPI tests (imported by name: the tests dir is on sys.path)."""

from __future__ import annotations

import json
from typing import Any

from brokerport.transport import RawResponse


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> RawResponse:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return RawResponse(status, headers or {}, data)


def ok(data: Any = None) -> RawResponse:
    return answer({"code": 0, "message": "success", "data": {} if data is None else data})


def faithful_headers(
    method: str,
    path: str,
    query: str,
    body: bytes | None,
    key: str,
    secret: str,
    token: str,
    ts: int,
) -> dict[str, str]:
    """The gateway's public signing scheme, written from the vendor-docs README alone."""
    import hashlib
    import hmac

    signed = f"authorization:{token}\nx-api-key:{key}\nx-timestamp:{ts}\n"
    s = f"{method}|{path}|{query}|{signed}|authorization;x-api-key;x-timestamp|"
    if body:
        s += hashlib.sha1(body).hexdigest()
    to_sign = "HMAC-SHA256|" + hashlib.sha1(s.encode()).hexdigest()
    sig = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    return {
        "X-Api-Key": key,
        "Authorization": token,
        "X-Timestamp": str(ts),
        "Content-Type": "application/json; charset=utf-8",
        "X-Api-Signature": f"HMAC-SHA256 SignedHeaders=authorization;x-api-key;x-timestamp, "
        f"Signature={sig}",
    }
