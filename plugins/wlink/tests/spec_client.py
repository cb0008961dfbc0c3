"""A wlink client written from the vendor's public documents only (no brokerport).

It knows the spec's paths and the README's signing rule, nothing of the
plugin: the tests point it at the sandbox with only the two base URLs and the
credentials the sandbox prints, to show the sandbox speaks the vendor's
protocol (and not merely brokerport's idea of it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any
from urllib.parse import quote, unquote

import aiohttp
import yarl


def _canonical(query: str) -> str:
    pairs = []
    for part in filter(None, query.split("&")):
        key, _, value = part.partition("=")
        if value:
            pairs.append((unquote(key), unquote(value)))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


class SpecClient:
    """``await call(server, method, path, query=[(k, v)...], body={...}, auth=...)``.

    ``auth``: ``"public"``, ``"signed"`` or ``"bearer"``. Returns (status, JSON).
    """

    def __init__(self, urls: dict[str, str], credentials: dict[str, str]) -> None:
        self.urls = urls
        self.creds = credentials
        self.token: str | None = None
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SpecClient:
        self.session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.session is not None
        await self.session.close()

    def sign(self, method: str, path: str, query: str, body: bytes) -> dict[str, str]:
        key, ts, nonce = self.creds["api_key"], str(int(time.time() * 1000)), str(uuid.uuid4())
        digest = hashlib.sha256(body if method == "POST" else b"").hexdigest()
        text = "\n".join((method, path, _canonical(query), key, ts, nonce, digest))
        sig = hmac.new(self.creds["api_secret"].encode(), text.encode(), hashlib.sha256)
        return {
            "X-Api-Key": key,
            "X-Timestamp": ts,
            "X-Nonce": nonce,
            "X-Signature": sig.hexdigest(),
        }

    async def login(self) -> str:
        status, answer = await self.call(
            "client",
            "POST",
            "/v1/auth/account/login",
            body={"email": self.creds["email"], "password": self.creds["password"]},
        )
        assert status == 200, answer
        self.token = str(answer["token"])
        return self.token

    async def call(
        self,
        server: str,
        method: str,
        path: str,
        *,
        query: list[tuple[str, Any]] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        auth: str = "public",
    ) -> tuple[int, Any]:
        assert self.session is not None
        text = "&".join(
            f"{quote(str(k), safe='')}={quote(_text(v), safe='')}" for k, v in query or ()
        )
        data = json.dumps(body).encode() if method == "POST" and body is not None else b""
        sent = dict(headers or {})
        if method == "POST":
            sent["Content-Type"] = "application/json"
        if auth == "signed":
            sent.update(self.sign(method, path, text, data))
        elif auth == "bearer":
            sent["Authorization"] = f"Bearer {self.token or await self.login()}"
        url = yarl.URL(self.urls[server] + path + (f"?{text}" if text else ""), encoded=True)
        async with self.session.request(method, url, data=data or None, headers=sent) as resp:
            raw = await resp.read()
            return resp.status, json.loads(raw) if raw else None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
