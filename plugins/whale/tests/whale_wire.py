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
