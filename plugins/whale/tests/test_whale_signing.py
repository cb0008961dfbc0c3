"""The gateway signature, exactly as the vendor-docs README describes it."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from brokerport.signing import PreparedRequest
from brokerport.types import Secret
from brokerport_whale.adapter import WhaleSigner
from whale_wire import ok

#: vendor-docs README, WhaleAPI: the worked example
EXAMPLE = "2a15b86b39d5f73ce14841af0daf9e02e57668d902aa20f97a97c2bd7bcf9d6d"


def _signer(token: str | None = "tok1") -> WhaleSigner:
    return WhaleSigner(Secret("appkey1"), Secret("secret1"), Secret(token) if token else None, "")


def _reference(
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: bytes | None,
    secret: str = "secret1",
) -> str:
    """The README's five steps, written out independently of the plugin."""
    names = ";".join(headers)
    values = "".join(f"{k}:{v}\n" for k, v in headers.items())
    s = f"{method}|{path}|{query}|{values}|{names}|"
    if body is not None:
        s += hashlib.sha1(body).hexdigest()
    to_sign = "HMAC-SHA256|" + hashlib.sha1(s.encode()).hexdigest()
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


def test_readme_worked_example() -> None:
    req = PreparedRequest(
        "POST", "", "/v1/whaleapi/trade/order", "", {}, b'{"side":"Buy","symbol":"700.HK"}'
    )
    _signer().sign(req, 1795274684.9)  # whole seconds: the fraction is dropped
    assert req.headers["X-Timestamp"] == "1795274684"
    assert req.headers["Authorization"] == "tok1"  # raw, no "Bearer"
    assert req.headers["X-Api-Key"] == "appkey1"
    assert req.headers["X-Api-Signature"] == (
        f"HMAC-SHA256 SignedHeaders=authorization;x-api-key;x-timestamp, Signature={EXAMPLE}"
    )
    assert (
        _reference(
            "POST",
            "/v1/whaleapi/trade/order",
            "",
            {"authorization": "tok1", "x-api-key": "appkey1", "x-timestamp": "1795274684"},
            b'{"side":"Buy","symbol":"700.HK"}',
        )
        == EXAMPLE
    )


def test_without_token_signs_key_and_timestamp_only() -> None:
    req = PreparedRequest("GET", "", "/v1/whaleapi/ipo/list")
    _signer(None).sign(req, 100.0)
    assert "Authorization" not in req.headers
    expected = _reference(
        "GET", "/v1/whaleapi/ipo/list", "", {"x-api-key": "appkey1", "x-timestamp": "100"}, None
    )
    assert req.headers["X-Api-Signature"].endswith(
        f"SignedHeaders=x-api-key;x-timestamp, Signature={expected}"
    )


async def test_query_signed_exactly_as_sent_and_body_on_delete(
    mock_client: Callable[..., Any],
) -> None:
    client, transport = mock_client(lambda r: ok())
    async with client:
        await client.call("trade.order_today", account_no="A 1/é", symbol="700.HK")
        await client.call("portfolio.withdraw_card_delete", id="7", account_no="A001")
    get, delete = transport.requests
    assert get.query == "symbol=700.HK&account_no=A%201%2F%C3%A9"
    assert delete.method == "DELETE" and delete.body == b'{"id":"7","account_no":"A001"}'
    for req in (get, delete):
        headers = {
            "authorization": "tok1",
            "x-api-key": "appkey1",
            "x-timestamp": req.headers["X-Timestamp"],
        }
        sig = _reference(req.method, req.path, req.query, headers, req.body)
        assert req.headers["X-Api-Signature"].endswith(f"Signature={sig}")


async def test_passthrough_headers_per_client(mock_client: Callable[..., Any]) -> None:
    client, transport = mock_client(
        lambda r: ok(), accept_language="zh-HK", platform="ios", app_version="3.2.1"
    )
    async with client:
        await client.call("ipo.list")
    headers = transport.requests[0].headers
    assert headers["accept-language"] == "zh-HK"
    assert headers["x-platform"] == "ios"
    assert headers["x-app-version"] == "3.2.1"
