"""Answers read inside the call (one rule), and auth sub-requests through the pipeline."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from brokerport import hookimpl
from brokerport import models as m
from brokerport.client import Client
from brokerport.errors import DecodeError, InvalidRequest, NotFound, UnknownOutcome
from brokerport.pipeline import Call, RetryPolicy
from brokerport.profile import Profile
from brokerport.signing import PreparedRequest
from brokerport.transport import MockTransport, RawResponse
from brokerport_okx import OkxAdapter
from brokerport_okx.sandbox import OkxSandbox

KEYS = {"api_key": "k", "secret_key": "s", "passphrase": "p"}


def _client(handler: Any, **options: str) -> tuple[Client, MockTransport]:
    transport = MockTransport(handler)
    profile = Profile(
        vendor="okx", base_url="http://okx.invalid", credentials=KEYS, options=options
    )
    return Client(OkxAdapter, profile, transport=transport, retry=RetryPolicy()), transport


def _answer(data: Any, code: str = "0", status: int = 200) -> RawResponse:
    return RawResponse(status, {}, json.dumps({"code": code, "msg": "", "data": data}).encode())


class Seen:
    def __init__(self) -> None:
        self.endpoints: list[str] = []

    @hookimpl
    def brokerport_before_request(self, call: Call) -> None:
        self.endpoints.append(call.endpoint.name)


async def test_accepted_order_with_empty_answer_is_unknown_outcome() -> None:
    client, transport = _client(lambda r: _answer([]))
    order = m.PlaceOrder(
        instrument="BTC-USDT",
        side="buy",
        order_type="limit",
        quantity=Decimal("1"),
        price=Decimal("2"),
    )
    async with client:
        with pytest.raises(UnknownOutcome) as info:
            await client.trading.place_order(order)
    sent = json.loads(transport.requests[0].body or b"{}")
    assert len(transport.requests) == 1  # a write is never re-sent
    assert info.value.idempotency_key == sent["clOrdId"]
    assert info.value.reconcile_with["clOrdId"] == sent["clOrdId"]
    assert "clOrdId" in info.value.how_to_reconcile


async def test_empty_answer_to_a_read_is_decode_error() -> None:
    client, _ = _client(lambda r: _answer([]))
    async with client:
        with pytest.raises(DecodeError):
            await client.trading.get_order(m.OrderRef(instrument="BTC-USDT", order_id="1"))


async def test_clock_resync_runs_through_the_pipeline_with_the_demo_header() -> None:
    answers = iter([_answer([], "50102", 401), _answer([{"ts": "1700000000000"}]), _answer([])])

    def handler(request: PreparedRequest) -> RawResponse:
        return next(answers)

    client, transport = _client(handler, simulated="1")
    seen = Seen()
    async with client:
        client.hooks.register(seen)
        await client.call("broker.dma.subaccount_info")
        assert client.clock_offset == pytest.approx(1_700_000_000 - client.clock(), abs=5)
    assert seen.endpoints == ["broker.dma.subaccount_info", "public.time"]
    time_request = transport.requests[1]
    assert time_request.path == "/api/v5/public/time"
    assert time_request.headers.get("x-simulated-trading") == "1"  # sign_public
    assert not any(h.lower().startswith("ok-access") for h in time_request.headers)


async def test_token_rotation_runs_through_the_pipeline(
    make_client: Any, sandbox: OkxSandbox
) -> None:
    seen = Seen()
    async with make_client(sandbox.oauth_credentials(), access_token_expires_at="1") as c:
        c.hooks.register(seen)
        with pytest.raises(NotFound):  # reached the server with the new token
            await c.call("trade.get_order", instId="BTC-USDT", clOrdId="none1")
    assert seen.endpoints == ["trade.get_order", "oauth.token"]
    token = sandbox.journal.for_endpoint("oauth.token")[0]
    assert "Authorization" not in token.headers  # public: never signed


async def test_oauth_token_path_option_is_used(make_client: Any, sandbox: OkxSandbox) -> None:
    async with make_client(sandbox.oauth_credentials(), oauth_token_path="/elsewhere/token") as c:
        assert c.pipeline._endpoints["oauth.token"].path == "/elsewhere/token"
        assert c.catalog["oauth.token"].path == "/v5/users/oauth/token"


def test_rate_limit_margin_option() -> None:
    def margin(**options: str) -> float | None:
        profile = Profile(vendor="okx", base_url="http://x", credentials=KEYS, options=options)
        limit = OkxAdapter(profile).endpoint("broker.dma.create_subaccount").rate_limit
        assert limit is not None
        return limit.margin

    assert margin() is None  # none: the core limiter holds each slot until answered
    assert margin(rate_limit_margin="0.05") == 0.05
    assert margin(rate_limit_margin="0") is None
    with pytest.raises(InvalidRequest):
        margin(rate_limit_margin="wide")
